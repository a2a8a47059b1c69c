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
        # integer sums are order-independent modulo 2**width
        return pe.finish(a.astype(np.int64) @ b.astype(np.int64))
    chunk = get_dataflow(cfg.dataflow).accumulation_chunk(k, cfg.rows)
    result = None
    for k0 in range(0, k, chunk):
        part = np.zeros((m, n), dtype=pe.acc_dtype)
        for kk in range(k0, min(k, k0 + chunk)):
            part = pe.accumulate(part, pe.mul.multiply(a[:, kk : kk + 1], b[kk : kk + 1, :]))
        result = part if result is None else pe.accumulate(result, part)
    return pe.finish(result)
