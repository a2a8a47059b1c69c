"""Power over time from a cycle-level run: the actions each component performed in every window of
cycles, priced with the same per-action energies as :func:`hwsim.power.energy.gemm_energy`, divided
by the window's duration (watts per component per window).

The CL face records when each action happened (``simulate_gemm_cl(..., activity_window=W)``):
MACs and streamed SRAM reads cycle by cycle, stationary reads at their preload, SRAM writes and
memory-port bytes when a load is delivered, C SRAM accesses when a fold's results arrive; with
off-chip memory the DRAM's counters are snapshotted every window and priced by the device's table
(background power spread evenly). The windows' energies add up to ``gemm_energy`` of the same run
(exactly, up to floating-point summation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.core.clock import Clock
from hwsim.errors import ConfigError
from hwsim.power.tech import TechTable
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import get_dataflow


@dataclass
class PowerTrace:
    """Watts per component in windows of ``window_cycles`` (the last window may be shorter)."""

    window_cycles: int
    period_ps: int
    start_cycles: np.ndarray  # first cycle of each window
    energy_pj: dict[str, np.ndarray]  # per component, per window

    @property
    def durations_s(self) -> np.ndarray:
        ends = np.append(self.start_cycles[1:], self.end_cycle)
        return (ends - self.start_cycles) * self.period_ps * 1e-12

    end_cycle: int = 0

    def watts(self) -> dict[str, np.ndarray]:
        d = self.durations_s
        return {k: v * 1e-12 / d for k, v in self.energy_pj.items()}

    def total_pj(self) -> dict[str, float]:
        return {k: float(v.sum()) for k, v in self.energy_pj.items()}

    def to_dict(self) -> dict:
        w = self.watts()
        return {"window_cycles": self.window_cycles, "period_ps": self.period_ps,
                "start_cycles": self.start_cycles.tolist(), "end_cycle": self.end_cycle,
                "watts": {k: v.tolist() for k, v in w.items()},
                "energy_pj": {k: v.tolist() for k, v in self.energy_pj.items()}}


def action_prices(cfg: SystolicConfig, tech: TechTable) -> dict[str, dict[str, float]]:
    """Energy (pJ) of one action by counter name, split by the component it is charged to — the
    per-action form of :func:`hwsim.power.energy.gemm_energy`'s rules."""
    df = get_dataflow(cfg.dataflow)
    in_bits, acc_bits = cfg.pe.in_fmt.bits, cfg.pe.acc_fmt.bits
    reg = tech.register_energy_pj(1)
    word = {"a": in_bits / 8, "b": in_bits / 8, "c": acc_bits / 8}
    from hwsim.power.energy import mac_energy_pj

    prices: dict[str, dict[str, float]] = {
        "mac": {"mac": mac_energy_pj(cfg, tech),
                "registers": (len(df.streamed) * in_bits + acc_bits) * reg},
        "port_bytes_a": {"memory_port": tech.dram_energy_pj_per_byte()},
        "port_bytes_b": {"memory_port": tech.dram_energy_pj_per_byte()},
    }
    for op in ("a", "b", "c"):
        per = word[op] * tech.sram_energy_pj_per_byte(cfg.sram.kib(op) * 1024)
        prices[f"sram_read_{op}"] = {f"sram_{op}": per}
        prices[f"sram_write_{op}"] = {f"sram_{op}": per}
    if df.stationary:  # every stationary word read is written once into its PE's register
        prices[f"sram_read_{df.stationary}"]["registers"] = in_bits * reg
    return prices


def power_trace(cfg: SystolicConfig, run, tech: TechTable, dram=None, leakage_area_mm2: float | None = None) -> PowerTrace:
    """The power trace of a CL run made with ``activity_window``; ``dram`` (a DramConfig) prices the DRAM
    windows of a run fed from off-chip memory (instead of the flat ``memory_port`` pJ/byte);
    ``leakage_area_mm2`` adds constant leakage power (``tech``'s W/mm² x area) in every window."""
    if run.activity is None:
        raise ConfigError("power_trace: the run has no activity record; simulate with activity_window=W")
    w = run.activity_window
    end = run.cycles
    n = max(1, -(-end // w))
    starts = np.arange(n, dtype=np.int64) * w
    prices = action_prices(cfg, tech)
    energy: dict[str, np.ndarray] = {}

    def charge(comp: str, idx: np.ndarray, amounts: np.ndarray) -> None:
        arr = energy.setdefault(comp, np.zeros(n))
        np.add.at(arr, idx, amounts)

    for events in run.activity.values():
        if not events:
            continue
        cyc = np.fromiter((e[0] for e in events), np.int64, len(events))
        amt = np.fromiter((e[2] for e in events), np.float64, len(events))
        names = np.array([e[1] for e in events])
        idx = np.minimum(cyc // w, n - 1)
        for counter in np.unique(names):
            sel = names == counter
            if counter.startswith("port_bytes") and dram is not None:
                continue  # priced by the DRAM windows below
            for comp, pj in prices[str(counter)].items():
                charge(comp, idx[sel], amt[sel] * pj)
    if dram is not None and run.dram_windows is not None:
        from hwsim.memory.dram.energy import energy as dram_energy

        previous = {"activates": 0, "refreshes": 0, "bytes_read": 0, "bytes_written": 0}
        for k, (cycle, counters) in enumerate(run.dram_windows):
            delta = {key: counters[key] - previous[key] for key in previous}
            previous = {key: counters[key] for key in previous}
            e = dram_energy(dram, delta, 0)
            for comp, pj in e.components.items():
                if comp != "background":
                    charge(f"dram_{comp}", np.array([min(k, n - 1)]), np.array([pj]))
        # background power accrues over the whole run, window by window
        bg = dram_energy(dram, {"activates": 0, "refreshes": 0, "bytes_read": 0, "bytes_written": 0},
                         run.stats.dram["duration_ps"])
        ends = np.append(starts[1:], end)
        charge("dram_background", np.arange(n), bg.components["background"] * (ends - starts) / end)
    period = Clock.period_from_mhz(cfg.freq_mhz)
    if leakage_area_mm2 is not None:
        from hwsim.power.energy import leakage_energy_pj

        ends = np.append(starts[1:], end)
        total = leakage_energy_pj(tech, leakage_area_mm2, end, cfg.freq_mhz)
        charge("leakage", np.arange(n), total * (ends - starts) / end)
    return PowerTrace(w, period, starts, energy, end)
