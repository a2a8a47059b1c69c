"""The cost face equals the CL face exactly (integers, ==), and CL values equal FL and numpy.

Hypothesis explores small shapes including the edge cases: M=1, N=1, K=1, dimensions not multiples
of the array and dimensions smaller than the array; with an ideal supply and with a finite memory
port (random bandwidth, latency and SRAM sizes, so stalls and chunked streams are exercised).
"""

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hwsim.systolic.cl import run_gemm_cl
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost
from hwsim.systolic.fl import gemm_fl

dims = st.integers(1, 13)
arr = st.integers(1, 6)
dataflows = st.sampled_from(["os", "ws", "is"])


def check(cfg, m, n, k, seed=0):
    rng = np.random.default_rng(seed)
    a = cfg.pe.random_operands((m, k), rng)
    b = cfg.pe.random_operands((k, n), rng)
    c, cl = run_gemm_cl(cfg, a, b)
    cost = gemm_cost(cfg, m, n, k)
    assert cl.counts() == cost.counts()
    assert cl.cycles == cl.compute_cycles + cl.stall_cycles
    assert cl.macs == m * n * k == cl.pe_busy_cycles
    assert np.array_equal(c, gemm_fl(cfg, a, b))
    return a, b, c, cl


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=arr, cols=arr, m=dims, n=dims, k=dims, dataflow=dataflows)
@example(rows=4, cols=4, m=1, n=1, k=1, dataflow="os")
@example(rows=4, cols=4, m=1, n=9, k=9, dataflow="ws")  # decode-like GEMV
@example(rows=4, cols=4, m=9, n=1, k=9, dataflow="is")
@example(rows=4, cols=4, m=9, n=9, k=1, dataflow="os")
@example(rows=3, cols=5, m=7, n=11, k=13, dataflow="ws")  # nothing a multiple of the array
@example(rows=6, cols=6, m=2, n=3, k=4, dataflow="is")  # everything smaller than the array
@example(rows=1, cols=1, m=3, n=2, k=5, dataflow="os")
def test_cost_equals_cl_ideal_supply_int8(rows, cols, m, n, k, dataflow):
    cfg = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow)
    a, b, c, _ = check(cfg, m, n, k)
    assert np.array_equal(c, a @ b)  # int8 x int8 -> int32 cannot overflow at these sizes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=arr, cols=arr, m=dims, n=dims, k=dims, dataflow=dataflows,
       bandwidth=st.integers(1, 40), latency=st.integers(0, 30),
       a_bytes=st.integers(72, 300), b_bytes=st.integers(72, 300))
@example(rows=2, cols=2, m=13, n=2, k=2, dataflow="ws", bandwidth=1, latency=10, a_bytes=72, b_bytes=72)
def test_cost_equals_cl_with_memory_port(rows, cols, m, n, k, dataflow, bandwidth, latency, a_bytes, b_bytes):
    cfg = SystolicConfig(
        rows=rows, cols=cols, dataflow=dataflow,
        sram={"a_kib": a_bytes / 1024, "b_kib": b_bytes / 1024},
        memory_port={"bandwidth_bytes_per_cycle": bandwidth, "latency_cycles": latency},
    )
    check(cfg, m, n, k)


@settings(max_examples=40, deadline=None)
@given(rows=arr, cols=arr, m=dims, n=dims, k=dims, dataflow=dataflows,
       fmt=st.sampled_from([("fp16", "fp32"), ("bf16", "fp32"), ("int16", "int48"), ("uint8", "int32"),
                            ("int4", "int32"), ("int16", "int64")]))
def test_formats_cl_values_equal_fl(rows, cols, m, n, k, dataflow, fmt):
    cfg = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow, pe={"input": fmt[0], "accumulator": fmt[1]})
    check(cfg, m, n, k, seed=m * 1000 + n * 10 + k)


def test_cl_is_deterministic():
    cfg = SystolicConfig(rows=4, cols=3, dataflow="ws", pe={"input": "fp16", "accumulator": "fp32"},
                         memory_port={"bandwidth_bytes_per_cycle": 5, "latency_cycles": 3})
    runs = [check(cfg, 9, 7, 11, seed=3) for _ in range(2)]
    assert np.array_equal(runs[0][2], runs[1][2]) and runs[0][3] == runs[1][3]


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 8), cols=st.integers(1, 8), m=st.integers(1, 200), n=st.integers(1, 200),
       k=st.integers(1, 200), dataflow=dataflows, bandwidth=st.integers(1, 64), latency=st.integers(0, 200),
       a_kib=st.sampled_from([0.25, 1, 4]), b_kib=st.sampled_from([0.25, 1, 4]))
def test_period_shortcut_is_exact(rows, cols, m, n, k, dataflow, bandwidth, latency, a_kib, b_kib):
    """Summing repeated folds by period detection gives the same integers as evaluating every fold."""
    from hwsim.systolic.cost import supply_timeline

    cfg = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow, sram={"a_kib": a_kib, "b_kib": b_kib},
                         memory_port={"bandwidth_bytes_per_cycle": bandwidth, "latency_cycles": latency})
    assert supply_timeline(cfg, m, n, k) == supply_timeline(cfg, m, n, k, shortcut=False)


def test_cl_equals_cost_on_a_many_fold_layer_with_chunked_streams():
    cfg = SystolicConfig(rows=4, cols=4, dataflow="ws", sram={"a_kib": 0.0625, "b_kib": 0.0625},
                         memory_port={"bandwidth_bytes_per_cycle": 3, "latency_cycles": 9})
    check(cfg, 70, 23, 37)
