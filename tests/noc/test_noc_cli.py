"""hwsim noc sweep: JSON points, text table, plot, and readable errors (exit 2, one line each, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.noc import NocConfig, TrafficConfig, noc_cost, saturation_rate

ROOT = Path(__file__).resolve().parents[2]


def hwsim(*args):
    return subprocess.run([sys.executable, "-m", "hwsim", *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def test_sweep_cl_json_points_and_plot(tmp_path):
    png = tmp_path / "curve.png"
    r = hwsim("noc", "sweep", "--topology", "mesh", "--size", "4x4", "--pattern", "uniform", "--routing", "xy",
              "--face", "cl", "--rates", "0.05,0.3,0.45", "--warmup", 200, "--measure", 800, "--json", "--plot", png)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    pts = d["points"]
    assert [p["injection_rate"] for p in pts] == [0.05, 0.3, 0.45]
    for p in pts:
        assert {"injection_rate", "avg_latency_cycles", "p99_latency_cycles", "accepted_throughput"} <= set(p)
        assert p["accepted_throughput"] == pytest.approx(p["injection_rate"], rel=0.15)
        assert p["p99_latency_cycles"] >= p["avg_latency_cycles"] >= 13  # zero-load latency of 4x4 uniform: 13
    assert pts[0]["avg_latency_cycles"] < pts[1]["avg_latency_cycles"] < pts[2]["avg_latency_cycles"]
    assert 0.45 < d["saturation_throughput"] <= d["aggregate_saturation_throughput"] < d["bisection_bound"] == 0.9375
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_sweep_cost_face_matches_the_library():
    r = hwsim("noc", "sweep", "--size", "8x8", "--face", "cost", "--pattern", "transpose", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    cfg = NocConfig(size="8x8")
    assert d["saturation_throughput"] == pytest.approx(1 / 7) == pytest.approx(saturation_rate(cfg, TrafficConfig(
        pattern="transpose")))
    assert len(d["points"]) == 10 and d["points"][-1]["avg_latency_cycles"] is None  # the last is at the bound
    p = d["points"][4]
    ref = noc_cost(cfg, TrafficConfig(pattern="transpose", injection_rate=p["injection_rate"]))
    assert p["avg_latency_cycles"] == pytest.approx(ref.avg_latency_cycles)


def test_sweep_table():
    r = hwsim("noc", "sweep", "--topology", "ring", "--size", "8", "--face", "cost", "--rates", "0.1,0.2")
    assert r.returncode == 0, r.stderr
    assert "ring 8, xy routing, uniform traffic, 4-flit packets (cost face)" in r.stdout
    assert "Saturation throughput (cost face): 0.8750" in r.stdout  # ring of 8: 8 (N - 1) / N^2


@pytest.mark.parametrize("args, lines", [
    (["--size", "8by8", "--rates", "0,x", "--vcs", 0], [
        "error: --rates: every rate must be in (0, 1] flits/node/cycle, got 0",
        "error: --rates: 'x' is not a number (give comma-separated flits/node/cycle, e.g. 0.05,0.1), got '0,x'",
        "error: --size: must be 'COLSxROWS' for a mesh (e.g. '8x8'), got '8by8'",
        "error: --vcs: Input should be greater than or equal to 1, got 0"]),
    (["--topology", "torus", "--size", "4x4", "--routing", "west_first"], [
        "error: --routing: 'west_first' is a mesh turn model; use 'xy' on a torus, got 'west_first'"]),
    (["--size", "4x2", "--pattern", "transpose"], ["error: --pattern: 'transpose' needs a square network, got --size 4x2"]),
    (["--size", "4x4", "--pattern", "hotspot", "--hotspot-nodes", "3,16"], [
        "error: --hotspot-nodes: node ids must be in [0, 16), got 16"]),
])
def test_bad_values_give_one_line_each_and_exit_2(args, lines):
    r = hwsim("noc", "sweep", *args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == lines


def test_unknown_choice_is_a_usage_error():
    r = hwsim("noc", "sweep", "--topology", "star")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "'star' is not one of" in r.stderr
