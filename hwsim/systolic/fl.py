"""FL face: bit-accurate GEMM values as the array computes them (no time).

Integer results are exact (wrapped to the accumulator width, as the hardware wraps). For fp16/bf16
with fp32 accumulation the rounding depends on the order of the additions, so the FL face follows
the dataflow: OS sums k = 0..K-1 in one accumulator; WS/IS sum each K-slice of ``rows`` down a column
(starting from +0) and the C SRAM adds the slices in order. The product is the PE's multiplier, so an
approximate multiplier changes the FL values exactly as it changes the array's.
"""

from __future__ import annotations

import numpy as np

from hwsim.errors import ConfigError
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import get_dataflow


def check_operands(cfg: SystolicConfig, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate shapes and that every value is representable in the PE input format."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ConfigError(f"gemm operands: A and B must be 2-D, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ConfigError(f"gemm operands: A is {a.shape[0]}x{a.shape[1]} but B is {b.shape[0]}x{b.shape[1]}; "
                          f"A's columns must equal B's rows (K)")
    if 0 in a.shape or 0 in b.shape:
        raise ConfigError(f"gemm operands: every dimension must be >= 1, got A {a.shape}, B {b.shape}")
    fmt = cfg.pe.in_fmt
    return fmt.check(a, "A"), fmt.check(b, "B")


def gemm_fl(cfg: SystolicConfig, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A . B as the configured array computes it (int64 for integer formats, float32 for fp)."""
    a, b = check_operands(cfg, a, b)
    pe = cfg.pe
    m, k = a.shape
    n = b.shape[1]
    if pe.in_fmt.is_int and pe.mul.is_exact:
        # integer sums are order-independent modulo 2**width; a float64 (BLAS) product is exact while
        # every partial sum stays below 2**53, which is much faster than numpy's integer matmul
        bound = k * max(int(np.abs(a).max()), 1) * max(int(np.abs(b).max()), 1)
        if bound < 2**53:
            return pe.finish(np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64))
        return pe.finish(a.astype(np.int64) @ b.astype(np.int64))
    if pe.in_fmt.is_int and pe.in_fmt.bits <= 8:
        return pe.finish(_gemm_product_table(pe, a, b))
    chunk = get_dataflow(cfg.dataflow).accumulation_chunk(k, cfg.rows)
    result = None
    for k0 in range(0, k, chunk):
        part = np.zeros((m, n), dtype=pe.acc_dtype)
        for kk in range(k0, min(k, k0 + chunk)):
            part = pe.accumulate(part, pe.mul.multiply(a[:, kk : kk + 1], b[kk : kk + 1, :]))
        result = part if result is None else pe.accumulate(result, part)
    return pe.finish(result)


def product_table(pe) -> np.ndarray:
    """The multiplier's products for every operand pair of an integer format up to 8 bits
    (``table[a - min, b - min]``), computed once per PE config by the multiplier itself."""
    cache = pe.__dict__.setdefault("_product_table", None)
    if cache is None:
        f = pe.in_fmt
        vals = np.arange(f.min_int, f.max_int + 1, dtype=np.int64)
        cache = pe.mul.multiply(vals[:, None], vals[None, :]).astype(np.int64)
        pe.__dict__["_product_table"] = cache
    return cache


def _gemm_product_table(pe, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over k of table[a[m, k], b[k, n]]: bit-exact for any multiplier design (integer sums are
    order-independent modulo 2**width), one M x N gather per k."""
    table = product_table(pe)
    lo = pe.in_fmt.min_int
    ai = (a - lo).astype(np.intp)
    bi = (b - lo).astype(np.intp)
    # int32 halves the memory traffic when the sum cannot overflow it
    peak = int(np.abs(table).max()) * a.shape[1]
    dtype = np.int32 if peak < 2**31 else np.int64
    table = table.astype(dtype)
    out = np.zeros((a.shape[0], b.shape[1]), dtype)
    for kk in range(a.shape[1]):
        rows = table[ai[:, kk]]  # the table rows of this k's A values (M x 2^bits), contiguous
        out += np.take(rows, bi[kk], axis=1)
    return out.astype(np.int64)
