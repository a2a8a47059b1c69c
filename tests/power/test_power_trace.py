"""Power over time from a CL run: the windows add up to the run's energy (gemm_energy), exactly for
the unit's components; the trace has the shape of the run (idle while loading, busy while streaming)."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.memory.offchip import OffChipConfig
from hwsim.power import load_tech
from hwsim.power.energy import gemm_energy
from hwsim.power.trace import power_trace
from hwsim.systolic.cl import simulate_gemm_cl
from hwsim.systolic.config import SystolicConfig

TECH = load_tech("horowitz45")


def run(df, m, n, k, window, offchip=None, **unit):
    cfg = SystolicConfig(rows=8, cols=8, dataflow=df, freq_mhz=1000, **unit)
    rng = np.random.default_rng(0)
    a, b = cfg.pe.random_operands((m, k), rng), cfg.pe.random_operands((k, n), rng)
    return cfg, simulate_gemm_cl(cfg, a, b, offchip=offchip, activity_window=window)


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("window", [1, 7, 100])
def test_windows_add_up_to_the_run_energy(df, window):
    cfg, r = run(df, 30, 20, 50, window, memory_port={"bandwidth_bytes_per_cycle": 8, "latency_cycles": 10})
    tr = power_trace(cfg, r, TECH)
    want = gemm_energy(cfg, r.stats, TECH).components
    got = tr.total_pj()
    assert set(got) == set(want)
    for comp, pj in want.items():
        assert got[comp] == pytest.approx(pj, rel=1e-12, abs=1e-9), comp
    assert len(tr.start_cycles) == -(-r.stats.cycles // window)
    # MAC energy lands only in windows where the array computes; the first window (waiting for the
    # first tiles over an 8 B/cycle port) has none when the window is short
    if window == 1:
        assert tr.energy_pj["mac"][0] == 0
        macs_per_cycle = tr.energy_pj["mac"] / TECH.mac_energy_pj("int8", "int32")
        assert macs_per_cycle.max() <= 64 and np.allclose(macs_per_cycle, np.round(macs_per_cycle))


def test_recording_does_not_change_the_run():
    cfg, r = run("ws", 17, 9, 23, 5)
    rng = np.random.default_rng(0)
    a, b = cfg.pe.random_operands((17, 23), rng), cfg.pe.random_operands((23, 9), rng)
    plain = simulate_gemm_cl(cfg, a, b)
    assert plain.stats.to_dict() == r.stats.to_dict() and np.array_equal(plain.c, r.c)


def test_dram_fed_trace_adds_up_and_has_background_everywhere():
    off = OffChipConfig(dram={"preset": "hbm3"})
    cfg, r = run("ws", 16, 32, 40, 50, offchip=off)
    dram = off.dram.config()
    tr = power_trace(cfg, r, TECH, dram)
    want = gemm_energy(cfg, r.stats, TECH, dram).components
    got = tr.total_pj()
    for comp in ("mac", "registers", "sram_a", "sram_b", "sram_c", "dram_read", "dram_background"):
        assert got[comp] == pytest.approx(want[comp], rel=1e-9), comp
    assert got["dram_act_pre"] == pytest.approx(want["dram_act_pre"], rel=1e-9)
    assert (tr.energy_pj["dram_background"] > 0).all()
    w = tr.watts()
    assert all(np.isfinite(v).all() for v in w.values())


def test_trace_needs_a_recorded_run():
    cfg = SystolicConfig(rows=4, cols=4)
    a = np.ones((4, 4), dtype=np.int64)
    with pytest.raises(Exception, match="activity_window"):
        power_trace(cfg, simulate_gemm_cl(cfg, a, a), TECH)
    with pytest.raises(Exception, match="activity_window"):
        simulate_gemm_cl(cfg, a, a, activity_window=0)
