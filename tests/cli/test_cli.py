"""The hwsim command: JSON keys, readable errors (exit 2, no traceback), run reports and traces."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost

ROOT = Path(__file__).resolve().parents[2]


def hwsim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "hwsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT)


def test_gemm_json_keys_and_values():
    r = hwsim("gemm", "--rows", 8, "--cols", 4, "--dataflow", "os", "--m", 20, "--n", 9, "--k", 33, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"cycles", "utilization", "macs", "stall_cycles", "sram_reads", "sram_writes"} <= set(d)
    assert set(d["sram_reads"]) == set(d["sram_writes"]) == {"a", "b", "c"}
    ref = gemm_cost(SystolicConfig(rows=8, cols=4, dataflow="os"), 20, 9, 33)
    assert d["cycles"] == ref.cycles and d["macs"] == 20 * 9 * 33
    assert d["utilization"] == pytest.approx(20 * 9 * 33 / (32 * ref.cycles))


def test_gemm_cl_face_agrees_with_cost_and_writes_trace(tmp_path):
    trace = tmp_path / "t.json"
    args = ["gemm", "--rows", 4, "--cols", 4, "--m", 9, "--n", 7, "--k", 5, "--bandwidth", 4, "--latency", 3, "--json"]
    cl = json.loads(hwsim(*args, "--face", "cl", "--trace", trace).stdout)
    cost = json.loads(hwsim(*args).stdout)
    assert cl["values_match_fl"] is True
    for key in ("cycles", "stall_cycles", "macs", "sram_reads", "sram_writes"):
        assert cl[key] == cost[key]
    events = json.loads(trace.read_text())["traceEvents"]
    tracks = {e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    assert {"loader", "array"} <= tracks
    assert any(e["ph"] == "X" and e["name"].startswith("stall") for e in events)


def test_gemm_scalesim_accounting():
    d = json.loads(hwsim("gemm", "--rows", 4, "--cols", 4, "--dataflow", "ws", "--m", 8, "--n", 8, "--k", 8,
                         "--accounting", "scalesim", "--json").stdout)
    assert d["cycles"] == 71  # measured with SCALE-Sim 3.0.0


@pytest.mark.parametrize("args, lines", [
    (["gemm", "--rows", 0, "--m", 0], ["error: --rows: Input should be greater than or equal to 1, got 0",
                                       "error: --m: must be an integer >= 1, got 0"]),
    (["gemm", "--input", "fp16", "--accumulator", "int32"],
     ["error: --input/--accumulator: accumulator int32 does not suit input fp16 (integer inputs need "
      "int32/int48/int64, fp16/bf16 need fp32), got {'input': 'fp16', 'accumulator': 'int32'}"]),
    (["gemm", "--bandwidth", 0], ["error: --bandwidth: Input should be greater than or equal to 1, got 0"]),
    (["gemm", "--face", "cl", "--accounting", "scalesim"],
     ["error: --accounting: 'scalesim' is a cost-face view; use --face cost"]),
])
def test_bad_values_give_one_line_each_and_exit_2(args, lines):
    r = hwsim(*args)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == lines
    assert "Traceback" not in r.stderr


def test_unknown_choice_is_a_usage_error_without_traceback():
    r = hwsim("gemm", "--dataflow", "xs")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "'xs' is not one of 'os', 'ws', 'is'" in r.stderr


def write(tmp_path, text, name="cfg.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_bad_config_file_names_every_problem(tmp_path):
    cfg = write(tmp_path, """
name: bad
unit: {rows: 0, cols: 4, dataflow: ws, sram: {a_kib: -1}, colour: red}
face: fast
workload: {gemms: [{name: x, m: 1, n: 0, k: 3}]}
""")
    r = hwsim("run", cfg, "--out", tmp_path / "out")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: cfg.unit.rows: Input should be greater than or equal to 1, got 0",
        "error: cfg.unit.sram.a_kib: Input should be greater than 0, got -1",
        "error: cfg.unit.colour: unknown key (not a field of this config)",
        "error: cfg.face: Input should be 'cost' or 'cl', got 'fast'",
        "error: cfg.workload.gemms[0].n: Input should be greater than or equal to 1, got 0",
    ]
    assert not (tmp_path / "out").exists()


def test_yaml_syntax_error_and_missing_file(tmp_path):
    cfg = write(tmp_path, "name: x\nunit: {rows: 4\n")
    r = hwsim("run", cfg)
    assert r.returncode == 2 and "YAML syntax error" in r.stderr and "cfg.yaml:" in r.stderr
    r = hwsim("run", tmp_path / "nope.yaml")
    assert r.returncode == 2 and r.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found"


def test_run_writes_report_files(tmp_path):
    cfg = write(tmp_path, """
