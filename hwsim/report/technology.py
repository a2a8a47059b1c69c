"""The technology numbers a report used, with their sources: one row per sourced entry of the
technology table (value fields, source key and citation, derivation rule), plus the DRAM preset's
energies when the run had off-chip memory."""

from __future__ import annotations


def _fmt_values(values: dict) -> str:
    return ", ".join(f"{k} = {v:g}" if isinstance(v, (int, float)) else f"{k} = {v}"
                     for k, v in values.items() if v is not None and not isinstance(v, (list, dict)))


def technology_rows(tech, dram=None) -> list[dict]:
    """Rows ``{"path", "values", "source", "citation", "rule"}`` for every number of ``tech`` (a
    :class:`~hwsim.power.tech.TechTable`) and, with ``dram`` (a DramConfig), its energy table."""
    rows = []
    for path, entry in tech.sourced():
        d = entry.model_dump()
        source, rule = d.pop("source"), d.pop("rule", None)
        rows.append({"path": f"{tech.name}.{path}", "values": _fmt_values(d), "source": source,
                     "citation": tech.references.get(source, "derived" if source == "derived" else ""),
                     "rule": rule or ""})
    from rtl.synth.nodes import load_nodes

    nodes = load_nodes()
    rows.append({"path": "nodes.utilization", "values": f"value = {nodes.utilization.value:g}",
                 "source": "hwsim/power/data/nodes/nodes.yaml", "citation": nodes.utilization.source,
                 "rule": "placed blocks / utilisation in the die roll-up (hwsim.power.die)"})
    rows.append({"path": "nodes.gate_delay_fo4, register_overhead_fo4",
                 "values": f"{nodes.gate_delay_fo4.value:g}, {nodes.register_overhead_fo4.value:g}",
                 "source": "hwsim/power/data/nodes/nodes.yaml",
                 "citation": f"{nodes.gate_delay_fo4.source}; {nodes.register_overhead_fo4.source}",
                 "rule": "fmax = 1e6 / ((logic depth x gate_delay_fo4 + register_overhead_fo4) x node.fo4_ps)"})
    if dram is not None:
        from hwsim.power.die import memory_phy_table

        entry = memory_phy_table()["interfaces"].get(dram.name)
        if entry is not None:
            rows.append({"path": f"memory_phy[{dram.name}].area_mm2", "values": f"{entry['area_mm2']:g} per {entry['per']}",
                         "source": entry["source"], "citation": memory_phy_table()["references"].get(entry["source"], ""),
                         "rule": entry["rule"]})
        from hwsim.memory.dram.config import _preset_data

        data = _preset_data()  # read only
        preset = data["presets"].get(dram.name, {})
        sources = preset.get("sources", {})
        refs = data.get("references", {})
        for key, v in dram.energy.model_dump().items():
            src = sources.get(f"energy.{key}", {})
            rows.append({"path": f"dram[{dram.name}].energy.{key}", "values": f"{v:g}",
                         "source": src.get("source", ""), "citation": refs.get(src.get("source", ""), ""),
                         "rule": src.get("note", "")})
    return rows


def technology_markdown(rows: list[dict]) -> list[str]:
    """A Markdown section listing ``rows``."""
    lines = ["## Technology numbers used", "",
             "Every energy and area figure behind this report, with its source (`derived` rows state their rule).",
             "", "| entry | value | source | rule |", "| --- | --- | --- | --- |"]
    for r in rows:
        rule = r["rule"].replace("|", "/").replace("\n", " ")
        lines.append(f"| {r['path']} | {r['values']} | {r['source']} | {rule} |")
    cited = {r["source"]: r["citation"] for r in rows if r["citation"] and r["source"] != "derived"}
    if cited:
        lines += ["", "Sources:", ""] + [f"- **{k}**: {' '.join(v.split())}" for k, v in sorted(cited.items())]
    return lines
