"""Writes ``report.json``, ``report.md`` and the PNG plots of a run into one folder, atomically
(built in a temporary sibling folder and renamed into place, so a failed run leaves nothing half-written)."""

from __future__ import annotations

import json
from pathlib import Path

from hwsim.report.atomic import write_atomically
from hwsim.report.plots import PLOTS


def _fmt(x: float, digits: int = 3) -> str:
    if isinstance(x, int):
        return f"{x:,}"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) < 0.01:
        return f"{x:.{digits}e}"
    return f"{x:.{digits}g}"


def render_markdown(data: dict) -> str:
    cfg = data["config"]
    unit = cfg["unit"]
    t = data["totals"]
    port = unit["memory_port"]
    port_txt = ("ideal (no stalls)" if port is None else
                f"{port['bandwidth_bytes_per_cycle']} B/cycle, {port['latency_cycles']} cycles latency")
    lines: list[str] = [
        f"# hwsim report: {data['name']}",
        "",
        f"Face: **{cfg['face']}**, accounting: **{cfg['accounting']}**, technology: **{cfg['technology']}**.",
        "",
        "## System",
        "",
        "| parameter | value |",
        "| --- | --- |",
        f"| array | {unit['rows']} x {unit['cols']} PEs, {unit['dataflow'].upper()} dataflow |",
        f"| PE | {unit['pe']['input']} x {unit['pe']['input']} -> {unit['pe']['accumulator']}, "
        f"multiplier `{unit['pe']['multiplier']['kind']}` |",
        f"| clock | {data['freq_mhz']:.6g} MHz |",
        f"| SRAM (KiB) | A {unit['sram']['a_kib']}, B {unit['sram']['b_kib']}, C {unit['sram']['c_kib']} |",
        f"| memory port | {port_txt} |",
    ]
    mem = cfg.get("memory")
    if mem:
        lines.append(f"| off-chip memory | {mem['dram']['preset']} through DMA "
                     f"({mem['dma']['max_outstanding']} transactions in flight) |")
    pkg = data.get("package")
    if pkg:
        topo = pkg["topology"]
        topo_txt = topo["kind"] + (f" {topo['rows']}x{topo['cols']}" if topo["kind"] == "mesh" else "")
        lines += [f"| package | {pkg['dies']} dies, {topo_txt}, {pkg['links']} D2D links `{pkg['link']}` "
                  f"({_fmt(pkg['link_bandwidth_gbps'])} GB/s per direction, {_fmt(pkg['link_latency_ns'])} ns, "
                  f"{_fmt(pkg['energy_pj_per_bit'])} pJ/bit); all-reduce `{pkg['allreduce']}` |"]
    lines += [
        "",
        "## Totals",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| cycles | {t['cycles']:,} (of which stall {t['stall_cycles']:,}"
        + (f", die-to-die communication {t['comm_cycles']:,}" if pkg else "") + ") |",
        f"| time | {_fmt(t['time_s'] * 1e6)} µs |",
        f"| MACs | {t['macs']:,} |",
        f"| utilisation | {100 * t['utilization']:.1f} % |",
        f"| throughput | {_fmt(t['tops'])} TOPS (2 ops per MAC) |",
        f"| energy | {_fmt(t['energy_pj'] / 1e6)} µJ |",
        f"| average power | {_fmt(t['average_power_w'])} W |",
        f"| area | {_fmt(t['area_mm2'])} mm² |",
    ]
    if data.get("clock"):
        ck = data["clock"]
        lines += [f"| clock limit (PE synthesis, {ck['node']}) | {ck['fmax_mhz']:.0f} MHz "
                  f"(PE logic depth {ck['logic_depth']} gates, {ck['pe_transistors']:,} transistors) |"]
    lines += [
        "",
        "## Layers",
        "",
        "| layer | M | N | K | count | cycles | stall | util % | map eff % | energy µJ |"
        + (" split | collective | comm cycles |" if pkg else "")
        + (" values = FL |" if cfg["face"] == "cl" else ""),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" --- | --- | ---: |" if pkg else "")
        + (" --- |" if cfg["face"] == "cl" else ""),
    ]
    for lay in data["layers"]:
        row = (f"| {lay['name']} | {lay['m']} | {lay['n']} | {lay['k']} | {lay['count']} | {lay['cycles']:,} | "
               f"{lay['stall_cycles']:,} | {100 * lay['utilization']:.1f} | "
               f"{100 * lay['mapping_efficiency']:.1f} | {_fmt(lay['energy']['total_pj'] / 1e6)} |")
        if pkg:
            cm = lay["comm"]
            coll = f"{cm['collective']} ({cm['algo']}, {cm['bytes']:,} B)" if cm["collective"] else "-"
            row += f" {cm['split']} on {cm['dies_used']} | {coll} | {cm['cycles']:,} |"
        if cfg["face"] == "cl":
            row += f" {'yes' if lay['values_match_fl'] else 'NO'} |"
        lines.append(row)
    rf = data.get("roofline")
    if rf:
        lines += ["", "## Roofline", "",
                  f"Peak {rf['peak_ops_per_s'] / 1e12:.3g} TOPS, memory {rf['peak_bytes_per_s'] / 1e9:.3g} GB/s, "
                  f"ridge at {rf['ridge_ops_per_byte']:.3g} ops/byte.", "",
                  "| layer | ops/byte | achieved TOPS | roof TOPS | bound | stall share |",
                  "| --- | ---: | ---: | ---: | --- | ---: |"]
        for p in rf["layers"]:
            lines.append(f"| {p['name']} | {_fmt(p['intensity_ops_per_byte'])} | {_fmt(p['ops_per_s'] / 1e12)} | "
                         f"{_fmt(p['roof_ops_per_s'] / 1e12)} | {p['bound']} | {100 * p['stall_fraction']:.0f} % |")
        lines += ["", "![roofline](roofline.png)"]
    lines += ["", "![cycles per layer](layer_cycles.png)", "", "![utilisation](utilization.png)", "",
              "## Energy by component", "", "| component | energy µJ | share |", "| --- | ---: | ---: |"]
    for comp, pj in t["energy_by_component_pj"].items():
        share = pj / t["energy_pj"] if t["energy_pj"] else 0.0
        lines.append(f"| {comp} | {_fmt(pj / 1e6)} | {100 * share:.1f} % |")
    lines += ["", "![energy breakdown](energy_breakdown.png)"]
    pt = data.get("power_trace")
    if pt:
        peak = max((sum(v[i] for v in pt["watts"].values()) for i in range(len(pt["time_us"]))), default=0.0)
        lines += ["", "## Power over time", "",
                  f"Windows of {pt['window_cycles']} cycles, layers back to back over {_fmt(pt['end_us'])} µs; "
                  f"peak window {_fmt(peak)} W.", "", "![power over time](power_over_time.png)"]
    lines += ["", "## Area by component", "",
              "| component | mm² |", "| --- | ---: |"]
    for comp, mm2 in data["area"]["components_mm2"].items():
        lines.append(f"| {comp} | {_fmt(mm2)} |")
    lines += ["", "![area breakdown](area_breakdown.png)"]
    if data.get("die_area"):
        from hwsim.report.area import area_markdown

        checks = (data.get("package") or {}).get("checks") or {}
        clock = []
        if checks.get("noc_router"):
            r = checks["noc_router"]
            clock.append(f"- die NoC router: critical stage {r['critical_stage']} ({r['logic_depth']} gates), fmax "
                         f"{r['fmax_mhz']:.0f} MHz at {r['node']}, configured {r['freq_mhz']:g} MHz")
        if checks.get("d2d_adapter"):
            a = checks["d2d_adapter"]
            clock.append(f"- D2D adapter: needs {a['needed_adapter_bytes']} B per cycle at {a['die_clock_mhz']:g} MHz "
                         f"for the link's {a['link_bandwidth_gbps']:g} GB/s; delivers {a['deliverable_gbps']:g} GB/s"
                         + (" (NoC-bound)" if a.get("noc_bound") else ""))
        lines += [""] + area_markdown(data["die_area"], clock, image=None)  # the chart is area_breakdown.png
    if data.get("technology"):
        from hwsim.report.technology import technology_markdown

        lines += [""] + technology_markdown(data["technology"])
    lines += ["", "## How these numbers are made", "",
              "- `cycles` = compute cycles (from the first operand entering the array to the last result "
              "leaving it, fill and drain included, folds run one after another) + stall cycles (the array "
              "waiting for the memory port)"
              + (" + die-to-die communication cycles (the layer's collective after its slowest die; "
                 "no overlap)" if pkg else "") + ".",
              "- Energy = action counts x the technology table's energy per action; power = energy / time.",
              "- `accounting: scalesim` reproduces SCALE-Sim 3.0's compute-cycle count instead."]
    if data["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in data["warnings"]]
    return "\n".join(lines) + "\n"


def write_run_report(result, out_dir: str | Path) -> Path:
    """Write the run's report folder (atomically); returns its path."""
    data = result.to_dict()

    def fill(tmp: Path) -> None:
        (tmp / "report.json").write_text(json.dumps(data, indent=2))
        for name, plot in PLOTS.items():
            plot(data, tmp / name)  # a plot that does not apply (e.g. no roofline) writes nothing
        (tmp / "report.md").write_text(render_markdown(data))

    return write_atomically(out_dir, fill)
