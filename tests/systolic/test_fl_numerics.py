"""FL face numerics against independent references (Python integers, scalar IEEE arithmetic)."""

import struct

import numpy as np
import pytest

from hwsim.errors import ConfigError
from hwsim.pe.formats import get_format, to_bf16
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.fl import gemm_fl


def test_int16_into_int32_wraps_like_twos_complement():
    cfg = SystolicConfig(rows=2, cols=2, dataflow="os", pe={"input": "int16", "accumulator": "int32"})
    a = np.full((2, 4), -32768)
    b = np.full((4, 3), -32768)
    c = gemm_fl(cfg, a, b)
    exact = 4 * (32768 * 32768)  # 2**32 -> wraps to 0 in 32 bits
    ref = ((exact + 2**31) % 2**32) - 2**31
    assert ref == 0 and np.all(c == ref)
    a[0, 0] = 32767
    c = gemm_fl(cfg, a, b)
    exact = 3 * 32768 * 32768 - 32767 * 32768
    assert c[0, 0] == ((exact + 2**31) % 2**32) - 2**31


def test_uint8_int48_exact():
    cfg = SystolicConfig(rows=3, cols=3, dataflow="ws", pe={"input": "uint8", "accumulator": "int48"})
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (5, 7))
    b = rng.integers(0, 256, (7, 4))
    ref = [[sum(int(a[i, kk]) * int(b[kk, j]) for kk in range(7)) for j in range(4)] for i in range(5)]
    assert gemm_fl(cfg, a, b).tolist() == ref


def f32(x: float) -> float:
    """Round a Python float (binary64) to binary32, via struct (independent of numpy)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def scalar_dot_fp32(a_row, b_col, chunk):
    """Reference: products exact in binary64, each addition rounded to binary32, K-slices of
    ``chunk`` summed from +0 then added to the running total (the documented order)."""
    total = None
    for k0 in range(0, len(a_row), chunk):
        part = 0.0
        for kk in range(k0, min(len(a_row), k0 + chunk)):
            part = f32(part + f32(float(a_row[kk]) * float(b_col[kk])))
        total = part if total is None else f32(total + part)
    return total


@pytest.mark.parametrize("fmt", ["fp16", "bf16"])
@pytest.mark.parametrize("df, rows", [("os", 4), ("ws", 4), ("is", 3)])
def test_fp_accumulation_order_matches_scalar_reference(fmt, df, rows):
    cfg = SystolicConfig(rows=rows, cols=4, dataflow=df, pe={"input": fmt, "accumulator": "fp32"})
    rng = np.random.default_rng(11)
    a = cfg.pe.random_operands((3, 10), rng) * 3
    b = cfg.pe.random_operands((10, 5), rng)
    a, b = cfg.pe.in_fmt.quantize(a), cfg.pe.in_fmt.quantize(b)
    c = gemm_fl(cfg, a, b)
    chunk = 10 if df == "os" else rows
    for i in range(3):
        for j in range(5):
            assert float(c[i, j]) == scalar_dot_fp32(a[i], b[:, j], chunk)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("value, expected_bits", [
    (1.0, 0x3F80), (1.00390625, 0x3F80),  # exactly half an ulp above 1.0: ties to even -> 1.0
    (1.01171875, 0x3F82),  # 1 + 3/256: half-way between 0x3F81 and 0x3F82 -> even 0x3F82
    (-2.5, 0xC020), (3.0e38, 0x7F62),
])
def test_bf16_round_to_nearest_even(value, expected_bits):
    got = to_bf16(np.array([value], dtype=np.float32))[0]
    assert struct.unpack(">I", struct.pack(">f", float(got)))[0] >> 16 == expected_bits


def test_operands_checked_against_format():
    cfg = SystolicConfig(rows=2, cols=2)
    with pytest.raises(ConfigError, match=r"A: values must lie in \[-128, 127\] for int8, got range \[0, 200\]"):
        gemm_fl(cfg, np.array([[200, 0]]), np.ones((2, 2), int))
    with pytest.raises(ConfigError, match="A is 1x2 but B is 3x2"):
        gemm_fl(cfg, np.ones((1, 2), int), np.ones((3, 2), int))
    fp = SystolicConfig(rows=2, cols=2, pe={"input": "fp16", "accumulator": "fp32"})
    with pytest.raises(ConfigError, match="not exactly representable in fp16"):
        gemm_fl(fp, np.array([[0.1]]), np.array([[1.0]]))
    assert get_format("int4").storage_bytes(3) == 2
