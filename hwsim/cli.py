"""The ``hwsim`` command line (Typer). User errors print one line per problem and exit with code 2."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hwsim.errors import ConfigError, HwsimError, format_validation_error

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="hwsim: cycle-level models, cost models and reports for AI accelerators.")
out = Console(soft_wrap=True)
err_console = Console(stderr=True)


class DataflowName(str, Enum):
    os = "os"
    ws = "ws"
    is_ = "is"


class Face(str, Enum):
    cost = "cost"
    cl = "cl"


class Accounting(str, Enum):
    hwsim = "hwsim"
    scalesim = "scalesim"


class TopologyKind(str, Enum):
    auto = "auto"
    conv = "conv"
    gemm = "gemm"


# config path -> CLI flag, so errors name what the user typed
_FLAGS = {
    "rows": "--rows", "cols": "--cols", "dataflow": "--dataflow", "freq_mhz": "--freq-mhz",
    "pe": "--input/--accumulator", "pe.input": "--input", "pe.accumulator": "--accumulator",
    "sram.a_kib": "--sram-a-kib", "sram.b_kib": "--sram-b-kib", "sram.c_kib": "--sram-c-kib",
    "memory_port.bandwidth_bytes_per_cycle": "--bandwidth", "memory_port.latency_cycles": "--latency",
}


def _cli_error(lines: list[str]) -> ConfigError:
    fixed = []
    for line in lines:
        path, _, rest = line.partition(": ")
        fixed.append(f"{_FLAGS.get(path, path)}: {rest}")
    return ConfigError(fixed)


def _stats_table(title: str, d: dict) -> Table:
    t = Table(title=title, show_header=True)
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("cycles", f"{d['cycles']:,}")
    t.add_row("  compute cycles", f"{d['compute_cycles']:,}")
    t.add_row("  stall cycles", f"{d['stall_cycles']:,}")
    t.add_row("utilization", f"{100 * d['utilization']:.2f} %")
    t.add_row("mapping efficiency", f"{100 * d['mapping_efficiency']:.2f} %")
    t.add_row("MACs", f"{d['macs']:,}")
    t.add_row("folds", f"{d['folds']:,}")
    for op in ("a", "b", "c"):
        t.add_row(f"SRAM {op.upper()} reads / writes (words)", f"{d['sram_reads'][op]:,} / {d['sram_writes'][op]:,}")
    t.add_row("memory-port bytes A / B", f"{d['port_bytes']['a']:,} / {d['port_bytes']['b']:,}")
    return t


@app.command()
def gemm(
    rows: Annotated[int, typer.Option(help="PE rows")] = 32,
    cols: Annotated[int, typer.Option(help="PE columns")] = 32,
    dataflow: Annotated[DataflowName, typer.Option(help="output-, weight- or input-stationary")] = DataflowName.ws,
    m: Annotated[int, typer.Option("--m", help="rows of A and C")] = 64,
    n: Annotated[int, typer.Option("--n", help="columns of B and C")] = 64,
    k: Annotated[int, typer.Option("--k", help="columns of A, rows of B")] = 64,
    face: Annotated[Face, typer.Option(help="cost (closed form) or cl (cycle-level simulation with values)")] = Face.cost,
    accounting: Annotated[Accounting, typer.Option(help="hwsim (cycle-true) or scalesim (SCALE-Sim 3.0 compute cycles)")] = Accounting.hwsim,
    input_format: Annotated[str, typer.Option("--input", help="operand format: int4/int8/int16/uint*/fp16/bf16")] = "int8",
    accumulator: Annotated[str, typer.Option(help="accumulator: int32/int48/int64/fp32")] = "int32",
    bandwidth: Annotated[Optional[int], typer.Option(help="memory port bytes/cycle (default: ideal supply)")] = None,
    latency: Annotated[int, typer.Option(help="memory port latency, cycles")] = 0,
    sram_a_kib: Annotated[float, typer.Option(help="A SRAM, KiB")] = 64.0,
    sram_b_kib: Annotated[float, typer.Option(help="B SRAM, KiB")] = 64.0,
    sram_c_kib: Annotated[float, typer.Option(help="C SRAM, KiB")] = 64.0,
    freq_mhz: Annotated[float, typer.Option(help="unit clock, MHz")] = 1000.0,
    seed: Annotated[int, typer.Option(help="seed of the CL face's random operands")] = 0,
    trace: Annotated[Optional[Path], typer.Option(help="write a Perfetto/Chrome trace JSON (CL face)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Cycles, utilisation, MACs, stalls and SRAM traffic of one GEMM C[m,n] = A[m,k] . B[k,n]."""
    from hwsim.systolic.cl import run_gemm_cl
    from hwsim.systolic.config import SystolicConfig
    from hwsim.systolic.cost import gemm_cost, check_dims
    from hwsim.systolic.fl import gemm_fl

    problems: list[str] = []
    try:
        cfg = SystolicConfig(
            rows=rows, cols=cols, dataflow=dataflow.value, freq_mhz=freq_mhz,
            pe={"input": input_format, "accumulator": accumulator},
            sram={"a_kib": sram_a_kib, "b_kib": sram_b_kib, "c_kib": sram_c_kib},
            memory_port=None if bandwidth is None else {"bandwidth_bytes_per_cycle": bandwidth, "latency_cycles": latency},
        )
    except ValidationError as e:
        problems += _cli_error(format_validation_error(e)).problems
    try:
        check_dims(m, n, k)
    except ConfigError as e:
        problems += [p.replace("gemm.", "--") for p in e.problems]
    if problems:
        raise ConfigError(problems)
    if face is Face.cl and accounting is Accounting.scalesim:
        raise ConfigError("--accounting: 'scalesim' is a cost-face view; use --face cost")
    if trace is not None and face is not Face.cl:
        raise ConfigError("--trace: traces come from the cycle-level simulation; add --face cl")
    extra = {}
    if face is Face.cl:
        rng = np.random.default_rng(seed)
        a = cfg.pe.random_operands((m, k), rng)
        b = cfg.pe.random_operands((k, n), rng)
        c, stats = run_gemm_cl(cfg, a, b, trace=trace)
        extra["values_match_fl"] = bool(np.array_equal(c, gemm_fl(cfg, a, b)))
    else:
        stats = gemm_cost(cfg, m, n, k, accounting=accounting.value)
    d = {**stats.to_dict(), **extra}
    if as_json:
        print(json.dumps(d))
        return
    out.print(_stats_table(f"GEMM {m}x{n}x{k} on {rows}x{cols} {dataflow.value.upper()} ({face.value} face, "
                           f"{accounting.value} accounting)", d))
    if "values_match_fl" in extra:
        out.print(f"values equal the FL face: {'yes' if extra['values_match_fl'] else 'NO'}")
    for w in stats.warnings:
        err_console.print(f"warning: {w}")
    if trace is not None:
        out.print(f"trace written to {trace} (open it in https://ui.perfetto.dev)")


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="run config YAML (unit + workload)")],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="report folder (default reports/<name>)")] = None,
    trace: Annotated[Optional[Path], typer.Option(help="write a Perfetto/Chrome trace JSON (face: cl)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report JSON to stdout")] = False,
) -> None:
    """Run a unit config and its workload; write report.md, report.json and plots."""
    from hwsim.core import Tracer
    from hwsim.report import write_run_report
    from hwsim.runner import run_config
    from hwsim.system import load_run_config

    cfg = load_run_config(config)
    if trace is not None and cfg.face != "cl":
        raise ConfigError("--trace: traces come from the cycle-level simulation; set face: cl in the config")
    tracer = Tracer(f"hwsim run {cfg.name}") if trace is not None else None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task(f"{cfg.name} ({cfg.face})", total=None)

        def tick(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total, description=f"{cfg.name}: {name}")

        result = run_config(cfg, config.parent, progress=tick, tracer=tracer)
    target = write_run_report(result, out_dir or Path("reports") / cfg.name)
    if tracer is not None:
        tracer.write(trace)
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    t = result.totals()
    out.print(f"[bold]{cfg.name}[/bold]: {len(result.layers)} layers, {t['cycles']:,} cycles "
              f"({t['time_s'] * 1e6:.4g} µs), utilisation {100 * t['utilization']:.1f} %, "
              f"energy {t['energy_pj'] / 1e6:.4g} µJ, {t['average_power_w']:.3g} W, area {t['area_mm2']:.3g} mm²")
    for w in result.warnings:
        err_console.print(f"warning: {w}")
    out.print(f"report: {target / 'report.md'}")


