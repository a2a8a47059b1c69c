"""Examples are tests: every config in examples/ runs, and its key figures are checked."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.system import load_run_config, resolve_layers
from hwsim.systolic.cost import gemm_cost

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_there_are_examples():
    assert {p.name for p in EXAMPLES} >= {"demo.yaml", "demo_cl.yaml", "synth_area.yaml", "hbm_llama_layer.yaml",
                                           "chiplet4.yaml"}


def test_hbm_example_shows_compute_and_memory_bound_layers(tmp_path):
    path = ROOT / "examples" / "hbm_llama_layer.yaml"
    r = subprocess.run([sys.executable, "-m", "hwsim", "run", str(path), "--out", str(tmp_path / "r"), "--json"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    bounds = {p["name"]: p["bound"] for p in json.loads(r.stdout)["roofline"]["layers"]}
    assert {b for name, b in bounds.items() if name.startswith("prefill")} == {"compute"}
    assert {b for name, b in bounds.items() if name.startswith("decode")} == {"memory"}
    assert (tmp_path / "r" / "roofline.png").stat().st_size > 10_000


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_and_key_figures_hold(path, tmp_path):
    cfg = load_run_config(path)
    args = [sys.executable, "-m", "hwsim", "run", str(path), "--out", str(tmp_path / "r"), "--json"]
    if cfg.face == "cl":
        args += ["--trace", str(tmp_path / "trace.json")]
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    layers = resolve_layers(cfg, path.parent)
    assert [lay["name"] for lay in data["layers"]] == [lay.name for lay in layers]
    # every face's cycle count equals the cost face's closed form (fed from DRAM: the CL face agrees
    # within the bound of tests/systolic/test_offchip.py)
    def die_shape(l):  # the largest shard of an even split over the package's dies
        p = cfg.dies if l.split != "none" else 1
        return (l.m, -(-l.n // p), l.k) if l.split != "row" else (l.m, l.n, -(-l.k // p))

    comm = {lay["name"]: lay["comm_cycles"] for lay in data["layers"]}
    expected = sum((gemm_cost(cfg.unit, *die_shape(l), cfg.accounting, offchip=cfg.memory).cycles + comm[l.name])
                   * l.count for l in layers)
    if cfg.package is not None:  # ring all-reduce of int32 partial sums: 2(p-1) alpha + 2(p-1)/p n / B
        p = cfg.dies
        for lay in data["layers"]:
            if lay["comm"]["collective"] == "allreduce":
                n = lay["m"] * lay["n"] * 4
                assert lay["comm"]["link_time_ps"] == pytest.approx(2 * (p - 1) * 2000 + 2 * (p - 1) / p * n / 0.256)
                assert lay["comm"]["time_ps"] >= lay["comm"]["link_time_ps"]
        assert data["totals"]["dies"] == p and data["totals"]["comm_cycles"] > 0
    else:
        assert not any(comm.values())
    if cfg.memory is not None and cfg.face == "cl":
        assert abs(data["totals"]["cycles"] - expected) <= 0.10 * expected
    else:
        assert data["totals"]["cycles"] == expected
    if cfg.memory is not None:  # DRAM energy from the device's own table; a roofline point per layer
        assert data["totals"]["energy_pj"] > 0
        comps = data["layers"][0]["energy"]["components_pj"]
        assert "memory_port" not in comps and comps["dram_read"] > 0
        bounds = {p["name"]: p["bound"] for p in data["roofline"]["layers"]}
        assert set(bounds) == {lay.name for lay in layers}
    assert data["totals"]["macs"] == sum(l.m * l.n * l.k * l.count for l in layers)
    assert data["totals"]["energy_pj"] > 0 and data["totals"]["area_mm2"] > 0
    # every technology number used is listed with its source
    assert data["technology"] and all(r["source"] for r in data["technology"])
    assert "## Technology numbers used" in (tmp_path / "r" / "report.md").read_text()
    if cfg.unit.pe.in_fmt.is_int:  # every run with an integer PE reports its clock limit (RTL twin's depth)
        clock = data["clock"]
        assert clock["fmax_mhz"] > 0 and clock["logic_depth"] > 0
        too_fast = cfg.unit.freq_mhz > clock["fmax_mhz"]
        assert too_fast == any("above the PE's estimated fmax" in w for w in data["warnings"])
    if cfg.area_model == "synthesis":
        assert list(data["area"]["components_mm2"])[0] == "units: pe_array (synthesis)"
    if cfg.face == "cl":
        assert all(lay["values_match_fl"] for lay in data["layers"])
        # power over time: the windows' energy (watts x window length) adds up to the run's energy
        pt = data["power_trace"]
        ends = pt["time_us"][1:] + [pt["end_us"]]
        spans = [e - t for t, e in zip(pt["time_us"], ends)]
        energy_uj = sum(w * s for comp in pt["watts"].values() for w, s in zip(comp, spans))
        assert energy_uj == pytest.approx(data["totals"]["energy_pj"] / 1e6, rel=1e-6)
        assert (tmp_path / "r" / "power_over_time.png").stat().st_size > 5_000
        assert json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
