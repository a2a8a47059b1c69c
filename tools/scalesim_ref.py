"""Run the real SCALE-Sim 3.0.0 on a batch of jobs and print its per-layer results as JSON.

Runs under a *separate* interpreter that has ``scalesim==3.0.0`` and ``numpy==2.3.5`` (SCALE-Sim crashes
with numpy 2.4), e.g. ``.venv-scalesim/bin/python tools/scalesim_ref.py JOB``; it never imports hwsim.

JOB is a JSON file path or JSON text as the first argument, or JSON on stdin: one job or a list of jobs,
each ``{"rows": R, "cols": C, "dataflow": "os"|"ws"|"is", ...}`` plus either
``"layers": [{"name": str, "m": M, "n": N, "k": K}, ...]`` (run as a SCALE-Sim GEMM topology) or
``"topology": PATH, "kind": "conv"|"gemm"``. Optional ``"sram_kib": [ifmap, filter, ofmap]``
(default 64 each).

Output: ``{"scalesim": version, "numpy": version, "jobs": [{rows, cols, dataflow, wall_s, layers: [...]}]}``
with, per layer: ``name``; SCALE-Sim's own GEMM view ``m`` (ofmap pixels), ``n`` (filters), ``k``
(window); ``compute_cycles`` (COMPUTE_REPORT "Total Cycles", which SCALE-Sim prints as "Compute
cycles"), ``total_cycles_incl_prefetch``, ``stall_cycles``, ``overall_util_pct``,
``mapping_efficiency_pct``, ``compute_util_pct``; DETAILED_ACCESS_REPORT SRAM and DRAM counts (words);
and ``wall_s``, the seconds SCALE-Sim spent simulating that layer. Exit code 1 and a one-line message
on stderr for a bad job.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

# SCALE-Sim 3.0.0 needs [layout], [sparsity] and [run_presets]; memory knobs as upstream's configs/scale.cfg.
CFG_TEMPLATE = """\
[general]
run_name = ref

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {ifmap_kib}
FilterSramSzkB: {filter_kib}
OfmapSramSzkB: {ofmap_kib}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""

COMPUTE_KEYS = {  # COMPUTE_REPORT.csv column -> output key
    "Total Cycles (incl. prefetch)": "total_cycles_incl_prefetch",
    "Total Cycles": "compute_cycles",
    "Stall Cycles": "stall_cycles",
    "Overall Util %": "overall_util_pct",
    "Mapping Efficiency %": "mapping_efficiency_pct",
    "Compute Util %": "compute_util_pct",
}
DETAIL_KEYS = {  # DETAILED_ACCESS_REPORT.csv column -> (group, operand)
    "SRAM IFMAP Reads": ("sram_reads", "ifmap"),
    "SRAM Filter Reads": ("sram_reads", "filter"),
    "SRAM OFMAP Writes": ("sram_writes", "ofmap"),
    "DRAM IFMAP Reads": ("dram_reads", "ifmap"),
    "DRAM Filter Reads": ("dram_reads", "filter"),
    "DRAM OFMAP Writes": ("dram_writes", "ofmap"),
}


class JobError(Exception):
    pass


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _read_report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    return [{h: v.strip() for h, v in zip(header, row) if h} for row in rows[1:] if row]


def _check_job(job: object, idx: int) -> dict:
    if not isinstance(job, dict):
        raise JobError(f"job {idx}: must be an object, got {type(job).__name__}")
    for key in ("rows", "cols"):
        if not isinstance(job.get(key), int) or job[key] < 1:
            raise JobError(f"job {idx}: {key} must be an integer >= 1, got {job.get(key)!r}")
    if job.get("dataflow") not in ("os", "ws", "is"):
        raise JobError(f"job {idx}: dataflow must be one of os, ws, is, got {job.get('dataflow')!r}")
    if ("layers" in job) == ("topology" in job):
        raise JobError(f"job {idx}: give either 'layers' or 'topology' (+ 'kind')")
    if "topology" in job:
        if job.get("kind") not in ("conv", "gemm"):
            raise JobError(f"job {idx}: kind must be conv or gemm, got {job.get('kind')!r}")
        if not Path(job["topology"]).is_file():
            raise JobError(f"job {idx}: topology file not found: {job['topology']}")
    else:
        if not isinstance(job["layers"], list) or not job["layers"]:
            raise JobError(f"job {idx}: layers must be a non-empty list of {{name, m, n, k}}")
        for j, layer in enumerate(job["layers"]):
            for key in ("m", "n", "k"):
                if not isinstance(layer.get(key), int) or layer[key] < 1:
                    raise JobError(f"job {idx}, layer {j}: {key} must be an integer >= 1, got {layer.get(key)!r}")
            if "," in str(layer.get("name", "")):
                raise JobError(f"job {idx}, layer {j}: name must not contain a comma")
    return job


