"""The die and package area section of a report (``hwsim run`` and ``hwsim llm``): a table of the
die roll-up (:mod:`hwsim.power.die`), the package total, and a bar chart by component."""

from __future__ import annotations

from pathlib import Path


def area_markdown(pkg: dict, clock_lines: list[str] | None = None, image: str | None = "die_area.png") -> list[str]:
    """Markdown lines for a package area dict (:func:`hwsim.power.die.package_area`); ``image``: the
    chart to show (None: none)."""
    lines = ["## Die and package area", ""]
    for d in pkg["dies"]:
        lines += [f"{d['name']} (x{d['count']}): **{d['die_mm2']:.4g} mm²** = placed blocks {d['logic_mm2']:.4g} mm² "
                  f"/ utilisation {d['utilization']:g} + hard PHYs {d['phy_mm2']:.4g} mm².", "",
                  "| block | kind | mm² per die |", "| --- | --- | ---: |"]
        lines += [f"| {k} | placed | {v:.4g} |" for k, v in d["placed_mm2"].items()]
        lines.append(f"| placement overhead | gaps at utilisation {d['utilization']:g} | "
                     f"{d['placement_overhead_mm2']:.4g} |")
        lines += [f"| {k} | hard (edge PHY) | {v:.4g} |" for k, v in d["hard_mm2"].items()]
        lines += [""] + [f"- {n}" for n in d.get("notes", [])] + ([""] if d.get("notes") else [])
    extra = f" + switch die {pkg['switch_mm2']:.4g} mm²" if pkg.get("switch_mm2") else ""
    lines.append(f"Package: {pkg['silicon_dies']} silicon die(s), **{pkg['total_mm2']:.4g} mm²**{extra}.")
    if image:
        lines += ["", f"![die and package area]({image})"]
    if clock_lines:
        lines += ["", "## Clock", ""] + clock_lines
    return lines


def plot_die_area(pkg: dict, path: Path, title: str) -> Path:
    """Package area by component (mm², every die), largest first (the run report's area chart)."""
    from hwsim.report.plots import area_breakdown

    return area_breakdown({"name": f"{title} ({pkg['silicon_dies']} die(s))",
                           "area": {"components_mm2": pkg["components_mm2"], "total_mm2": pkg["total_mm2"]}}, path)