name: t1
unit: {rows: 8, cols: 8, dataflow: is, memory_port: {bandwidth_bytes_per_cycle: 8, latency_cycles: 10}}
workload:
  gemms:
    - {name: a, m: 30, n: 20, k: 50}
    - {name: b, m: 1, n: 64, k: 64, count: 4}
""")
    out = tmp_path / "rep"
    r = hwsim("run", cfg, "--out", out, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert sorted(p.name for p in out.iterdir()) == [
        "area_breakdown.png", "energy_breakdown.png", "layer_cycles.png", "report.json", "report.md", "roofline.png",
        "utilization.png"]
    assert json.loads((out / "report.json").read_text()) == data
    unit = SystolicConfig(rows=8, cols=8, dataflow="is", memory_port={"bandwidth_bytes_per_cycle": 8, "latency_cycles": 10})
    expected = gemm_cost(unit, 30, 20, 50).cycles + 4 * gemm_cost(unit, 1, 64, 64).cycles
    assert data["totals"]["cycles"] == expected
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    md = (out / "report.md").read_text()
    assert "| a | 30 | 20 | 50 |" in md and "![energy breakdown](energy_breakdown.png)" in md


def test_run_trace_needs_cl_face(tmp_path):
    cfg = write(tmp_path, "name: t2\nunit: {rows: 4, cols: 4}\nworkload: {gemms: [{name: a, m: 4, n: 4, k: 4}]}\n")
    r = hwsim("run", cfg, "--trace", tmp_path / "t.json", "--out", tmp_path / "o")
    assert r.returncode == 2
    assert r.stderr.strip() == "error: --trace: traces come from the cycle-level simulation; set face: cl in the config"


def test_scalesim_command_json_and_errors(tmp_path):
    r = hwsim("scalesim", "-c", "workloads/scalesim/scale.cfg", "-t", "workloads/scalesim/gemm_small.csv", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    cfg = SystolicConfig(rows=32, cols=32, dataflow="ws", sram={"a_kib": 64, "b_kib": 64, "c_kib": 64})
    for row in rows:
        assert row["cycles"] == gemm_cost(cfg, row["m"], row["n"], row["k"], accounting="scalesim").cycles
    bad = tmp_path / "bad.cfg"
    bad.write_text("[general]\nrun_name = x\n[architecture_presets]\nArrayHeight: 0\n")
    r = hwsim("scalesim", "-c", bad, "-t", "workloads/scalesim/gemm_small.csv")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "ArrayHeight: must be an integer from 1 to 4096, got '0'" in r.stderr


def test_mem_bench_json_keys_and_faces():
    keys = {"bandwidth_gbps", "peak_bandwidth_gbps", "avg_latency_ns", "row_hit_rate", "energy_pj_per_bit"}
    res = {}
    for face in ("cl", "cost"):
        r = hwsim("mem", "bench", "--preset", "hbm3", "--pattern", "stream", "--requests", "4000",
                  "--face", face, "--json")
        assert r.returncode == 0, r.stderr
        res[face] = json.loads(r.stdout)
        assert keys <= set(res[face])
    assert res["cl"]["peak_bandwidth_gbps"] == res["cost"]["peak_bandwidth_gbps"] == 819.2
    assert 0 < res["cl"]["bandwidth_gbps"] <= 819.2
    assert abs(res["cost"]["bandwidth_gbps"] - res["cl"]["bandwidth_gbps"]) < 0.12 * res["cl"]["bandwidth_gbps"]
    r = hwsim("mem", "bench", "--preset", "ddr4", "--pattern", "random", "--requests", "500")
    assert r.returncode == 0 and "bandwidth_gbps" in r.stdout


def test_mem_bench_bad_input_is_one_line():
    r = hwsim("mem", "bench", "--preset", "hbm9")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "preset" in r.stderr and "hbm3" in r.stderr
    r = hwsim("mem", "bench", "--read-fraction", "1.5")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "read_fraction" in r.stderr


def test_mem_bench_set_overrides_preset_fields():
    r = hwsim("mem", "bench", "--preset", "hbm3", "--set", "channels=4", "--requests", "1000", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["peak_bandwidth_gbps"] == 4 * 2 * 32 / 8 * 6.4  # 204.8 GB/s
    r = hwsim("mem", "bench", "--set", "bogus=1")
    assert r.returncode == 2 and "bogus" in r.stderr and "Traceback" not in r.stderr
