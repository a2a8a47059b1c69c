"""``hwsim collective``: JSON keys and values of both faces, readable one-line errors (exit 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def hwsim(*args):
    return subprocess.run([sys.executable, "-m", "hwsim", "collective", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)


def test_allreduce_json_both_faces():
    args = ["allreduce", "--algo", "ring", "--ranks", 8, "--bytes", "1MiB", "--link", "ucie-advanced", "--json"]
    cost = json.loads(hwsim(*args).stdout)
    sim = hwsim(*args, "--face", "sim", "--check-values")
    assert sim.returncode == 0, sim.stderr
    sim = json.loads(sim.stdout)
    keys = {"time_us", "algbw_gbps", "busbw_gbps", "energy_uj", "link_bandwidth_gbps", "link_latency_ns"}
    assert keys <= set(cost) and keys <= set(sim)
    # 2(p-1) alpha + 2(p-1)/p n/B with alpha = 2 ns, B = 256 GB/s: 14 x 2 ns + 14/8 x 1 MiB / 256 GB/s
    t_us = (14 * 2 + 14 / 8 * 1048576 / 256) / 1000
    assert cost["time_us"] == pytest.approx(t_us) and sim["time_us"] == cost["time_us"]
    assert cost["algbw_gbps"] == pytest.approx(1048576 / (t_us * 1e-6) / 1e9)
    assert cost["busbw_gbps"] == pytest.approx(cost["algbw_gbps"] * 14 / 8)
    assert cost["energy_uj"] == pytest.approx(14 * 1048576 * 8 * 0.3 / 1e6)  # 2(p-1) n bytes over one hop each
    assert cost["link_bandwidth_gbps"] == 256.0 and cost["link_latency_ns"] == 2.0
    assert sim["values_ok"] is True and sim["face"] == "sim" and cost["face"] == "cost"


def test_other_collectives_and_table_output():
    for sub, extra in (("reduce-scatter", []), ("all-gather", ["--topology", "mesh"]),
                       ("broadcast", ["--algo", "tree", "--topology", "full", "--root", 3]),
                       ("all-to-all", ["--topology", "switch", "--switch-latency-ns", 10])):
        r = hwsim(sub, "--ranks", 4, "--bytes", "64KiB", "--face", "sim", *extra, "--json")
        assert r.returncode == 0, (sub, r.stderr)
        d = json.loads(r.stdout)
        assert d["collective"] == sub and d["ranks"] == 4 and d["bytes"] == 65536
    r = hwsim("allreduce", "--algo", "2d", "--topology", "mesh", "--ranks", 16, "--bytes", "16MiB",
              "--link", "ucie-standard", "--modules", 2)
    assert r.returncode == 0, r.stderr
    assert "busbw_gbps" in r.stdout and "2(C-1)" in r.stdout


@pytest.mark.parametrize("args, lines", [
    (["allreduce", "--algo", "hd", "--ranks", 1],
     ["error: --algo: must be one of ring, tree, 2d for allreduce, got 'hd'",
      "error: --ranks: must be an integer >= 2, got 1"]),
    (["allreduce", "--link", "nvlink", "--topology", "torus", "--face", "rtl"],
     ["error: --face: must be one of cost, sim, got 'rtl'",
      "error: --topology: must be one of mesh, ring, full, switch, got 'torus'",
      "error: --link: must be a D2D link preset (ucie-advanced, ucie-standard, custom) or a mapping of fields, "
      "got 'nvlink'"]),
    (["allreduce", "--algo", "2d"], ["error: --algo: '2d' runs on a mesh topology (--topology mesh), got 'ring'"]),
    (["broadcast", "--bytes", "12 parsecs", "--ber", 1.5],
     ["error: --bytes: must be a whole number of bytes, optionally with a suffix K, M, G (1e3..) or KiB, MiB, GiB "
      "(2^10..), got '12 parsecs'", "error: --ber: Input should be less than 1, got 1.5"]),
    (["all-gather", "--link", "custom", "--link-set", "lanes_per_module=8", "--link-set", "data_rate_gtps=0"],
     ["error: --link-set data_rate_gtps: Input should be greater than 0, got '0'",
      "error: --link-set latency_ns: required field is missing",
      "error: --link-set energy_pj_per_bit: required field is missing",
      "error: --link-set module_shoreline_mm: required field is missing",
      "error: --link-set phy_depth_mm: required field is missing"]),
    (["broadcast", "--ranks", 4, "--root", 4, "--mesh-rows", 3, "--topology", "mesh"],
     ["error: --mesh-rows: must be a divisor of ranks (4), got 3"]),
])
def test_bad_values_give_one_line_each_and_exit_2(args, lines):
    r = hwsim(*args)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == lines
    assert "Traceback" not in r.stderr
