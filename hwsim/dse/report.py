"""The report of a sweep store: ``report.html`` (figures embedded as base64 PNG, one self-contained
file) and ``report.md`` (the same tables, figures as PNG files beside it).

Figures: the Pareto scatter of the first two objectives (all successful points, feasible or not, the
front marked), the pairwise scatter of every pair of objectives, and parallel coordinates over the
parameters and objectives (each axis scaled to its min..max; non-numeric values by their order of
appearance; front points drawn in colour), and the fANOVA importance of every parameter per
objective (bars, :func:`hwsim.dse.analysis.param_importances` on the store's Optuna study). Tables:
the front, the sensitivity, the fANOVA importance, the best design per constraint. The chosen
designs (the best feasible one per objective, :mod:`hwsim.dse.designs`) are evaluated again in full for
their roofline, latency, energy and area breakdowns.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from hwsim.dse import analysis
from hwsim.dse.store import Store


def _fig_png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _num(values: list) -> np.ndarray:
    """Numbers as they are; anything else by order of first appearance."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float)
    order = {}
    for v in values:
        order.setdefault(json.dumps(v, sort_keys=True, default=str), len(order))
    return np.asarray([order[json.dumps(v, sort_keys=True, default=str)] for v in values], dtype=float)


def _figures(rows, spec, front_keys) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["status"] == "ok" and all(r.get(o.metric) is not None for o in spec.objectives)]
    objs = [o.metric for o in spec.objectives]
    on = np.array([r["key"] in front_keys for r in ok], dtype=bool)
    feas = np.array([bool(r["feasible"]) for r in ok], dtype=bool)
    out = {}
    if not ok:
        return out
    x = objs[0]
    y = objs[1] if len(objs) > 1 else "area_mm2"
    fig, ax = plt.subplots(figsize=(6, 4.5))
    xv, yv = np.array([r[x] for r in ok]), np.array([r[y] if r[y] is not None else np.nan for r in ok])
    ax.scatter(xv[~feas], yv[~feas], s=12, c="lightgray", label="violates a constraint")
    ax.scatter(xv[feas & ~on], yv[feas & ~on], s=14, c="tab:blue", alpha=0.6, label="feasible")
    ax.scatter(xv[on], yv[on], s=40, c="tab:red", edgecolors="k", label="Pareto front (all objectives)")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{spec.name or 'sweep'}: {x} vs {y}")
    ax.legend(fontsize=8)
    out["pareto.png"] = _fig_png(fig)
    if len(objs) > 2:
        k = len(objs)
        fig, axes = plt.subplots(k, k, figsize=(2.4 * k, 2.4 * k))
        vals = {m: np.array([r[m] for r in ok]) for m in objs}
        for i, mi in enumerate(objs):
            for j, mj in enumerate(objs):
                a = axes[i][j]
                if i == j:
                    a.hist(vals[mi], bins=20, color="tab:blue")
                else:
                    a.scatter(vals[mj][~on], vals[mi][~on], s=5, c=np.where(feas[~on], "tab:blue", "lightgray"))
                    a.scatter(vals[mj][on], vals[mi][on], s=12, c="tab:red")
                if i == k - 1:
                    a.set_xlabel(mj, fontsize=7)
                if j == 0:
                    a.set_ylabel(mi, fontsize=7)
                a.tick_params(labelsize=6)
        out["pairwise.png"] = _fig_png(fig)
    cols = [p.label for p in spec.parameters] + objs
    data = np.stack([_num([r.get(c) for r in ok]) for c in cols], axis=1)
    lo, hi = np.nanmin(data, axis=0), np.nanmax(data, axis=0)
    norm = (data - lo) / np.where(hi > lo, hi - lo, 1.0)
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(cols)), 4.5))
    xs = np.arange(len(cols))
    for row, f in zip(norm, on):
        if not f:
            ax.plot(xs, row, c="lightgray", lw=0.5, alpha=0.5)
    for row, f in zip(norm, on):
        if f:
            ax.plot(xs, row, c="tab:red", lw=1.2)
    ax.set_xticks(xs)
    ax.set_xticklabels(cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["min", "max"])
    ax.set_title("parallel coordinates (red: Pareto front)")
    out["parallel.png"] = _fig_png(fig)
    return out


