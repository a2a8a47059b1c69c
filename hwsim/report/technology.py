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
    if dram is not None:
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
