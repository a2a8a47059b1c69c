"""Calibration against published chips: record schema, what is calibrated, hand-derived figures, pinned errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hwsim.power import load_tech
from hwsim.power.calibrate import CHIPS, calibrate, calibration_records, model_chip, write_report

KEYS = {"chip", "metric", "published", "modelled", "error_pct", "unit", "source", "calibrated"}


@pytest.fixture(scope="module")
def records():
    return calibration_records()


def _get(records, chip, metric):
    return next(r for r in records if r["chip"] == chip and r["metric"] == metric)


def test_record_schema_and_error(records):
    assert {r["chip"] for r in records} == {"eyeriss", "tpuv1", "simba"}
    for r in records:
        assert set(r) == KEYS
        assert r["error_pct"] == pytest.approx((r["modelled"] - r["published"]) / r["published"] * 100)
        assert r["source"]


def test_only_eyeriss_area_and_power_are_calibrated(records):
    calibrated = {(r["chip"], r["metric"]) for r in records if r["calibrated"]}
    assert calibrated == {("eyeriss", "area"), ("eyeriss", "power")}
    for chip, metric in calibrated:
        assert _get(records, chip, metric)["error_pct"] == pytest.approx(0, abs=1e-9)
    checks = [r for r in records if not r["calibrated"]]
    assert len(checks) == 7


def test_published_numbers_are_the_papers(records):
    published = {(r["chip"], r["metric"]): r["published"] for r in records}
    assert published[("eyeriss", "area")] == 12.25 and published[("eyeriss", "power")] == 0.278
    assert published[("eyeriss", "throughput")] == 35.0  # AlexNet conv layers, frames/s (JSSC 2017)
    assert published[("tpuv1", "peak")] == 92.0 and published[("tpuv1", "area")] == 331.0
    assert published[("tpuv1", "power")] == 40.0
    assert published[("simba", "energy_per_op")] == 0.11 and published[("simba", "peak")] == 4.01


def test_eyeriss_area_by_hand():
    """Datapath + SRAM area of Eyeriss from the n65 table, computed here term by term."""
    t = load_tech("n65")
    pe_um2 = (t.mult_area_um2("int16") + t.add_area_um2("int32")
              + t.register_area_um2(2 * 16 + 32) + t.register_area_um2((12 + 24) * 16))
    sram_mm2 = 3 * t.sram_area_mm2(36 * 1024) + 168 * t.sram_area_mm2(224 * 2)
    expected = 168 * pe_um2 * 1e-6 + sram_mm2
    eyeriss = next(c for c in CHIPS if c.name == "eyeriss")
    assert model_chip(eyeriss).area_mm2 == pytest.approx(expected, rel=1e-12)
    assert calibrate().area_overhead == pytest.approx(12.25 / expected, rel=1e-12)


def test_tpu_peak_and_area_from_the_calibrated_overhead(records):
    assert _get(records, "tpuv1", "peak")["modelled"] == pytest.approx(2 * 256 * 256 * 700e6 / 1e12)
    tpu = next(c for c in CHIPS if c.name == "tpuv1")
    t = load_tech("n28")
    pe_um2 = t.mult_area_um2("int8") + t.add_area_um2("int32") + t.register_area_um2(2 * 8 + 32)
    raw = 65536 * pe_um2 * 1e-6 + sum(t.sram_area_mm2(kib * 1024) for kib in (24 * 1024, 256, 4 * 1024))
    assert model_chip(tpu).area_mm2 == pytest.approx(raw, rel=1e-12)
    assert _get(records, "tpuv1", "area")["modelled"] == pytest.approx(raw * calibrate().area_overhead, rel=1e-12)


def test_power_is_calibrated_dynamic_plus_leakage(records):
    cal = calibrate()
    for chip in CHIPS:
        m = model_chip(chip)
        area = m.area_mm2 * cal.area_overhead
        power = m.dynamic_w * cal.power_overhead + m.leakage_w_per_mm2 * area
        if "power" in chip.published:
            assert _get(records, chip.name, "power")["modelled"] == pytest.approx(power, rel=1e-12)


def test_pinned_check_errors(records):
    """The checks' errors as of this model (a change to tables or models that moves them shows here)."""
    pinned = {("eyeriss", "throughput"): -16.3, ("tpuv1", "area"): -1.6, ("tpuv1", "power"): -19.7,
              ("tpuv1", "peak"): -0.3, ("simba", "area"): -34.4, ("simba", "energy_per_op"): -18.1,
              ("simba", "peak"): 2.1}
    for (chip, metric), err in pinned.items():
        assert _get(records, chip, metric)["error_pct"] == pytest.approx(err, abs=0.05), (chip, metric)


def test_report_files(tmp_path):
    md = write_report(tmp_path)
    text = md.read_text()
    assert "| tpuv1 | power |" in text and "area_overhead" in text
    data = json.loads((tmp_path / "report.json").read_text())
    assert len(data["records"]) == 9
    assert (tmp_path / "calibration.png").stat().st_size > 1000


def test_cli_json():
    out = subprocess.run([sys.executable, "-m", "hwsim", "power", "calibrate", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert all(set(r) == KEYS for r in rows) and len(rows) == 9


def test_builtin_alexnet_matches_the_workload_file():
    from pathlib import Path

    from hwsim.compat.scalesim import read_topology
    from hwsim.power.calibrate import alexnet_conv_gemms

    csv = Path(__file__).resolve().parents[2] / "workloads" / "scalesim" / "alexnet.csv"
    from_file = [(layer.name, layer.m * 4, layer.n, layer.k) for layer in read_topology(csv, kind="conv")]
    assert alexnet_conv_gemms(4) == from_file
