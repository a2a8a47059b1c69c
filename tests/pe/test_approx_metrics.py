"""Approximate multipliers' FL models and error metrics against closed forms."""

import numpy as np
import pytest

from hwsim.approx.designs import DESIGNS_8, DESIGNS_16, Design
from hwsim.pe.approx import approx_compressor_4_2, pp_column_heights
from hwsim.pe.metrics import error_metrics

U8 = "uint8"


def metrics(design: Design, fmt: str = U8, samples=None):
    return error_metrics(design.multiplier(fmt), samples=samples)


def dropped_expectation(n: int, k: int) -> float:
    """E[value of the PP bits in columns < k] for uniform operands: each bit is 1 with probability 1/4."""
    h = pp_column_heights(n)
    return sum(h[c] * 2**c for c in range(min(k, len(h)))) / 4


@pytest.mark.parametrize("k", range(1, 9))
def test_truncated_worst_case_and_bias_closed_form(k):
    m = metrics(Design("truncated", {"k": k}))
    assert m.wce == (k - 1) * 2**k + 1  # every dropped PP bit is 1 when a = b = 255
    assert m.bias == pytest.approx(-dropped_expectation(8, k), abs=1e-9)  # exhaustive: exactly -E[dropped]
    assert m.exhaustive and m.pairs == 65536


@pytest.mark.parametrize("k", [4, 6, 8])
def test_truncated_compensation_constant_removes_the_bias(k):
    d = Design("truncated", {"k": k, "compensation": True})
    mult = d.multiplier(U8)
    expected = dropped_expectation(8, k)
    assert mult.constant == int(np.floor(expected + 0.5))
    m = error_metrics(mult)
    assert m.bias == pytest.approx(mult.constant - expected, abs=1e-9)
    assert abs(m.bias) <= 0.5


@pytest.mark.parametrize("hbl, vbl", [(0, 0), (1, 4), (2, 6), (3, 0), (0, 9)])
def test_bam_worst_case_is_all_omitted_bits(hbl, vbl):
    omitted = sum(2 ** (i + j) for j in range(8) for i in range(8) if j < hbl or i + j < vbl)
    m = metrics(Design("bam", {"hbl": hbl, "vbl": vbl}))
    assert m.wce == omitted
    assert (m.er == 0) == (omitted == 0)


def test_mitchell_maximum_relative_error_is_one_ninth():
    mult = Design("mitchell").multiplier(U8)
    a, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    exact, approx = a * b, mult.multiply(a, b)
    assert np.all(approx <= exact)  # never overestimates
    nz = exact > 0
    red = (exact[nz] - approx[nz]) / exact[nz]
    assert red.max() == pytest.approx(1 / 9, abs=1e-12)  # f1 = f2 = 1/2, e.g. 3 x 3 -> 8
    assert mult.multiply(np.array(3), np.array(3)) == 8
    powers = 2 ** np.arange(8)
    assert np.array_equal(mult.multiply(powers[:, None], powers[None, :]), powers[:, None] * powers[None, :])


@pytest.mark.parametrize("k", [3, 4, 6])
def test_drum_bounds(k):
    mult = Design("drum", {"k": k}).multiplier(U8)
    a, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    exact, approx = a * b, mult.multiply(a, b)
    small = (a < 2**k) & (b < 2**k)
    assert np.array_equal(approx[small], exact[small])  # operands below 2^k are exact
    nz = exact > 0
    bound = (1 + 2.0 ** -(k - 1)) ** 2 - 1  # each operand within 2^-(k-1) relative
    assert np.abs(approx[nz] / exact[nz] - 1).max() <= bound
    # "unbiased": forcing the lowest kept bit to 1 centres each operand's truncation error: over every
    # operand with its leading one at bit t >= k the mean of DRUM(x) - x is exactly +1/2 (multiplying
    # by 1, which DRUM keeps exact, exposes the operand approximation)
    for t in range(k, 8):
        x = np.arange(2**t, 2 ** (t + 1))
        assert (mult.multiply(x, np.ones_like(x)) - x).mean() == 0.5


def test_compressor_truth_table_and_exact_limit():
    pats = [(x1, x2, x3, x4) for x1 in (0, 1) for x2 in (0, 1) for x3 in (0, 1) for x4 in (0, 1)]
    errors = {}
    for p in pats:
        s, c = approx_compressor_4_2(*p, lambda x, y: x ^ y, lambda x, y: x & y, lambda x, y: x | y)
        err = (s + 2 * c) - sum(p)
        if err:
            errors[p] = err
    assert errors == {(1, 1, 1, 1): -2, (1, 0, 1, 0): -1, (1, 0, 0, 1): -1, (0, 1, 1, 0): -1, (0, 1, 0, 1): -1}
    assert metrics(Design("compressor", {"approx_columns": 0})).er == 0  # no approximate column: exact
    assert metrics(Design("compressor", {"approx_columns": 8})).er > 0


@pytest.mark.parametrize("design", DESIGNS_8, ids=lambda d: d.label)
def test_sign_magnitude_symmetry(design):
    mult = design.multiplier("int8")
    vals = np.concatenate([np.arange(-127, 0), np.arange(1, 128)])  # zero has no sign to flip
    a, b = np.meshgrid(vals, vals, indexing="ij")
    p = mult.multiply(a, b)
    assert np.array_equal(mult.multiply(-a, b), -p)
    assert np.array_equal(mult.multiply(a, -b), -p)
    # the signed design's magnitude equals the unsigned core on the magnitudes
    core = design.multiplier("uint8").multiply(np.abs(a), np.abs(b))
    assert np.array_equal(np.abs(p), core)


def test_exact_design_has_zero_error():
    m = metrics(Design("exact"), "int8")
    assert (m.er, m.med, m.mred, m.wce, m.bias) == (0, 0, 0, 0, 0)


def test_sampled_confidence_intervals_cover_the_exhaustive_value():
    d = Design("drum", {"k": 4})
    full = metrics(d)
    sample = metrics(d, samples=40_000)
    assert not sample.exhaustive and sample.pairs == 40_000
    for key in ("med", "mred", "er", "bias"):
        lo, hi = sample.ci95[key]
        assert lo <= getattr(full, key) <= hi, key
    assert sample.wce <= full.wce  # a sample's worst case is a lower bound


@pytest.mark.parametrize("design", DESIGNS_16, ids=lambda d: d.label)
def test_16_bit_designs_sampled(design):
    m = metrics(design, "int16", samples=50_000)
    assert m.pairs == 50_000 and m.ci95
    assert 0 <= m.nmed < 0.05 and (m.er == 0) == (design.kind == "exact")


def test_drum6_16bit_matches_the_published_mred():
    # Hashemi, Bahar, Reda (ICCAD 2015) report a mean relative error of 1.47% for 16-bit DRUM with k=6
    m = metrics(Design("drum", {"k": 6}), "uint16", samples=200_000)
    assert m.mred == pytest.approx(0.0147, abs=0.0003)
    lo, hi = m.ci95["mred"]
    assert lo < m.mred < hi and hi - lo < 0.0002