def _importance_figure(importance: dict[str, dict[str, float]], title: str) -> bytes:
    """One panel per objective: a horizontal bar per parameter, its fANOVA importance (0..1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    objs = list(importance)
    params = list(next(iter(importance.values())))
    fig, axes = plt.subplots(1, len(objs), figsize=(max(6, 2.6 * len(objs)), 0.45 * len(params) + 1.4),
                             sharey=True, squeeze=False)
    ys = np.arange(len(params))
    for a, m in zip(axes[0], objs):
        vals = [importance[m][p] for p in params]
        a.barh(ys, vals, color="tab:blue")
        for y, v in zip(ys, vals):
            a.text(min(v, 1.0) + 0.02, y, f"{v:.2f}", va="center", fontsize=7)
        a.set_xlim(0, 1.15)
        a.set_title(m, fontsize=9)
        a.tick_params(labelsize=7)
    axes[0][0].set_yticks(ys)
    axes[0][0].set_yticklabels(params, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle(title, fontsize=10)
    return _fig_png(fig)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def write_report(store_path: str | Path, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and the PNGs into ``out_dir`` (default: ``<store stem>_report``
    beside the store). Returns the written paths."""
    store_path = Path(store_path)
    out = Path(out_dir) if out_dir is not None else store_path.with_name(store_path.stem + "_report")
    out.mkdir(parents=True, exist_ok=True)
    from hwsim.dse.study import load_stored_study

    st = Store(store_path)
    try:
        rows, spec = st.rows(), st.spec
    finally:
        st.close()
    summ = analysis.summarize(rows, spec, load_stored_study(store_path, spec, rows))
    front = analysis.pareto_front(rows, spec)
    figs = _figures(rows, spec, {r["key"] for r in front})
    if summ["importance"]:
        figs["importance.png"] = _importance_figure(summ["importance"], "fANOVA parameter importance per objective")
    from hwsim.dse import designs as chosen_mod

    chosen = [(why, r, chosen_mod.evaluate_full(r, spec, store_path.parent))
              for why, r in chosen_mod.chosen_designs(rows, spec)]
    chosen_figs = chosen_mod.figures(chosen, spec) if chosen else {}
    figs.update(chosen_figs)
    paths = {}
    for name, png in figs.items():
        (out / name).write_bytes(png)
        paths[name] = out / name
    cols = [p.label for p in spec.parameters] + [o.metric for o in spec.objectives]
    if "area_mm2" not in cols:
        cols.append("area_mm2")
    title = f"Sweep {spec.name or store_path.stem}"
    head = (f"{summ['points']} points, {summ['ok']} evaluated without error, {summ['feasible']} feasible "
            f"(constraints: {', '.join(spec.constraints) or 'none'}); objectives: "
            + ", ".join(f"{o.metric} ({o.direction})" for o in spec.objectives))
    md = [f"# {title}", "", head, ""]
    for name in figs:
        if name not in chosen_figs:
            md += [f"![{name}]({name})", ""]
    chosen_rows = [[f"D{i + 1}", why, chosen_mod.label(r, spec), d["ttft_ms"], d["tpot_ms"],
                    d["energy_per_token_mj"], d["area_mm2"]] for i, (why, r, d) in enumerate(chosen)]
    chosen_head = ["design", "why", "parameters", "ttft_ms", "tpot_ms", "energy_per_token_mj", "area_mm2"]
    if chosen:
        md += ["## Chosen designs", "", "The best design meeting every constraint for each objective, evaluated "
               "again in full (cost faces).", "", "| " + " | ".join(chosen_head) + " |", "|" + "---|" * len(chosen_head)]
        md += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in chosen_rows]
        md += [""] + [f"![{name}]({name})\n" for name in chosen_figs]
    md += [f"## Pareto front ({len(front)} points)", "", "| " + " | ".join(cols) + " |",
           "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in front]
    md += ["", f"## Sensitivity ({summ['sensitivity_method']})", "",
           "| objective | " + " | ".join(p.label for p in spec.parameters) + " |",
           "|---|" + "---|" * len(spec.parameters)]
    for m, per in summ["sensitivity"].items():
        md.append(f"| {m} | " + " | ".join(_fmt(per[p.label]) for p in spec.parameters) + " |")
    md += ["", "## fANOVA importance", "", f"{summ['importance_method']}; from {summ['importance_note']}."
           if summ["importance"] else f"Not computed: {summ['importance_note']}.", ""]
    if summ["importance"]:
        md += ["| objective | " + " | ".join(p.label for p in spec.parameters) + " |",
               "|---|" + "---|" * len(spec.parameters)]
        for m, per in summ["importance"].items():
            md.append(f"| {m} | " + " | ".join(f"{per[p.label]:.3f}" for p in spec.parameters) + " |")
    md += ["", "## Best design per constraint", "", "| objective | constraint | design | value |", "|---|---|---|---|"]
    for m, per in summ["best"].items():
        for c, r in per.items():
            design = "none" if r is None else ", ".join(f"{p.label}={_fmt(r[p.label])}" for p in spec.parameters)
            md.append(f"| {m} | {c} | {design} | {_fmt(None if r is None else r[m])} |")
    (out / "report.md").write_text("\n".join(md) + "\n")
    paths["report.md"] = out / "report.md"

    def table(header, body):
        h = "".join(f"<th>{html.escape(c)}</th>" for c in header)
        b = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in body)
        return f"<table><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>"

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>{html.escape(head)}</p>"]
    def figure(name, png):
        return (f"<figure><img alt='{name}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
                f"<figcaption>{name}</figcaption></figure>")

    parts += [figure(name, png) for name, png in figs.items() if name not in chosen_figs]
    if chosen:
        parts.append("<h2>Chosen designs</h2><p>The best design meeting every constraint for each objective, "
                     "evaluated again in full (cost faces).</p>")
        parts.append(table(chosen_head, chosen_rows))
        parts += [figure(name, png) for name, png in chosen_figs.items()]
    parts.append(f"<h2>Pareto front ({len(front)} points)</h2>")
    parts.append(table(cols, [[r.get(c) for c in cols] for r in front]))
    parts.append(f"<h2>Sensitivity ({html.escape(summ['sensitivity_method'])})</h2>")
    parts.append(table(["objective"] + [p.label for p in spec.parameters],
                       [[m] + [per[p.label] for p in spec.parameters] for m, per in summ["sensitivity"].items()]))
    parts.append("<h2>fANOVA importance</h2>")
    if summ["importance"]:
        parts.append(f"<p>{html.escape(summ['importance_method'])}; from {html.escape(summ['importance_note'])}.</p>")
        parts.append(table(["objective"] + [p.label for p in spec.parameters],
                           [[m] + [round(per[p.label], 3) for p in spec.parameters]
                            for m, per in summ["importance"].items()]))
    else:
        parts.append(f"<p>Not computed: {html.escape(summ['importance_note'])}.</p>")
    parts.append("<h2>Best design per constraint</h2>")
    body = []
    for m, per in summ["best"].items():
        for c, r in per.items():
            design = "none" if r is None else ", ".join(f"{p.label}={_fmt(r[p.label])}" for p in spec.parameters)
            body.append([m, c, design, None if r is None else r[m]])
    parts.append(table(["objective", "constraint", "design", "value"], body))
    parts.append("</body></html>")
    (out / "report.html").write_text("".join(parts))
    paths["report.html"] = out / "report.html"
    return paths
