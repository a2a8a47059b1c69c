"""hwsim approx metrics / report from the command line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.xdist_group("synth")]


def hwsim(*args):
    return subprocess.run([sys.executable, "-m", "hwsim", *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def test_metrics_json_keys_and_closed_form():
    r = hwsim("approx", "metrics", "--multiplier", "truncated", "--bits", "8", "--unsigned", "--param", "k=6", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"er", "med", "nmed", "mred", "wce", "bias"} <= set(d)
    assert d["wce"] == 5 * 64 + 1 and d["exhaustive"] is True


def test_metrics_sampled_16_bit_states_sample_and_ci():
    d = json.loads(hwsim("approx", "metrics", "--multiplier", "mitchell", "--bits", "16", "--samples", "20000",
                         "--json").stdout)
    assert d["pairs"] == 20000 and not d["exhaustive"] and set(d["ci95"]) >= {"med", "mred", "er", "bias"}


@pytest.mark.parametrize("args, line", [
    (["--multiplier", "drum", "--param", "k=20"], "error: multiplier.params.k: must be an integer in [2, 8], got 20"),
    (["--multiplier", "nope"], "error: --multiplier: unknown multiplier; allowed: bam, compressor, drum, exact, mitchell, truncated, got 'nope'"),
    (["--multiplier", "drum", "--param", "k"], "error: --param: expected NAME=VALUE, got 'k'"),
    (["--multiplier", "exact", "--bits", "12"], "error: --bits: must be 4, 8 or 16, got 12"),
])
def test_metrics_errors(args, line):
    r = hwsim("approx", "metrics", *args)
    assert r.returncode == 2 and r.stderr.strip() == line


def test_report_end_to_end(tmp_path):
    out = tmp_path / "approx"
    r = hwsim("approx", "report", "--out", out, "--bits", "8", "--bits", "16", "--design", "exact",
              "--design", "drum:k=4", "--design", "truncated:k=6", "--sentences", "6", "--samples-16", "20000",
              "--json")
    assert r.returncode == 0, r.stderr
    study = json.loads(r.stdout)
    assert sorted(p.name for p in out.iterdir()) == ["area_vs_mred.png", "energy_vs_mred.png", "error_histograms.png",
                                                      "report.json", "report.md", "similarity_vs_energy.png"]
    rows = {(row["design"], row["format"]): row for row in study["rows"]}
    assert set(rows) == {(d, f) for d in ("exact", "drum(k=4)", "truncated(k=6)") for f in ("int8", "int16")}
    for row in study["rows"]:
        assert row["cost"]["netlist_mismatches"] == 0 and row["cost"]["transistors"] > 0
    exact, drum = rows[("exact", "int8")], rows[("drum(k=4)", "int8")]
    assert exact["cost"]["energy_pj_random"] == pytest.approx(0.2, rel=1e-6)  # the calibration point
    assert drum["cost"]["energy_pj_random"] < exact["cost"]["energy_pj_random"]
    assert drum["cost"]["transistors"] < exact["cost"]["transistors"]
    assert exact["minilm"]["mean_cosine"] > 0.99 and drum["minilm"]["mean_cosine"] < exact["minilm"]["mean_cosine"]
    assert exact["gemm"]["mean_snr_db"] == "inf" and drum["gemm"]["mean_snr_db"] < 40
    md = (out / "report.md").read_text()
    assert "| drum(k=4) |" in md and "![energy vs MRED](energy_vs_mred.png)" in md
