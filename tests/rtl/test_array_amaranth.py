"""RTL array vs CL face on Amaranth's own simulator (in-process, fast): hypothesis over dataflows,
array shapes, GEMM shapes, number formats and memory-port stalls. Every output value and the cycle it
is written must equal the CL face's; the assembled C must equal the FL face's."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.systolic.config import SystolicConfig
from rtl.cosim.amaranth_sim import cosim_amaranth

FORMATS = [("int8", "int32"), ("int4", "int32"), ("uint8", "int32"), ("int16", "int48"), ("uint4", "int64")]


def assert_clean(results):
    for r in results:
        assert r["value_mismatches"] == 0 and r["cycle_mismatches"] == 0, r["first_problems"]
        assert r["missing"] == 0 and r["extra"] == 0, r["first_problems"]
        assert r["rtl_cycles"] == r["model_cycles"]
        assert r["c_matches_fl"]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(dataflow=st.sampled_from(["os", "ws", "is"]), rows=st.integers(1, 4), cols=st.integers(1, 4),
       fmt=st.sampled_from(FORMATS),
       gemms=st.lists(st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7)), min_size=1, max_size=3),
       port=st.one_of(st.none(), st.tuples(st.integers(1, 8), st.integers(0, 6))), seed=st.integers(0, 2**16))
def test_rtl_equals_cl(dataflow, rows, cols, fmt, gemms, port, seed):
    cfg = SystolicConfig(
        rows=rows, cols=cols, dataflow=dataflow, pe={"input": fmt[0], "accumulator": fmt[1]},
        memory_port=None if port is None else {"bandwidth_bytes_per_cycle": port[0], "latency_cycles": port[1]},
    )
    rng = np.random.default_rng(seed)
    operands = [(cfg.pe.random_operands((m, k), rng), cfg.pe.random_operands((k, n), rng)) for m, n, k in gemms]
    assert_clean(cosim_amaranth(cfg, operands, follow_stalls=port is not None))


def test_overflow_wraps_like_the_fl_face():
    # int16 x int16 products summed into an int32 accumulator overflow; RTL and CL/FL wrap alike
    cfg = SystolicConfig(rows=2, cols=2, dataflow="ws", pe={"input": "int16", "accumulator": "int32"})
    a = np.full((3, 6), -32768)
    b = np.full((6, 2), -32768)
    assert_clean(cosim_amaranth(cfg, [(a, b)]))
