"""RTL twins vs their models under cocotb on Icarus Verilog and Verilator.

CI runs a representative subset (all three dataflows on small arrays on Icarus, one Verilator run,
the PE and the stream blocks); the full matrix — 2x2, 4x4, 8x8 and a non-square array, every
dataflow, both simulators — is marked ``slow`` (``make test-all``, or ``pytest -m slow --sim ...``).
GEMM shapes come from hypothesis with a fixed seed; each example is one simulator run of a batch.
"""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.pe.config import PEConfig
from hwsim.systolic.config import SystolicConfig
from rtl.cosim import runner

pytestmark = [pytest.mark.xdist_group("cosim")]

gemm_batches = st.lists(st.fixed_dictionaries({"m": st.integers(1, 10), "n": st.integers(1, 10),
                                               "k": st.integers(1, 10), "seed": st.integers(0, 10**6)}),
                        min_size=3, max_size=6)


def check(results):
    assert results
    for r in results:
        assert r["value_mismatches"] == 0 and r["cycle_mismatches"] == 0, r["first_problems"]
        assert r["missing"] == 0 and r["extra"] == 0 and r["outputs"] > 0
        assert r["rtl_cycles"] == r["model_cycles"]
        assert r["c_matches_fl"]


def simulators(config):
    choice = config.getoption("--sim")
    return ["icarus", "verilator"] if choice == "both" else [choice]


@pytest.mark.parametrize("dataflow, rows, cols", [("os", 4, 4), ("ws", 4, 4), ("is", 3, 5)])
@settings(max_examples=1, deadline=None, derandomize=True)
@given(gemms=gemm_batches)
def test_ci_subset_icarus(dataflow, rows, cols, gemms):
    check(runner.cosim_array(SystolicConfig(rows=rows, cols=cols, dataflow=dataflow), gemms, sim="icarus"))


def test_ci_one_verilator_run_with_stalls():
    cfg = SystolicConfig(rows=4, cols=4, dataflow="ws", pe={"input": "int8", "accumulator": "int32"},
                         memory_port={"bandwidth_bytes_per_cycle": 4, "latency_cycles": 5})
    gemms = [{"m": 9, "n": 6, "k": 7, "seed": 1}, {"m": 1, "n": 8, "k": 8, "seed": 2}, {"m": 5, "n": 1, "k": 3, "seed": 3}]
    check(runner.cosim_array(cfg, gemms, sim="verilator", follow_stalls=True))


def test_pe_all_int4_pairs_and_random_int16_on_icarus():
    r = runner.cosim_pe(PEConfig(input="int4"), "exhaustive", sim="icarus")
    assert r["pairs"] == 256 and not r["mismatches"]
    r = runner.cosim_pe(PEConfig(input="uint16", accumulator="int48"), 2000, seed=3, sim="icarus")
    assert r["pairs"] == 2000 and not r["mismatches"]


@pytest.mark.parametrize("block, params", [("fifo", {"depth": 3}), ("link", {"latency": 2, "credits": 3})])
def test_stream_blocks_on_icarus(block, params):
    r = runner.cosim_stream(block, **params, cycles=1500, sim="icarus")
    assert not r["mismatches"] and r["items_out"] > 500


def test_waves_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSIM_BUILD_DIR", str(tmp_path))
    results = runner.cosim_array(SystolicConfig(rows=2, cols=2, dataflow="os"), [{"m": 2, "n": 2, "k": 2, "seed": 0}],
                                 sim="icarus", waves=True)
    check(results)
    assert results[0]["waves"] and os.path.getsize(results[0]["waves"]) > 0


# ---- the full matrix (slow) ----------------------------------------------------------------------
MATRIX = [(df, r, c) for df in ("os", "ws", "is") for r, c in ((2, 2), (4, 4), (8, 8), (3, 5))]


@pytest.mark.slow
@pytest.mark.parametrize("dataflow, rows, cols", MATRIX, ids=[f"{d}-{r}x{c}" for d, r, c in MATRIX])
def test_matrix(request, dataflow, rows, cols):
    @settings(max_examples=2, deadline=None, derandomize=True)
    @given(gemms=gemm_batches)
    def run(gemms):
        for sim in simulators(request.config):
            check(runner.cosim_array(SystolicConfig(rows=rows, cols=cols, dataflow=dataflow), gemms, sim=sim))

    run()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["int8", "uint8"])
def test_pe_exhaustive_8bit(request, fmt):
    for sim in simulators(request.config):
        r = runner.cosim_pe(PEConfig(input=fmt), "exhaustive", sim=sim)
        assert r["pairs"] == 65536 and not r["mismatches"]