def run_job(job: dict, workdir: Path) -> dict:
    """Run one job with SCALE-Sim's Python API in ``workdir``; per-layer results from its reports."""
    from scalesim.scale_sim import scalesim
    from scalesim.single_layer_sim import single_layer_sim

    sram = job.get("sram_kib", [64, 64, 64])
    cfg = workdir / "scale.cfg"
    cfg.write_text(CFG_TEMPLATE.format(rows=job["rows"], cols=job["cols"], dataflow=job["dataflow"],
                                       ifmap_kib=sram[0], filter_kib=sram[1], ofmap_kib=sram[2]))
    layout = workdir / "layout.csv"
    layout.write_text("Layer,\n")  # custom layouts are off, but SCALE-Sim insists on a file
    if "layers" in job:
        topo = workdir / "topology.csv"
        rows = [f"{layer.get('name', f'layer{i}')}, {layer['m']}, {layer['n']}, {layer['k']},"
                for i, layer in enumerate(job["layers"])]
        topo.write_text("Layer, M, N, K,\n" + "\n".join(rows) + "\n")
        gemm = True
    else:
        topo = Path(job["topology"]).resolve()
        gemm = job["kind"] == "gemm"

    # time each layer's simulation: wrap single_layer_sim.run (the compute + memory simulation)
    walls: dict[int, float] = {}
    original_run = single_layer_sim.run

    def timed_run(self):
        t0 = time.perf_counter()
        original_run(self)
        walls[self.layer_id] = time.perf_counter() - t0

    out_dir = workdir / "out"
    t_job = time.perf_counter()
    single_layer_sim.run = timed_run
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                           layout=str(layout), input_type_gemm=gemm)
            sim.run_scale(top_path=str(out_dir))
    finally:
        single_layer_sim.run = original_run
    wall_job = time.perf_counter() - t_job

    topo_obj = sim.topo
    report_dir = out_dir / "ref"
    compute = _read_report(report_dir / "COMPUTE_REPORT.csv")
    detail = _read_report(report_dir / "DETAILED_ACCESS_REPORT.csv")
    layers = []
    for lid, (crow, drow) in enumerate(zip(compute, detail)):
        ofmap_h, ofmap_w = topo_obj.get_layer_ofmap_dims(lid)
        entry: dict = {
            "name": topo_obj.get_layer_name(lid),
            "m": int(ofmap_h * ofmap_w), "n": int(topo_obj.get_layer_num_filters(lid)),
            "k": int(topo_obj.get_layer_window_size(lid)),
        }
        for col, key in COMPUTE_KEYS.items():
            entry[key] = _number(crow[col])
        for col, (group, operand) in DETAIL_KEYS.items():
            entry.setdefault(group, {})[operand] = _number(drow[col])
        entry["wall_s"] = walls.get(lid, float("nan"))
        layers.append(entry)
    del sim
    return {"rows": job["rows"], "cols": job["cols"], "dataflow": job["dataflow"], "wall_s": wall_job,
            "layers": layers}


def main(argv: list[str]) -> int:
    try:
        if len(argv) > 1:
            arg = argv[1]
            text = Path(arg).read_text() if not arg.lstrip().startswith(("{", "[")) and Path(arg).is_file() else arg
        else:
            text = sys.stdin.read()
        try:
            jobs = json.loads(text)
        except json.JSONDecodeError as err:
            raise JobError(f"job is not valid JSON: {err}") from None
        jobs = [jobs] if isinstance(jobs, dict) else jobs
        if not isinstance(jobs, list):
            raise JobError("job must be a JSON object or a list of objects")
        jobs = [_check_job(job, i) for i, job in enumerate(jobs)]
        try:
            import scalesim  # noqa: F401
        except ImportError:
            raise JobError(f"the scalesim package is not installed for {sys.executable}") from None
        results = []
        for job in jobs:
            with tempfile.TemporaryDirectory(prefix="scalesim_ref_") as tmp:
                results.append(run_job(job, Path(tmp)))
    except JobError as err:
        print(f"scalesim_ref: {err}", file=sys.stderr)
        return 1
    json.dump({"scalesim": metadata.version("scalesim"), "numpy": metadata.version("numpy"),
               "python": sys.executable, "jobs": results}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