@app.command()
def scalesim(
    config: Annotated[Path, typer.Option("-c", "--config", help="SCALE-Sim .cfg file")],
    topology: Annotated[Path, typer.Option("-t", "--topology", help="SCALE-Sim topology CSV")],
    kind: Annotated[TopologyKind, typer.Option("-i", "--kind", help="conv, gemm or auto-detect")] = TopologyKind.auto,
    accounting: Annotated[Accounting, typer.Option(help="scalesim reproduces SCALE-Sim's compute cycles")] = Accounting.scalesim,
    face: Annotated[Face, typer.Option(help="cost, or cl (cycle-level, with --accounting hwsim; slow for big layers)")] = Face.cost,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of per-layer records")] = False,
) -> None:
    """Per-layer compute cycles, utilisation and SRAM traffic of SCALE-Sim inputs."""
    from hwsim.compat.scalesim import run_scalesim_inputs

    rows = run_scalesim_inputs(config, topology, kind.value, accounting=accounting.value, face=face.value)
    if as_json:
        print(json.dumps(rows))
        return
    for w in dict.fromkeys(w for r in rows for w in r["warnings"]):
        err_console.print(f"warning: {w}", highlight=False, markup=False)
    t = Table(title=f"{topology.name} on {config.name} ({accounting.value} accounting)")
    for col in ("layer", "M", "N", "K", "cycles", "util %", "map eff %", "SRAM A rd", "SRAM B rd", "SRAM C wr"):
        t.add_column(col, justify="left" if col == "layer" else "right", overflow="fold")
    for r in rows:
        t.add_row(r["name"], str(r["m"]), str(r["n"]), str(r["k"]), f"{r['cycles']:,}",
                  f"{r['utilization']:.2f}", f"{r['mapping_efficiency']:.2f}", f"{r['sram_reads']['a']:,}",
                  f"{r['sram_reads']['b']:,}", f"{r['sram_writes']['c']:,}")
    out.print(t)


rtl_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                       help="RTL twins: co-simulate against the CL face, synthesise for area and clock.")
app.add_typer(rtl_app, name="rtl")


class RtlBlock(str, Enum):
    array = "array"
    pe = "pe"
    multiplier = "multiplier"
    fifo = "fifo"
    link = "link"


class Simulator(str, Enum):
    icarus = "icarus"
    verilator = "verilator"


