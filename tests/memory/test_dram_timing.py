"""Recorded command traces obey every JEDEC timing constraint: a checker independent of the scheduler.

The checker replays the CL face's command trace ``(cycle, command, pseudo_channel, bank, row)`` with
its own bank state machines and the timing table in cycles, and reports every violated constraint.
It shares no code with the controller (only ``cfg.cycles()`` for the numbers).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from hwsim.core import Simulation
from hwsim.memory.dram import DramSystem, load_preset

PRESETS = ["hbm2e", "hbm3", "ddr4", "lpddr5"]


def check_trace(cfg, commands) -> list[str]:
    """All timing-constraint violations in a command trace (empty list: the trace is legal)."""
    c = cfg.cycles()
    bl = c.burst
    bpg = cfg.banks_per_group
    npc = cfg.pseudo_channels
    errors: list[str] = []

    def err(msg):
        if len(errors) < 50:
            errors.append(msg)

    # --- command bus(es): per channel ---------------------------------------------------------
    row_cmds = {"ACT", "PRE", "PREA", "REF"}
    bus = defaultdict(int)
    for t, cmd, pc, _b, _r in commands:
        kind = ("row" if cmd in row_cmds else "col") if cfg.separate_row_column_bus else "cmd"
        bus[(pc // npc, t, kind)] += 1
    for (ch, t, kind), n in bus.items():
        if n > 1:
            err(f"channel {ch} cycle {t}: {n} commands on the {kind} bus")

    by_pc = defaultdict(list)
    for cmd in sorted(commands, key=lambda x: x[0]):
        by_pc[cmd[2]].append(cmd)
    for pc, cmds in by_pc.items():
        open_row = {}  # bank -> row
        last_act = {}  # bank -> cycle
        ready_act = defaultdict(int)  # bank -> earliest ACT (tRP after a precharge, tRC, tRFC)
        last_rd = {}
        last_wr = {}
        acts: list[tuple[int, int]] = []  # (cycle, bank group)
        cols: list[tuple[int, str, int]] = []  # (cycle, RD/WR, bank group)
        bursts: list[tuple[int, int]] = []
        last_ref = None
        refs = 0

        def precharge_ok(t, b, what):
            if last_act.get(b) is not None and t < last_act[b] + c.RAS:
                err(f"pc {pc} bank {b}: {what} at {t} < ACT {last_act[b]} + tRAS {c.RAS}")
            if b in last_rd and t < last_rd[b] + c.RTP:
                err(f"pc {pc} bank {b}: {what} at {t} < RD {last_rd[b]} + tRTP {c.RTP}")
            if b in last_wr and t < last_wr[b] + c.CWL + bl + c.WR:
                err(f"pc {pc} bank {b}: {what} at {t} < WR {last_wr[b]} + tCWL + burst + tWR")

        for t, cmd, _pc, b, row in cmds:
            if cmd == "ACT":
                if b in open_row:
                    err(f"pc {pc} bank {b}: ACT at {t} while row {open_row[b]} is open")
                if t < ready_act[b]:
                    err(f"pc {pc} bank {b}: ACT at {t} before {ready_act[b]} (tRP/tRC/tRFC)")
                g = b // bpg
                for t0, g0 in acts[-8:]:
                    need = c.RRD_L if g0 == g else c.RRD_S
                    if t - t0 < need:
                        err(f"pc {pc}: ACT at {t} only {t - t0} after ACT at {t0} (tRRD {need})")
                if len(acts) >= 4 and t - acts[-4][0] < c.FAW:
                    err(f"pc {pc}: 5 ACTs within tFAW={c.FAW}: {[a for a, _ in acts[-4:]]} + {t}")
                acts.append((t, g))
                open_row[b] = row
                last_act[b] = t
                ready_act[b] = max(ready_act[b], t + c.RC)
                last_rd.pop(b, None)
                last_wr.pop(b, None)
            elif cmd in ("RD", "RDA", "WR", "WRA"):
                if open_row.get(b) != row:
                    err(f"pc {pc} bank {b}: {cmd} to row {row} at {t}, open row {open_row.get(b)}")
                    continue
                if t < last_act[b] + c.RCD:
                    err(f"pc {pc} bank {b}: {cmd} at {t} < ACT {last_act[b]} + tRCD {c.RCD}")
                is_rd = cmd.startswith("RD")
                g = b // bpg
                for t0, k0, g0 in cols[-8:]:
                    same = g0 == g
                    if k0 == "RD" and is_rd or k0 == "WR" and not is_rd:
                        need = c.CCD_L if same else c.CCD_S
                    elif k0 == "RD":  # RD -> WR
                        need = c.RTW
                    else:  # WR -> RD
                        need = c.CWL + bl + (c.WTR_L if same else c.WTR_S)
                    if t - t0 < need:
                        err(f"pc {pc}: {cmd} at {t} only {t - t0} after {k0} at {t0} (need {need})")
                start = t + (c.CL if is_rd else c.CWL)
                for s0, e0 in bursts[-4:]:
                    if start < e0 and s0 < start + bl:
                        err(f"pc {pc}: data burst [{start}, {start + bl}) overlaps [{s0}, {e0})")
                bursts.append((start, start + bl))
                cols.append((t, "RD" if is_rd else "WR", g))
                if is_rd:
                    last_rd[b] = t
                else:
                    last_wr[b] = t
                if cmd in ("RDA", "WRA"):  # auto-precharge when tRAS and tRTP / tWR allow
                    tp = last_act[b] + c.RAS
                    tp = max(tp, t + c.RTP) if is_rd else max(tp, t + c.CWL + bl + c.WR)
                    del open_row[b]
                    ready_act[b] = max(ready_act[b], tp + c.RP)
            elif cmd == "PRE":
                if b not in open_row:
                    err(f"pc {pc} bank {b}: PRE at {t} of a closed bank")
                precharge_ok(t, b, "PRE")
                open_row.pop(b, None)
                ready_act[b] = max(ready_act[b], t + c.RP)
            elif cmd == "PREA":
                for bank in list(open_row):
                    precharge_ok(t, bank, "PREA")
                    ready_act[bank] = max(ready_act[bank], t + c.RP)
                open_row.clear()
            elif cmd == "REF":
                if open_row:
                    err(f"pc {pc}: REF at {t} with open banks {sorted(open_row)}")
                for bank, ready in ready_act.items():
                    if t < ready and not (last_ref is not None and ready == last_ref + c.RFC):
                        err(f"pc {pc}: REF at {t} before bank {bank} is ready ({ready}: tRP/tRC)")
                if last_ref is not None and t < last_ref + c.RFC:
                    err(f"pc {pc}: REF at {t} < REF {last_ref} + tRFC")
                refs += 1
                # refresh k is due at k * tREFI and must not be late by more than draining the banks
                slack = c.RC + c.CWL + bl + c.WR + c.RP + c.RAS
                if not refs * c.REFI <= t <= refs * c.REFI + slack:
                    err(f"pc {pc}: REF #{refs} at {t}, due at {refs * c.REFI} (slack {slack})")
                last_ref = t
                for bank in range(cfg.banks):
                    ready_act[bank] = max(ready_act[bank], t + c.RFC)
            else:
                err(f"unknown command {cmd!r}")
    return errors


def run_random(cfg, n, seed=0, read_fraction=0.5, outstanding=64, local_rows=None):
    """n random requests (reads and writes) with ``outstanding`` in flight; ``local_rows`` limits the
    rows used (more row hits and conflicts); returns (system, sim, completion count per request)."""
    sim = Simulation()
    dram = DramSystem(sim, cfg, record_commands=True)
    rng = np.random.default_rng(seed)
    tb = dram.transaction_bytes
    if local_rows is None:
        addrs = (rng.integers(0, cfg.capacity_bytes // tb, n) * tb).tolist()
    else:  # every field random, but only local_rows rows per bank
        f = cfg.field_count
        cols = [rng.integers(0, f(k), n) for k in ("st", "ch", "pc", "bg", "ba")]
        rows = rng.integers(0, local_rows, n)
        cbs = rng.integers(0, f("co"), n)
        addrs = [dram.mapping.encode(*(int(x[i]) for x in cols), int(rows[i]), int(cbs[i])) for i in range(n)]
    writes = (rng.random(n) >= read_fraction).tolist()
    done = [0] * n
    nxt = [0]

    def issue():
        i = nxt[0]
        if i < n:
            nxt[0] += 1
            dram.request(addrs[i], writes[i]).callbacks.append(lambda ev, i=i: finish(i))

    def finish(i):
        done[i] += 1
        issue()

    for _ in range(outstanding):
        issue()
    sim.run()
    return dram, sim, done


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("page_policy", ["open", "closed"])
def test_random_mixed_traffic_trace_is_legal(preset, page_policy):
    cfg = load_preset(preset, page_policy=page_policy)
    dram, sim, done = run_random(cfg, 3000, seed=1, local_rows=4)
    assert done == [1] * 3000
    s = dram.stats
    assert s["row_hits"] > 0 and s["row_conflicts" if page_policy == "open" else "row_misses"] > 0
    assert check_trace(cfg, dram.commands) == []


@pytest.mark.parametrize("preset", PRESETS)
def test_trace_with_refresh_is_legal(preset):
    """Long enough to include several refreshes (tREFI) on every pseudo channel."""
    cfg = load_preset(preset)
    c = cfg.cycles()
    n = 4000 if preset == "ddr4" else 6000
    dram, sim, _ = run_random(cfg, n, seed=2, read_fraction=0.7, outstanding=16, local_rows=2)
    refs = [x for x in dram.commands if x[1] == "REF"]
    assert sim.now_ps // cfg.period_ps > 2 * c.REFI
    assert len(refs) >= 2 * cfg.total_pseudo_channels
    assert check_trace(cfg, dram.commands) == []


def test_checker_catches_violations():
    """The checker is not vacuous: it flags hand-made illegal traces."""
    cfg = load_preset("ddr4")
    c = cfg.cycles()
    assert check_trace(cfg, [(0, "ACT", 0, 0, 5), (c.RCD - 1, "RD", 0, 0, 5)])  # tRCD
    assert check_trace(cfg, [(0, "ACT", 0, 0, 5), (c.RCD, "RD", 0, 0, 6)])  # wrong row
    acts = [(i * c.RRD_L, "ACT", 0, i * cfg.banks_per_group % cfg.banks + i // 4, 1) for i in range(5)]
    assert any("tFAW" in e for e in check_trace(cfg, acts))
    assert check_trace(cfg, [(0, "ACT", 0, 0, 1), (c.RAS - 1, "PRE", 0, 0, -1)])  # tRAS
    assert check_trace(cfg, [(0, "ACT", 0, 0, 1), (0, "ACT", 0, 4, 1)])  # bus + tRRD
    ok = [(0, "ACT", 0, 0, 1), (c.RCD, "RD", 0, 0, 1), (c.RCD + c.CCD_L, "RD", 0, 0, 1)]
    assert check_trace(cfg, ok) == []
