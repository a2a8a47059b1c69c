"""Validation of the DRAM/HBM CL face against numbers computed here from the preset file's raw values.

Every expected value is derived in this file from ``hwsim/memory/data/dram_presets.yaml`` as written
(timings in ns / ck, data rate, widths, the address-mapping string), with the conversion rule the
file's header states: integer cycles = ``max(ck, ceil(ns * 1000 / period_ps))`` with
``period_ps = round(tck_ns * 1000)``. Addresses are built by an encoder written here from the mapping
string. The code under test is only run (``DramSystem``, ``load_preset``), never asked for a reference.

The validation list:

1. peak bandwidth = channels x pseudo channels x bus width / 8 x data rate (x stacks), and the
   published figure of every preset;
2. a streaming read reaches >= 90 % of that peak on the CL face;
3. the latency of a single request on an idle device, exactly (integer ps): miss (bank closed)
   tRCD + tCL + burst, hit tCL + burst, conflict tRP + tRCD + tCL + burst (writes: tCWL), with no
   fixed controller overhead (the first command issues in the arrival's clock cycle); arrivals off a
   clock edge wait for the next edge; a request arriving during a refresh waits for tRFC;
4. refresh: time lost per REF between tRFC and tRFC + tRP + tRCD + max(tRAS, tRTP), bandwidth loss
   within 1.5 points of tRFC / tREFI, and floor(duration / tREFI) REFs per pseudo channel (+-1);
5. tFAW: no tFAW window with more than four ACTs of one pseudo channel; an ACT-bound pattern
   activates 4 times per max(tFAW, 4 tRRD_S) cycles (within 0.5 %; DDR4: tFAW + 1, see the test);
6. nothing lost or duplicated: 10^5 random mixed requests each complete exactly once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml

from hwsim.core import Simulation
from hwsim.memory.dram import DramSystem, load_preset
from tests.memory.test_dram_timing import check_trace  # the independent JEDEC trace checker

PRESET_FILE = Path(__file__).resolve().parents[2] / "hwsim" / "memory" / "data" / "dram_presets.yaml"
RAW = yaml.safe_load(PRESET_FILE.read_text(encoding="utf-8"))["presets"]
PRESETS = ["hbm2e", "hbm3", "ddr4", "lpddr5"]


# --- reference values from the raw preset numbers ---------------------------------------------------
class Raw:
    """A preset's raw numbers and what follows from them by the file header's rules."""

    def __init__(self, name: str, **overrides):
        c = dict(RAW[name]["config"])
        c.update(overrides)
        self.c = c
        self.period_ps = round(c["tck_ns"] * 1000)
        beats_per_ck = c["data_rate_mtps"] * c["tck_ns"] / 1000
        assert beats_per_ck == round(beats_per_ck)
        self.burst = c["burst_length"] // round(beats_per_ck)  # cycles one burst holds the data bus
        self.tx_bytes = c["bus_width_bits"] * c["burst_length"] // 8
        self.pcs = c["stacks"] * c["channels"] * c["pseudo_channels"]
        self.counts = {"st": c["stacks"], "ch": c["channels"], "pc": c["pseudo_channels"], "bg": c["bank_groups"],
                       "ba": c["banks_per_group"], "ro": c["rows"], "co": c["columns"] // c["burst_length"]}
        self.order = c["address_mapping"].split("-")  # MSB to LSB
        self.capacity = self.tx_bytes * math.prod(self.counts.values())

    def t(self, name: str) -> int:
        """Timing ``name`` in integer controller cycles: max(ck, ceil(ns * 1000 / period_ps))."""
        spec = self.c["timing"][name]
        ck = spec.get("ck", 0)
        ns = spec.get("ns")
        return max(ck, math.ceil(round(ns * 1000 / self.period_ps, 9))) if ns is not None else ck

    def peak_bytes_per_s(self) -> float:
        c = self.c
        return c["stacks"] * c["channels"] * c["pseudo_channels"] * c["bus_width_bits"] / 8 * c["data_rate_mtps"] * 1e6

    def encode(self, **fields: int) -> int:
        """Byte address of the transaction at ``fields`` (st, ch, pc, bg, ba, ro, co; missing = 0)."""
        x = 0
        for f in self.order:
            v = fields.get(f, 0)
            assert 0 <= v < self.counts[f]
            x = x * self.counts[f] + v
        return x * self.tx_bytes

    def decode(self, addr: int) -> dict[str, int]:
        x = addr // self.tx_bytes
        out = {}
        for f in reversed(self.order):
            x, out[f] = divmod(x, self.counts[f])
        return out


def pc_index(raw: Raw, fields: dict[str, int]) -> int:
    return (fields["st"] * raw.counts["ch"] + fields["ch"]) * raw.counts["pc"] + fields["pc"]


def run_schedule(cfg, schedule, record: bool = False):
    """Issue ``(arrival_ps, addr, is_write)`` requests at their times; returns (latencies ps, system)."""
    sim = Simulation()
    dram = DramSystem(sim, cfg, record_commands=record)
    lat = [None] * len(schedule)

    def one(i, at, addr, w):
        yield sim.env.timeout(at)
        done = yield dram.request(addr, w)
        assert done == sim.env.now
        lat[i] = done - at

    for i, (at, addr, w) in enumerate(schedule):
        sim.env.process(one(i, at, addr, w))
    sim.run()
    return lat, dram


def closed_loop(cfg, addrs, writes, outstanding, record=False):
    """Keep ``outstanding`` requests in flight; returns (completions per request, system, sim, end ps)."""
    sim = Simulation()
    dram = DramSystem(sim, cfg, record_commands=record)
    n = len(addrs)
    done = [0] * n
    state = {"next": 0, "end": 0}

    def issue():
        i = state["next"]
        if i < n:
            state["next"] = i + 1
            at = sim.env.now
            dram.request(addrs[i], writes[i]).callbacks.append(lambda ev, i=i, at=at: finish(ev, i, at))

    def finish(ev, i, at):
        assert ev.value == sim.env.now >= at
        done[i] += 1
        state["end"] = max(state["end"], ev.value)
        issue()

    for _ in range(min(outstanding, n)):
        issue()
    sim.run()
    return done, dram, sim, state["end"]


def stream_addresses(raw: Raw, n: int) -> list[int]:
    ntx = raw.capacity // raw.tx_bytes
    return [(i % ntx) * raw.tx_bytes for i in range(n)]


# --- 1. peak bandwidth --------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", PRESETS)
def test_peak_bandwidth_closed_form_and_published(preset):
    raw = Raw(preset)
    cfg = load_preset(preset)
    peak = raw.peak_bytes_per_s()
    assert cfg.peak_bandwidth_bytes_per_s == pytest.approx(peak, rel=1e-12)
    # the simulated clock (integer ps) loses nothing for these presets: one burst per `burst` cycles
    sim_peak = raw.pcs * raw.tx_bytes / (raw.burst * raw.period_ps * 1e-12)
    assert cfg.simulated_peak_bandwidth_bytes_per_s == pytest.approx(sim_peak, rel=1e-12)
    assert sim_peak == pytest.approx(peak, rel=1e-12)
    published = RAW[preset].get("published_peak_gbps")
    if published is not None:
        assert peak / 1e9 == pytest.approx(published["value"], rel=1e-9)
    # more stacks scale it linearly
    assert load_preset(preset, stacks=3).peak_bandwidth_bytes_per_s == pytest.approx(3 * peak, rel=1e-12)


def test_every_preset_states_its_published_peak():
    assert all("published_peak_gbps" in RAW[p] for p in PRESETS)


# --- 2. streaming reads reach >= 90 % of peak -----------------------------------------------------------
STREAM_REQUESTS = {"hbm2e": 30000, "hbm3": 40000, "ddr4": 8000, "lpddr5": 8000}


@pytest.mark.parametrize("preset", PRESETS)
def test_stream_reaches_90_percent_of_peak(preset):
    raw = Raw(preset)
    n = STREAM_REQUESTS[preset]
    done, dram, _sim, end_ps = closed_loop(load_preset(preset), stream_addresses(raw, n), [False] * n,
                                           outstanding=64 * raw.pcs)
    assert done == [1] * n
    bw = n * raw.tx_bytes / (end_ps * 1e-12)
    assert bw <= raw.peak_bytes_per_s()
    assert bw >= 0.90 * raw.peak_bytes_per_s(), f"{preset}: {bw / 1e9:.1f} GB/s"
    s = dram.stats
    assert s["reads"] == n and s["writes"] == 0 and s["bytes_read"] == n * raw.tx_bytes


# --- 3. idle latency, exact ---------------------------------------------------------------------------
def random_fields(raw: Raw, rng) -> dict[str, int]:
    return raw.decode(int(rng.integers(0, raw.capacity // raw.tx_bytes)) * raw.tx_bytes)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("is_write", [False, True])
def test_single_request_on_idle_device_is_a_miss(preset, is_write):
    """A random transaction on an idle device (all banks precharged) needs ACT, then RD/WR: latency
    tRCD + tCL + burst (writes tCWL), exactly, for several random addresses (one fresh device each)."""
    raw = Raw(preset)
    cfg = load_preset(preset)
    cas = raw.t("tCWL" if is_write else "tCL")
    rng = np.random.default_rng(11)
    for _ in range(5):
        addr = raw.encode(**random_fields(raw, rng))
        (lat,), _ = run_schedule(cfg, [(0, addr, is_write)])
        assert lat == (raw.t("tRCD") + cas + raw.burst) * raw.period_ps


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("is_write", [False, True])
def test_hit_and_conflict_latency(preset, is_write):
    """Open page, requests far apart (every earlier constraint has expired): a second access to the
    open row takes tCL + burst; a different row of the same bank tRP + tRCD + tCL + burst."""
    raw = Raw(preset)
    cfg = load_preset(preset)
    p = raw.period_ps
    cas = raw.t("tCWL" if is_write else "tCL")
    rng = np.random.default_rng(5)
    f = random_fields(raw, rng)
    hit = dict(f, co=(f["co"] + 1) % raw.counts["co"])
    other = dict(f, ro=(f["ro"] + 1) % raw.counts["ro"])
    gap = 400 * p  # > tRC, tRAS + tWR, ...; well inside the first tREFI
    sched = [(0, raw.encode(**f), is_write), (gap, raw.encode(**hit), is_write),
             (2 * gap, raw.encode(**other), is_write), (3 * gap, raw.encode(**other), is_write)]
    lat, dram = run_schedule(cfg, sched)
    assert lat == [(raw.t("tRCD") + cas + raw.burst) * p, (cas + raw.burst) * p,
                   (raw.t("tRP") + raw.t("tRCD") + cas + raw.burst) * p, (cas + raw.burst) * p]
    s = dram.stats
    assert (s["row_misses"], s["row_hits"], s["row_conflicts"], s["activates"]) == (1, 2, 1, 2)


@pytest.mark.parametrize("preset", PRESETS)
def test_closed_page_revisit_is_a_miss(preset):
    """Closed page: the row is auto-precharged, so a later access to the same row is a miss again."""
    raw = Raw(preset)
    cfg = load_preset(preset, page_policy="closed")
    p = raw.period_ps
    addr = raw.encode(**random_fields(raw, np.random.default_rng(3)))
    lat, _ = run_schedule(cfg, [(0, addr, False), (400 * p, addr, False)])
    assert lat == [(raw.t("tRCD") + raw.t("tCL") + raw.burst) * p] * 2


@pytest.mark.parametrize("preset", PRESETS)
def test_arrival_between_clock_edges_waits_for_the_next_edge(preset):
    raw = Raw(preset)
    p = raw.period_ps
    miss = raw.t("tRCD") + raw.t("tCL") + raw.burst
    addr = raw.encode(**random_fields(raw, np.random.default_rng(9)))
    for at in (1, p - 1, 7 * p + 1, 7 * p + p // 2):
        (lat,), _ = run_schedule(load_preset(preset), [(at, addr, False)])
        assert lat == (-(-at // p) + miss) * p - at


@pytest.mark.parametrize("preset", PRESETS)
def test_request_during_refresh_waits_for_trfc(preset):
    """An idle device refreshes at k x tREFI; a request arriving 5 cycles after the first REF is
    activated tRFC after its pseudo channel's REF. The pseudo channels of a channel share its
    row-command bus, so pseudo channel ``k`` of a channel issues its REF at tREFI + k."""
    raw = Raw(preset)
    p = raw.period_ps
    refi = raw.t("tREFI")
    for seed in range(4):
        f = random_fields(raw, np.random.default_rng(seed))
        at = (refi + 5) * p
        (lat,), dram = run_schedule(load_preset(preset), [(at, raw.encode(**f), False)])
        ref = refi + f["pc"]
        assert lat == (ref + raw.t("tRFC") + raw.t("tRCD") + raw.t("tCL") + raw.burst) * p - at
    assert dram.stats["refreshes"] == raw.pcs  # the first REF of every pseudo channel, none yet of the second


# --- 4. refresh ----------------------------------------------------------------------------------------
# one channel is enough (all pseudo channels refresh together) and keeps several tREFI short
REFRESH_RUNS = {"hbm2e": 32000, "hbm3": 32000, "ddr4": 16000, "lpddr5": 10000}


@pytest.mark.parametrize("preset", PRESETS)
def test_refresh_overhead_is_trfc_over_trefi(preset):
    raw = Raw(preset, channels=1)
    n = REFRESH_RUNS[preset]
    addrs = stream_addresses(raw, n)
    ends, counts = {}, {}
    for refresh in (True, False):
        done, dram, _sim, end = closed_loop(load_preset(preset, channels=1, refresh=refresh), addrs, [False] * n,
                                            outstanding=64 * raw.pcs)
        assert done == [1] * n
        ends[refresh] = end
        counts[refresh] = dram.stats["refreshes"]
    p, refi, rfc = raw.period_ps, raw.t("tREFI"), raw.t("tRFC")
    assert counts[False] == 0
    refs = counts[True] // raw.pcs
    assert counts[True] == refs * raw.pcs
    assert abs(refs - ends[True] // (refi * p)) <= 1 and refs >= 4
    lost = (ends[True] - ends[False]) / p / refs  # cycles lost per refresh
    upper = rfc + raw.t("tRP") + raw.t("tRCD") + max(raw.t("tRAS"), raw.t("tRTP"))
    assert rfc <= lost <= upper, f"{preset}: {lost:.1f} cycles lost per REF, tRFC {rfc}, bound {upper}"
    loss = 1 - ends[False] / ends[True]  # = 1 - bandwidth(refresh on) / bandwidth(refresh off)
    assert abs(loss - rfc / refi) <= 0.015, f"{preset}: loss {loss:.4f} vs tRFC/tREFI {rfc / refi:.4f}"


@pytest.mark.parametrize("preset", PRESETS)
def test_refresh_count_is_duration_over_trefi(preset):
    """Traffic, an idle stretch (the idle controllers replay their refreshes), traffic again: every
    pseudo channel issues floor(duration / tREFI) REFs (+-1), each at most a drain after it is due."""
    raw = Raw(preset)
    cfg = load_preset(preset)
    p, refi = raw.period_ps, raw.t("tREFI")
    rng = np.random.default_rng(4)
    ntx = raw.capacity // raw.tx_bytes
    sched = [(int(k) * 3 * p, int(a) * raw.tx_bytes, bool(w))
             for k, a, w in zip(range(300), rng.integers(0, ntx, 300), rng.random(300) < 0.3)]
    late = int(6.5 * refi * p)
    sched += [(late + k * 3 * p, a, w) for k, (_, a, w) in enumerate(sched)]
    _lat, dram = run_schedule(cfg, sched, record=True)
    duration = max(at + lat for (at, _a, _w), lat in zip(sched, _lat))
    per_pc = defaultdict(list)
    for t, cmd, pc, _b, _r in dram.commands:
        if cmd == "REF":
            per_pc[pc].append(t)
    expected = duration // (refi * p)
    assert set(per_pc) == set(range(raw.pcs))
    for pc, ts in per_pc.items():
        assert abs(len(ts) - expected) <= 1, (pc, len(ts), expected)
        for k, t in enumerate(ts, start=1):  # REF k is due at k x tREFI
            assert k * refi <= t <= k * refi + raw.t("tRC") + raw.t("tRP") + 64
    assert dram.stats["refreshes"] == sum(len(ts) for ts in per_pc.values())
    assert check_trace(cfg, dram.commands) == []


# --- 5. tFAW -------------------------------------------------------------------------------------------
def faw_violations(commands, faw: int) -> list[tuple[int, list[int]]]:
    """(pseudo channel, five ACT cycles) wherever five ACTs of one pseudo channel fit in tFAW cycles."""
    acts = defaultdict(list)
    for t, cmd, pc, _b, _r in commands:
        if cmd == "ACT":
            acts[pc].append(t)
    bad = []
    for pc, ts in acts.items():
        ts.sort()
        bad += [(pc, ts[i:i + 5]) for i in range(len(ts) - 4) if ts[i + 4] - ts[i] < faw]
    return bad


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("page_policy", ["open", "closed"])
def test_no_tfaw_window_has_more_than_four_acts(preset, page_policy):
    raw = Raw(preset)
    n = 6000
    rng = np.random.default_rng(21)
    addrs = (rng.integers(0, raw.capacity // raw.tx_bytes, n) * raw.tx_bytes).tolist()
    writes = (rng.random(n) < 0.3).tolist()
    done, dram, _sim, _end = closed_loop(load_preset(preset, page_policy=page_policy), addrs, writes,
                                         outstanding=64 * raw.pcs, record=True)
    assert done == [1] * n
    acts = sum(1 for x in dram.commands if x[1] == "ACT")
    assert acts >= 0.95 * n  # random traffic: nearly every request activates
    assert faw_violations(dram.commands, raw.t("tFAW")) == []


def test_faw_checker_is_not_vacuous():
    assert faw_violations([(0, "ACT", 0, 0, 0), (1, "ACT", 0, 4, 0), (2, "ACT", 0, 8, 0), (3, "ACT", 0, 12, 0),
                           (9, "ACT", 0, 1, 0)], faw=10)
    assert not faw_violations([(0, "ACT", 0, 0, 0), (1, "ACT", 0, 4, 0), (2, "ACT", 0, 8, 0),
                               (3, "ACT", 0, 12, 0), (10, "ACT", 0, 1, 0), (9, "ACT", 1, 1, 0)], faw=10)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("page_policy", ["open", "closed"])
def test_act_bound_pattern_activates_at_the_tfaw_rate(preset, page_policy):
    """Every request opens a new row, rotating over the 16 banks of one pseudo channel (bank groups
    alternate), so neither tRC nor tRRD_L nor the data bus limits: at most 4 ACTs per tFAW and one
    per tRRD_S, i.e. a window of W = max(tFAW, 4 tRRD_S) cycles per 4 ACTs.

    * tFAW binds for DDR4 (4 x tRRD_S = 16 < tFAW = 34 cycles), tFAW and tRRD_S together for LPDDR5
      (16 = 16); for the HBM presets 4 x tRRD_S = 28 > tFAW = 26, so tRRD_S binds.
    * DDR4 has one command bus and FR-FCFS issues column commands first: the window's fourth RD
      comes tRCD + 3 tRRD_S = 34 cycles after its first ACT, the very cycle the fifth ACT becomes
      legal, and takes the bus, so each window is tFAW + 1 cycles. The test computes that case.

    Measured cycles per ACT equal W / 4 within 0.5 % (refresh off)."""
    raw = Raw(preset, refresh=False)
    bg, ba = raw.counts["bg"], raw.counts["ba"]
    n = 3000
    addrs = [raw.encode(bg=k % bg, ba=(k // bg) % ba, ro=(k // (bg * ba)) % raw.counts["ro"]) for k in range(n)]
    done, dram, _sim, _end = closed_loop(load_preset(preset, refresh=False, page_policy=page_policy), addrs,
                                         [False] * n, outstanding=64, record=True)
    assert done == [1] * n
    acts = sorted(t for t, cmd, _pc, _b, _r in dram.commands if cmd == "ACT")
    assert len(acts) == n
    faw, rrd_s, rcd = raw.t("tFAW"), raw.t("tRRD_S"), raw.t("tRCD")
    assert 16 * max(faw / 4, rrd_s) >= raw.t("tRC")  # the pattern is not bank-bound
    window = max(faw, 4 * rrd_s)
    if not raw.c["separate_row_column_bus"] and faw > 4 * rrd_s and rcd + 3 * rrd_s == faw:
        window += 1  # the fifth ACT loses the single bus to the fourth RD (see the docstring)
    steady = acts[200:-200]
    cycles_per_act = (steady[-1] - steady[0]) / (len(steady) - 1)
    assert cycles_per_act >= faw / 4 and cycles_per_act >= rrd_s  # hard limits
    assert cycles_per_act == pytest.approx(window / 4, rel=0.005), f"{preset}: {cycles_per_act:.3f} cycles per ACT"
    assert faw_violations(dram.commands, faw) == []
    assert check_trace(load_preset(preset, refresh=False, page_policy=page_policy), dram.commands) == []


# --- 6. nothing lost or duplicated ------------------------------------------------------------------------
def check_all_complete_once(preset: str, n: int, seed: int = 0, **overrides) -> None:
    raw = Raw(preset, **overrides)
    cfg = load_preset(preset, **overrides)
    rng = np.random.default_rng(seed)
    addrs = (rng.integers(0, raw.capacity // raw.tx_bytes, n) * raw.tx_bytes).tolist()
    # a quarter of the requests revisit recent rows' neighbourhoods (hits and conflicts, not only misses)
    local = rng.random(n) < 0.25
    for i in np.flatnonzero(local):
        if i:
            f = raw.decode(addrs[i - 1])
            f["co"] = int(rng.integers(0, raw.counts["co"]))
            f["ro"] = (f["ro"] + int(rng.integers(0, 2))) % raw.counts["ro"]
            addrs[i] = raw.encode(**f)
    writes = (rng.random(n) < 0.4).tolist()
    # more in flight than the queues hold: the back-pressure FIFOs are exercised too
    done, dram, sim, _end = closed_loop(cfg, addrs, writes, outstanding=3 * cfg.queue_depth * raw.pcs)
    lost = [i for i, d in enumerate(done) if d == 0]
    dup = [i for i, d in enumerate(done) if d > 1]
    assert not lost and not dup, f"{len(lost)} lost (first {lost[:5]}), {len(dup)} duplicated (first {dup[:5]})"
    s = dram.stats
    assert s["reads"] == n - sum(writes) and s["writes"] == sum(writes)
    assert s["row_hits"] + s["row_misses"] + s["row_conflicts"] == n
    assert s["row_hits"] > 0 and s["row_conflicts" if cfg.page_policy == "open" else "row_misses"] > 0
    assert dram.in_queue() == 0 and dram.backlog() == 0
    assert s["refreshes"] >= raw.pcs  # the run spans at least one tREFI


def test_hbm3_1e5_random_mixed_requests_complete_exactly_once():
    check_all_complete_once("hbm3", 100_000, seed=1)


@pytest.mark.parametrize("preset", ["hbm2e", "ddr4", "lpddr5"])
@pytest.mark.parametrize("page_policy", ["open", "closed"])
def test_random_mixed_requests_complete_exactly_once(preset, page_policy):
    check_all_complete_once(preset, 15_000, seed=2, page_policy=page_policy)


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("page_policy", ["open", "closed"])
def test_1e5_random_mixed_requests_complete_exactly_once_all_presets(preset, page_policy):
    check_all_complete_once(preset, 100_000, seed=3, page_policy=page_policy)