def _rtl_unit(rows, cols, dataflow, input_format, accumulator, multiplier):
    from hwsim.systolic.config import SystolicConfig

    try:
        return SystolicConfig(rows=rows, cols=cols, dataflow=dataflow.value,
                              pe={"input": input_format, "accumulator": accumulator, "multiplier": {"kind": multiplier}})
    except ValidationError as e:
        raise _cli_error(format_validation_error(e)) from None


@rtl_app.command("verify")
def rtl_verify(
    block: Annotated[RtlBlock, typer.Argument(help="array, pe, fifo or link")],
    rows: Annotated[int, typer.Option(help="PE rows (array)")] = 4,
    cols: Annotated[int, typer.Option(help="PE columns (array)")] = 4,
    dataflow: Annotated[DataflowName, typer.Option(help="array dataflow")] = DataflowName.ws,
    input_format: Annotated[str, typer.Option("--input", help="operand format (int4/8/16, uint4/8/16)")] = "int8",
    accumulator: Annotated[str, typer.Option(help="accumulator: int32/int48/int64")] = "int32",
    multiplier: Annotated[str, typer.Option(help="multiplier design")] = "exact",
    gemms: Annotated[int, typer.Option(help="random GEMMs to run (array)")] = 8,
    max_dim: Annotated[int, typer.Option(help="largest M, N, K of the random GEMMs (array)")] = 12,
    pairs: Annotated[str, typer.Option(help="operand pairs for pe: 'exhaustive' or a count")] = "exhaustive",
    depth: Annotated[int, typer.Option(help="FIFO depth (fifo)")] = 4,
    latency: Annotated[int, typer.Option(help="wire stages (link)")] = 2,
    credits: Annotated[int, typer.Option(help="credits = receiver entries (link)")] = 4,
    cycles: Annotated[int, typer.Option(help="random traffic cycles (fifo, link)")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    sim: Annotated[Simulator, typer.Option("--sim", help="icarus or verilator")] = Simulator.icarus,
    waves: Annotated[bool, typer.Option("--waves", help="write a waveform (VCD/FST) in the build folder")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the results as JSON")] = False,
) -> None:
    """Co-simulate an RTL twin with cocotb and check it against its model, cycle for cycle."""
    import numpy as np

    from rtl.cosim import runner

    if block is RtlBlock.array:
        unit = _rtl_unit(rows, cols, dataflow, input_format, accumulator, multiplier)
        rng = np.random.default_rng(seed)
        jobs = [{"m": int(rng.integers(1, max_dim + 1)), "n": int(rng.integers(1, max_dim + 1)),
                 "k": int(rng.integers(1, max_dim + 1)), "seed": seed * 1000 + i} for i in range(gemms)]
        result: object = runner.cosim_array(unit, jobs, sim=sim.value, waves=waves)
        ok = all(r["value_mismatches"] == r["cycle_mismatches"] == r["missing"] == r["extra"] == 0
                 and r["rtl_cycles"] == r["model_cycles"] for r in result)
        summary = (f"{len(result)} GEMMs on {rows}x{cols} {dataflow.value.upper()} ({sim.value}): "
                   f"{sum(r['outputs'] for r in result)} outputs, "
                   f"{sum(r['value_mismatches'] for r in result)} value and "
                   f"{sum(r['cycle_mismatches'] for r in result)} cycle mismatches against the CL face")
    elif block is RtlBlock.pe or block is RtlBlock.multiplier:
        unit = _rtl_unit(1, 1, dataflow, input_format, accumulator, multiplier)
        count = pairs if pairs == "exhaustive" else int(pairs)
        result = runner.cosim_pe(unit.pe, count, seed=seed, sim=sim.value, waves=waves)
        ok = not result["mismatches"]
        summary = f"{result['pairs']} operand pairs through the {input_format} PE ({sim.value}): " \
                  f"{len(result['mismatches'])} mismatches against the FL face"
    else:
        result = runner.cosim_stream(block.value, depth=depth, latency=latency, credits=credits, seed=seed,
                                     cycles=cycles, sim=sim.value, waves=waves)
        ok = not result["mismatches"]
        summary = f"{cycles} cycles of random traffic through the {block.value} ({sim.value}): " \
                  f"{result['items_out']} items, {len(result['mismatches'])} mismatches against the reference model"
    if as_json:
        print(json.dumps(result))
    else:
        out.print(("PASS: " if ok else "FAIL: ") + summary)
    if not ok:
        raise typer.Exit(1)


@rtl_app.command("synth")
def rtl_synth(
    block: Annotated[RtlBlock, typer.Argument(help="pe, multiplier, array, fifo or link")],
    rows: Annotated[int, typer.Option(help="PE rows (array)")] = 4,
    cols: Annotated[int, typer.Option(help="PE columns (array)")] = 4,
    dataflow: Annotated[DataflowName, typer.Option(help="dataflow (pe, array)")] = DataflowName.ws,
    input_format: Annotated[str, typer.Option("--input", help="operand format (int4/8/16, uint4/8/16)")] = "int8",
    accumulator: Annotated[str, typer.Option(help="accumulator: int32/int48/int64")] = "int32",
    multiplier: Annotated[str, typer.Option(help="multiplier design")] = "exact",
    width: Annotated[int, typer.Option(help="payload bits (fifo, link)")] = 8,
    depth: Annotated[int, typer.Option(help="FIFO depth (fifo)")] = 4,
    latency: Annotated[int, typer.Option(help="wire stages (link)")] = 2,
    credits: Annotated[int, typer.Option(help="credits (link)")] = 4,
    node: Annotated[str, typer.Option(help="technology node: 45nm, 16nm, 7nm, 5nm")] = "45nm",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Synthesise an RTL twin with Yosys: cells, flip-flops, transistors, logic depth, area and fmax."""
    from rtl.synth import load_nodes, synth_block

    nodes = load_nodes()
    nodes.node(node)  # validate before the (slow) synthesis
    unit = _rtl_unit(rows, cols, dataflow, input_format, accumulator, multiplier)
    r = synth_block(block.value, unit, width=width, depth=depth, latency=latency, credits=credits)
    d = {**r.to_dict(), "node": node, "area_mm2": nodes.area_mm2(r.transistors, node),
         "fmax_mhz": nodes.fmax_mhz(r.logic_depth, node)}
    if as_json:
        print(json.dumps(d))
        return
    t = Table(title=f"{r.design} at {node}" + (" (cached)" if r.cached else ""))
    t.add_column("metric")
    t.add_column("value", justify="right")
    for key in ("cells", "flip_flops", "transistors", "logic_depth"):
        t.add_row(key, f"{d[key]:,}")
    t.add_row("area_mm2", f"{d['area_mm2']:.6f}")
    t.add_row("fmax_mhz", f"{d['fmax_mhz']:.0f}")
    t.add_row("cells by type", ", ".join(f"{k.strip('$_')}={v}" for k, v in sorted(r.cells_by_type.items())))
    out.print(t)


approx_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                          help="Approximate multipliers: error metrics, hardware cost, application accuracy.")
app.add_typer(approx_app, name="approx")


@approx_app.command("metrics")
def approx_metrics(
    multiplier: Annotated[str, typer.Option("--multiplier", help="design: exact, truncated, bam, mitchell, drum, compressor")],
    bits: Annotated[int, typer.Option(help="operand width: 4, 8 or 16")] = 8,
    unsigned: Annotated[bool, typer.Option("--unsigned", help="unsigned operands (default: signed, sign-magnitude)")] = False,
    param: Annotated[Optional[list[str]], typer.Option("--param", help="design parameter NAME=VALUE (repeat)")] = None,
    samples: Annotated[Optional[int], typer.Option(help="random pairs (default: exhaustive up to 8 bits, 1e6 above)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the sampled pairs")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Error metrics of one multiplier design: ER, MED, NMED, MRED, WCE, bias (and the distribution)."""
    from hwsim.approx.designs import Design, parse_params
    from hwsim.pe.metrics import error_metrics

    if bits not in (4, 8, 16):
        raise ConfigError(f"--bits: must be 4, 8 or 16, got {bits}")
    fmt = f"{'u' if unsigned else ''}int{bits}"
    design = Design(multiplier, parse_params(param or []))
    try:
        mult = design.multiplier(fmt)
    except ValidationError as e:
        raise ConfigError([f"--multiplier: {line.split(': ', 1)[-1]}" for line in format_validation_error(e)]) from None
    m = error_metrics(mult, samples=samples, seed=seed, name=design.label)
    d = m.to_dict()
    if as_json:
        print(json.dumps(d))
        return
    t = Table(title=f"{design.label} on {fmt} ({'exhaustive' if m.exhaustive else f'{m.pairs:,} random pairs'})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("95% CI" if m.ci95 else "", justify="right")
    for key in ("er", "med", "nmed", "mred", "wce", "bias"):
        ci = m.ci95.get(key)
        t.add_row(key, f"{d[key]:.6g}", f"[{ci[0]:.6g}, {ci[1]:.6g}]" if ci else "")
    out.print(t)


@approx_app.command("report")
def approx_report(
    out_dir: Annotated[Path, typer.Option("--out", help="report folder")] = Path("reports/approx"),
    node: Annotated[str, typer.Option(help="technology node for area, fmax and energy")] = "45nm",
    minilm: Annotated[bool, typer.Option("--minilm/--no-minilm", help="run the MiniLM embedding study")] = True,
    sentences: Annotated[Optional[int], typer.Option(help="use only the first N eval sentences")] = None,
    samples_16: Annotated[int, typer.Option(help="random pairs for the 16-bit metrics")] = 1_000_000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 2,
    bits: Annotated[Optional[list[int]], typer.Option("--bits", help="operand widths to study (repeat): 8, 16")] = None,
    design: Annotated[Optional[list[str]], typer.Option("--design", help="study only these, e.g. drum:k=4 (repeat; "
                                                        "default: the built-in catalogue)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the study JSON")] = False,
) -> None:
    """Every design: metrics, synthesis cost, switching energy, GEMM SNR, MiniLM similarity; plots."""
    from hwsim.approx.designs import parse_design
    from hwsim.approx.report import StudyOptions, _clean, run_study, write_report
    from rtl.synth.nodes import load_nodes

    load_nodes().node(node)
    bad_bits = [b for b in (bits or []) if b not in (8, 16)]
    if bad_bits:
        raise ConfigError(f"--bits: must be 8 or 16, got {bad_bits[0]}")
    chosen = None
    if design:
        parsed = [parse_design(d) for d in design]
        for d in parsed:  # validate every design for every width before the long run
            for b in bits or (8, 16):
                try:
                    d.multiplier("int8" if b == 8 else "int16")
                except ValidationError as e:
                    raise ConfigError([f"--design {d.label}: {line.split(': ', 1)[-1]}"
                                       for line in format_validation_error(e)]) from None
                except ConfigError as e:
                    raise ConfigError([f"--design {d.label}: {p}" for p in e.problems]) from None
        chosen = {8: parsed, 16: parsed}
    opts = StudyOptions(node=node, minilm=minilm, sentences=sentences, samples_16=samples_16, workers=workers,
                        bits=tuple(bits or (8, 16)))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("approximate multipliers", total=None)
        study = run_study(opts, chosen, progress=lambda done, total, name: progress.update(
            task, completed=done, total=total, description=f"approx: {name}"))
    target = write_report(study, out_dir)
    if as_json:
        print(json.dumps(_clean(study)))
        return
    out.print(f"{len(study['rows'])} designs studied; report: {target / 'report.md'}")


mem_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                       help="Memory models: DRAM/HBM bandwidth, latency and energy.")
app.add_typer(mem_app, name="mem")


class MemPattern(str, Enum):
    stream = "stream"
    random = "random"
    strided = "strided"


@mem_app.command("bench")
def mem_bench_cmd(
    preset: Annotated[str, typer.Option(help="DRAM preset: hbm2e, hbm3, ddr4, lpddr5")] = "hbm3",
    pattern: Annotated[MemPattern, typer.Option(help="stream, random or strided reads")] = MemPattern.stream,
    face: Annotated[Face, typer.Option(help="cl (cycle-level simulation) or cost (closed form)")] = Face.cl,
    requests: Annotated[int, typer.Option(help="transactions to simulate (CL face)")] = 20000,
    read_fraction: Annotated[float, typer.Option(help="share of reads (the rest are writes)")] = 1.0,
    stride_bytes: Annotated[Optional[int], typer.Option(help="stride of the strided pattern, bytes")] = None,
    outstanding: Annotated[Optional[int], typer.Option(help="requests kept in flight")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    override: Annotated[Optional[list[str]], typer.Option(
        "--set", help="override a preset field, FIELD=VALUE (YAML value), e.g. --set page_policy=closed --set channels=4")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Bandwidth, latency, row-hit rate and energy of a DRAM/HBM preset under a traffic pattern."""
    import yaml

    from hwsim.memory.dram.bench import mem_bench

    overrides = {}
    for item in override or []:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise ConfigError(f"--set: expected FIELD=VALUE, got {item!r}")
        overrides[field.strip()] = yaml.safe_load(value)
    kwargs = {"face": face.value, "requests": requests, "read_fraction": read_fraction, "seed": seed, **overrides}
    if stride_bytes is not None:
        kwargs["stride_bytes"] = stride_bytes
    if outstanding is not None:
        kwargs["outstanding"] = outstanding
    d = mem_bench(preset, pattern.value, **kwargs)
    if as_json:
        print(json.dumps(d))
        return
    t = Table(title=f"{preset} {pattern.value} ({face.value} face)")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for key in ("bandwidth_gbps", "peak_bandwidth_gbps", "avg_latency_ns", "row_hit_rate", "energy_pj_per_bit"):
        t.add_row(key, f"{d[key]:.4g}")
    out.print(t)


# --- hwsim collective: collectives on a multi-die package (hwsim.chiplet) -----------------------------
collective_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                             help="Collectives over die-to-die links: alpha-beta cost face or discrete-event simulation.")
app.add_typer(collective_app, name="collective")

_COLLECTIVE_HELP = {
    "allreduce": "All-reduce of --bytes on every rank (algo ring, tree = double binary tree, 2d = mesh rows/columns).",
    "reduce-scatter": "Ring reduce-scatter of a --bytes buffer: rank r ends with block r summed over all ranks.",
    "all-gather": "Ring all-gather into a --bytes buffer: every rank ends with every rank's block.",
    "broadcast": "Broadcast of --bytes from --root (algo ring = pipelined chain, tree = pipelined binary tree).",
    "all-to-all": "All-to-all of a --bytes send buffer per rank (block j goes to rank j; algo direct).",
}


def _collective_command(collective: str):
    def command(
        algo: Annotated[Optional[str], typer.Option(help="algorithm (allreduce: ring|tree|2d; broadcast: ring|tree; "
                                                         "all-to-all: direct; others: ring)")] = None,
        ranks: Annotated[int, typer.Option(help="dies (ranks) in the package")] = 8,
        nbytes: Annotated[str, typer.Option("--bytes", help="size n in bytes (NCCL's S); suffixes K/M/G or KiB/MiB/GiB")] = "64MiB",
        link: Annotated[str, typer.Option(help="D2D link preset: ucie-standard, ucie-advanced, or custom (with --link-set)")] = "ucie-advanced",
        link_set: Annotated[Optional[list[str]], typer.Option("--link-set", help="link field FIELD=VALUE (repeat)")] = None,
        topology: Annotated[str, typer.Option(help="ring, mesh, full or switch")] = "ring",
        mesh_rows: Annotated[Optional[int], typer.Option(help="mesh rows (default: most square)")] = None,
        modules: Annotated[Optional[int], typer.Option(help="link modules per edge (default: the preset's)")] = None,
        switch_latency_ns: Annotated[float, typer.Option(help="switch die latency, ns (topology switch)")] = 5.0,
        die_area_mm2: Annotated[float, typer.Option(help="compute area of each die, mm2")] = 100.0,
        chunk_bytes: Annotated[str, typer.Option(help="pipelining chunk, bytes")] = "64KiB",
        face: Annotated[str, typer.Option(help="cost (alpha-beta formula) or sim (discrete-event simulation)")] = "cost",
        root: Annotated[int, typer.Option(help="root rank (broadcast)")] = 0,
        ber: Annotated[Optional[float], typer.Option(help="raw bit error rate of the links (go-back-N retry)")] = None,
        retry: Annotated[str, typer.Option(help="sim face: expected (goodput factor) or sampled (seeded flit errors)")] = "expected",
        seed: Annotated[int, typer.Option(help="seed of sampled retries and checked values")] = 0,
        check_values: Annotated[bool, typer.Option("--check-values", help="sim face: move real int64 data and check "
                                                                           "every rank's result")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    ) -> None:
        from hwsim.chiplet.command import collective_from_flags

        r, area = collective_from_flags(
            collective, algo=algo, ranks=ranks, nbytes=nbytes, link=link, link_set=link_set, topology=topology,
            mesh_rows=mesh_rows, modules=modules, switch_latency_ns=switch_latency_ns, die_area_mm2=die_area_mm2,
            chunk_bytes=chunk_bytes, face=face, root=root, ber=ber, retry=retry, seed=seed, check_values=check_values)
        d = {**r.to_dict(), "package_area_mm2": area["total_area_mm2"], "phy_area_mm2": area["total_phy_mm2"]}
        if as_json:
            print(json.dumps(d))
        else:
            t = Table(title=f"{collective} ({r.algo}) of {r.nbytes:,} B on {r.ranks} dies, {r.topology}, {r.link} "
                            f"({r.face} face)")
            t.add_column("metric")
            t.add_column("value", justify="right")
            for key, fmt in (("time_us", ".6g"), ("algbw_gbps", ".4g"), ("busbw_gbps", ".4g"), ("energy_uj", ".4g"),
                             ("link_bandwidth_gbps", ".4g"), ("link_latency_ns", ".4g"), ("alpha_ns", ".4g"),
                             ("cost_time_us", ".6g"), ("package_area_mm2", ".4g")):
                t.add_row(key, format(d[key], fmt))
            t.add_row("formula", d["formula"])
            out.print(t)
            for w in area["warnings"]:
                err_console.print(f"warning: {w}", highlight=False, markup=False)
        if r.values_checked and r.problems:
            for p in r.problems[:5]:
                err_console.print(f"values wrong: {p}", highlight=False, markup=False)
            raise typer.Exit(1)

    command.__doc__ = _COLLECTIVE_HELP[collective]
    return command


for _name in _COLLECTIVE_HELP:
    collective_app.command(_name)(_collective_command(_name))


# --- hwsim noc: on-chip network (hwsim.noc) ---------------------------------------------------------
noc_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                      help="On-chip network: latency vs injection rate and saturation throughput (mesh, torus, ring).")
app.add_typer(noc_app, name="noc")


class NocTopology(str, Enum):
    mesh = "mesh"
    torus = "torus"
    ring = "ring"


class NocRouting(str, Enum):
    xy = "xy"
    west_first = "west_first"
    odd_even = "odd_even"


class NocPattern(str, Enum):
    uniform = "uniform"
    transpose = "transpose"
    bit_complement = "bit_complement"
    hotspot = "hotspot"


@noc_app.command("sweep")
def noc_sweep_cmd(
    topology: Annotated[NocTopology, typer.Option(help="mesh, torus or ring")] = NocTopology.mesh,
    size: Annotated[str, typer.Option(help="COLSxROWS for mesh/torus (8x8), node count for a ring (16)")] = "8x8",
    pattern: Annotated[NocPattern, typer.Option(help="destination pattern")] = NocPattern.uniform,
    routing: Annotated[NocRouting, typer.Option(help="xy (dimension order), west_first or odd_even (mesh)")] = NocRouting.xy,
    face: Annotated[Face, typer.Option(help="cl (cycle-level simulation) or cost (analytical model)")] = Face.cl,
    rates: Annotated[Optional[str], typer.Option(help="offered loads, flits/node/cycle, comma-separated (default: 10 "
                                                      "up to the channel-load bound)")] = None,
    vcs: Annotated[int, typer.Option(help="virtual channels per port")] = 2,
    buffer_flits: Annotated[int, typer.Option(help="buffer depth per virtual channel, flits")] = 4,
    router_cycles: Annotated[int, typer.Option(help="router pipeline depth, cycles")] = 2,
    link_cycles: Annotated[int, typer.Option(help="link latency, cycles")] = 1,
    packet_flits: Annotated[int, typer.Option(help="flits per packet")] = 4,
    hotspot_nodes: Annotated[Optional[str], typer.Option(help="hotspot node ids, comma-separated (pattern "
                                                              "hotspot)")] = None,
    hotspot_fraction: Annotated[float, typer.Option(help="share of packets sent to the hotspots")] = 0.1,
    warmup: Annotated[int, typer.Option(help="warm-up cycles before measuring (CL face)")] = 1000,
    measure: Annotated[int, typer.Option(help="measurement window, cycles (CL face)")] = 2000,
    seed: Annotated[int, typer.Option(help="traffic seed (results are bit-identical for a seed)")] = 0,
    plot: Annotated[Optional[Path], typer.Option(help="write the latency curve as a PNG")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object: points and saturation")] = False,
) -> None:
    """Latency (average, p50/p95/p99) and accepted throughput against offered load, and the saturation throughput."""
    from hwsim.noc.command import configs_from_flags, run_sweep, sweep_summary, sweep_table

    noc, traffic, rate_list = configs_from_flags(topology.value, size, routing.value, pattern.value, vcs, buffer_flits,
                                                 router_cycles, link_cycles, packet_flits, hotspot_nodes,
                                                 hotspot_fraction, seed, rates)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task(f"noc sweep ({face.value})", total=None)
        result = run_sweep(noc, traffic, rate_list, face.value, warmup, measure, progress=lambda done, total, name:
                           progress.update(task, completed=done, total=total, description=f"noc sweep: {name}"))
    if plot is not None:
        from hwsim.noc.plots import latency_curve

        latency_curve(result, plot)
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    out.print(sweep_table(result))
    out.print(sweep_summary(result))
    if plot is not None:
        out.print(f"plot: {plot}")


# --- hwsim llm: an LLM served on a system (hwsim.llm.serve) -----------------------------------------
class LlmQuant(str, Enum):
    W16A16 = "W16A16"
    W8A8 = "W8A8"
    W4A16 = "W4A16"
    FP8 = "FP8"


class LlmAttention(str, Enum):
    flash = "flash"
    naive = "naive"


@app.command("llm")
def llm_cmd(
    model: Annotated[str, typer.Option(help="model config.json (workloads/models/X.json) or its name")],
    system: Annotated[str, typer.Option(help="system YAML (examples/systems/Y.yaml) or its name")],
    batch: Annotated[int, typer.Option(help="sequences served together")] = 1,
    prompt: Annotated[int, typer.Option(help="prompt tokens per sequence")] = 512,
    generate: Annotated[int, typer.Option(help="generated tokens per sequence")] = 128,
    quant: Annotated[LlmQuant, typer.Option(help="W16A16, W8A8, W4A16 or FP8")] = LlmQuant.W16A16,
    kv_dtype: Annotated[Optional[str], typer.Option(help="KV-cache dtype: fp16, bf16, int8, fp8 (default: activations)")] = None,
    attention: Annotated[LlmAttention, typer.Option(help="flash (tiled to the SRAM) or naive")] = LlmAttention.flash,
    prefill_chunk: Annotated[Optional[int], typer.Option(help="chunked prefill: tokens per chunk")] = None,
    tp: Annotated[Optional[int], typer.Option(help="tensor-parallel dies (default: dies / pp)")] = None,
    pp: Annotated[int, typer.Option(help="pipeline stages")] = 1,
    micro_batches: Annotated[int, typer.Option(help="pipeline micro-batches")] = 1,
    moe_imbalance: Annotated[float, typer.Option(help="MoE: max/mean tokens per expert")] = 1.0,
    capacity: Annotated[str, typer.Option(help="error (default) or warn: run a model that does not fit as a what-if")] = "error",
    multiplier: Annotated[Optional[str], typer.Option(help="multiplier design of the units (exact, truncated, bam, mitchell, drum, compressor)")] = None,
    param: Annotated[Optional[list[str]], typer.Option(help="multiplier parameter NAME=VALUE, repeatable (e.g. --param k=4)")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="write report.md/json and plots here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Time to first token, time per output token, tokens/s, energy per token and a per-operator breakdown
    of an LLM (Hugging Face config.json) served on a system (single die or a package of dies)."""
    from pydantic import ValidationError as _VE

    from hwsim.approx.designs import parse_params
    from hwsim.llm.serve import ServeConfig, serve

    try:
        cfg = ServeConfig.model_validate({
            "batch": batch, "prompt": prompt, "generate": generate, "attention": attention.value,
            "prefill_chunk": prefill_chunk, "moe_imbalance": moe_imbalance, "capacity": capacity,
            **({"multiplier": {"kind": multiplier, "params": parse_params(param or [])}} if multiplier else {}),
            "quant": {"scheme": quant.value, **({"kv_dtype": kv_dtype} if kv_dtype else {})},
            "parallel": {"tp": tp, "pp": pp, "micro_batches": micro_batches}})
    except _VE as err:
        raise ConfigError(format_validation_error(err, "llm")) from None
    result = serve(model, system, cfg)
    data = result.to_dict()
    if out_dir is not None:
        from hwsim.llm.report import write_serve_report

        write_serve_report(data, out_dir)
    if as_json:
        print(json.dumps(data))
        return
    t = Table(title=f"{data['model']} on {data['system']} (batch {batch}, prompt {prompt}, generate {generate})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for key, unit in (("ttft_ms", "ms"), ("tpot_ms", "ms"), ("tokens_per_s", "tokens/s"),
                      ("energy_per_token_mj", "mJ"), ("average_power_w", "W"), ("utilization", "")):
        t.add_row(key, f"{data[key]:.4g} {unit}")
    out.print(t)
    b = Table(title="top operators (prefill + decode)")
    for col in ("op", "time ms", "compute ms", "memory ms", "comm ms", "bound"):
        b.add_column(col, justify="left" if col in ("op", "bound") else "right")
    for r in data["breakdown"][:10]:
        b.add_row(f"{r['group']}.{r['op']}", f"{r['time_s'] * 1e3:.4g}", f"{r['compute_s'] * 1e3:.4g}",
                  f"{r['memory_s'] * 1e3:.4g}", f"{r['comm_s'] * 1e3:.4g}", r["bound"])
    out.print(b)
    for w in data["warnings"]:
        err_console.print(f"warning: {w}", highlight=False, markup=False)


def main() -> None:
    """Entry point: Typer handles usage errors (exit 2); user errors in values and configs print one
    line per problem and exit with code 2, never a traceback."""
    try:
        app()
    except (HwsimError, ValidationError) as e:
        lines = e.problems if isinstance(e, HwsimError) else format_validation_error(e)
        for line in lines:
            err_console.print(f"error: {line}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(2)


# --- hwsim sweep: design-space exploration (hwsim/dse) ----------------------------------------------
from typer.core import TyperGroup as _TyperGroup  # noqa: E402


class _SweepGroup(_TyperGroup):
    """``hwsim sweep SPEC ...`` runs a sweep (the ``run`` subcommand); ``hwsim sweep export ...`` exports."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


sweep_app = typer.Typer(cls=_SweepGroup, add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                        help="Design-space exploration: hwsim sweep SPEC runs (or resumes) a sweep; "
                             "hwsim sweep export STORE writes its results as CSV/Parquet.")
app.add_typer(sweep_app, name="sweep")


@sweep_app.command("run", help="Run or resume the sweep SPEC (YAML); results go to an SQLite store.")
def sweep_run(
    spec: Annotated[Path, typer.Argument(help="sweep spec YAML")],
    budget: Annotated[Optional[int], typer.Option(help="points to evaluate (overrides search.budget)")] = None,
    store: Annotated[Optional[Path], typer.Option(help="SQLite store (default: <spec stem>.db beside the spec)")] = None,
    workers: Annotated[int, typer.Option(help="local worker processes (0: in this process)")] = 2,
    scheduler: Annotated[Optional[str], typer.Option(help="Dask scheduler address tcp://HOST:PORT")] = None,
    local_cluster: Annotated[Optional[int], typer.Option(help="start a Dask LocalCluster of N worker processes")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary and analysis as JSON")] = False,
) -> None:
    from hwsim.dse import analysis
    from hwsim.dse.run import default_store, run_sweep
    from hwsim.dse.spec import load_spec
    from hwsim.dse.store import Store

    sw, folder = load_spec(spec)
    store_path = store or default_store(spec)
    summary = run_sweep(sw, folder, store_path, budget=budget, workers=workers, scheduler=scheduler,
                        local_cluster=local_cluster, progress=True)
    from hwsim.dse.study import load_stored_study

    st = Store(store_path)
    try:
        rows = st.rows()
    finally:
        st.close()
    study = load_stored_study(store_path, sw, rows) if as_json else None  # fANOVA only for --json
    result = {"summary": summary.to_dict(), "analysis": analysis.summarize(rows, sw, study, importance=as_json)}
    if as_json:
        print(json.dumps(result, default=str))
        return
    s = summary.to_dict()
    out.print(f"{s['evaluated']} points evaluated, {s['skipped']} already stored, {s['errors']} errors, "
              f"{s['wall_s']:.1f} s ({s['executor']}, {s['workers']} workers) -> {store_path}", highlight=False)
    a = result["analysis"]
    t = Table(title=f"Pareto front ({len(a['pareto_front'])} of {a['feasible']} feasible points)")
    cols = [p.label for p in sw.parameters] + [o.metric for o in sw.objectives]
    for c in cols:
        t.add_column(c, justify="right")
    for r in a["pareto_front"][:30]:
        t.add_row(*[f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols])
    out.print(t)


@sweep_app.command("export", help="Export a sweep store's results table as CSV and/or Parquet.")
def sweep_export(
    store: Annotated[Path, typer.Argument(help="SQLite store written by hwsim sweep")],
    csv: Annotated[Optional[Path], typer.Option("--csv", help="CSV file to write")] = None,
    parquet: Annotated[Optional[Path], typer.Option("--parquet", help="Parquet file to write")] = None,
) -> None:
    from hwsim.dse.store import export

    if csv is None and parquet is None:
        raise ConfigError("sweep export: give --csv FILE and/or --parquet FILE")
    if not store.is_file():
        raise ConfigError(f"sweep export: {str(store)!r} is not a file")
    n = export(store, csv=csv, parquet=parquet)
    out.print(f"{n} rows -> {', '.join(str(p) for p in (csv, parquet) if p is not None)}", highlight=False)


# --- hwsim power: technology tables and calibration against published chips (hwsim/power) -----------
power_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                        help="Energy/area model: calibration against published accelerators.")
app.add_typer(power_app, name="power")


@power_app.command("calibrate")
def power_calibrate(
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of records")] = False,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="write report.md, report.json and a chart here")] = None,
) -> None:
    """Modelled vs published area, power and throughput of Eyeriss, TPUv1 and Simba (records with chip,
    metric, published, modelled, error_pct, unit, source, calibrated)."""
    from hwsim.power.calibrate import calibration_records, write_report

    records = calibration_records()
    if out_dir is not None:
        write_report(out_dir)
    if as_json:
        print(json.dumps(records))
        return
    t = Table(title="calibration (calibrated = fitted on that number; the rest are checks)")
    for c in ("chip", "metric", "published", "modelled", "error %", "unit", "calibrated"):
        t.add_column(c, justify="right" if c in ("published", "modelled", "error %") else "left")
    for r in records:
        t.add_row(r["chip"], r["metric"], f"{r['published']:.4g}", f"{r['modelled']:.4g}", f"{r['error_pct']:+.1f}",
                  r["unit"], "yes" if r["calibrated"] else "no")
    out.print(t)
    if out_dir is not None:
        out.print(f"report -> {out_dir / 'report.md'}", highlight=False)


@app.command("report", help="Report of a sweep store: report.html (figures embedded) and report.md.")
def sweep_report(
    store: Annotated[Path, typer.Argument(help="SQLite store written by hwsim sweep")],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="folder (default: <store stem>_report beside it)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the written paths as JSON")] = False,
) -> None:
    from hwsim.dse.report import write_report

    if not store.is_file():
        raise ConfigError(f"report: {str(store)!r} is not a file")
    paths = write_report(store, out_dir)
    if as_json:
        print(json.dumps({k: str(v) for k, v in paths.items()}))
    else:
        out.print(f"wrote {', '.join(str(p) for p in paths.values())}", highlight=False)
