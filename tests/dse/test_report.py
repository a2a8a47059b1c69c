"""hwsim report STORE: HTML with embedded PNGs, Markdown with the front's table; every figure renders in
headless Chromium."""

import base64
import re
import shutil

import optuna
import pytest
import yaml
from typer.testing import CliRunner

from hwsim.cli import app
from hwsim.dse import analysis
from hwsim.dse.run import run_sweep
from hwsim.dse.spec import load_spec
from hwsim.dse.store import Store


def _sweep_and_report(tmp_path):
    """A 4-point sweep, stored and reported: (spec, report.html text)."""
    data = {"name": "rep", "base": {"system": "chiplet4", "model": "llama-2-7b", "batch": 1, "prompt": 16, "generate": 2},
            "parameters": [{"path": "die.unit.rows", "choices": [32, 64]}, {"path": "dies", "choices": [2, 4]}],
            "objectives": [{"metric": "tpot_ms"}, {"metric": "ttft_ms"}, {"metric": "area_mm2"}],
            "constraints": ["area_mm2 <= 1500"]}
    p = tmp_path / "rep.yaml"
    p.write_text(yaml.safe_dump(data))
    spec, folder = load_spec(p)
    run_sweep(spec, folder, tmp_path / "rep.db", workers=0, progress=False)
    r = CliRunner().invoke(app, ["report", str(tmp_path / "rep.db"), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    return spec, (tmp_path / "out" / "report.html").read_text()


def test_report_html_and_markdown(tmp_path):
    spec, html = _sweep_and_report(tmp_path)
    imgs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(imgs) == 8 and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in imgs)
    front = analysis.pareto_front(Store(tmp_path / "rep.db").rows(), spec)
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"## Pareto front ({len(front)} points)" in md and f"Pareto front ({len(front)} points)" in html
    for name in ("pareto.png", "pairwise.png", "parallel.png", "importance.png", "roofline.png", "latency.png",
                 "energy.png", "area.png"):
        assert f"]({name})" in md and (tmp_path / "out" / name).stat().st_size > 1000
        assert f"alt='{name}'" in html
    # the fANOVA table: one row per objective, one column per parameter, the figure's numbers
    imp = analysis.param_importances(optuna.load_study(study_name="rep", storage=f"sqlite:///{tmp_path / 'rep.db'}"),
                                     spec)
    assert "## fANOVA importance" in md and "from the store's Optuna study" in md
    for m, per in imp.items():
        assert f"| {m} | " + " | ".join(f"{per[p.label]:.3f}" for p in spec.parameters) + " |" in md


CHROMIUM = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)

# appended to a copy of the report: after load, list every <img> that did not decode
_PROBE = """<script>window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 40));
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = 'IMAGES=' + imgs.length + ' BROKEN=' + JSON.stringify(broken);
  document.body.appendChild(out);
});</script>"""


@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it with apt)")
def test_html_report_renders_every_figure_in_headless_chromium(tmp_path):
    import subprocess

    def probe(html: str, name: str):
        """(images, broken images) after Chromium loaded ``html`` with the probe appended."""
        path = tmp_path / name
        path.write_text(html.replace("</body>", _PROBE + "</body>") if "</body>" in html else html + _PROBE)
        res = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                              "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
        m = re.search(r"IMAGES=(\d+) BROKEN=(\[.*?\])", res.stdout)
        assert m, f"probe did not run: {res.stderr[-500:]}"
        return int(m.group(1)), m.group(2)

    _, html = _sweep_and_report(tmp_path)
    images, broken = probe(html, "probe.html")
    assert images == html.count("<img") >= 2 and broken == "[]"
    # a deliberately broken image is caught by the same probe
    _, broken = probe(html.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1), "bad.html")
    assert broken != "[]"


def test_chosen_designs_are_the_best_feasible_and_reproduce_their_stored_metrics(tmp_path):
    """The report's chosen designs: one per objective (the best meeting every constraint), each once;
    re-run from its stored config, a design gives exactly the metrics stored for it (deterministic)."""
    from hwsim.dse.designs import chosen_designs, evaluate_full
    from hwsim.dse.space import area_metrics

    spec, html = _sweep_and_report(tmp_path)
    rows = Store(tmp_path / "rep.db").rows()
    chosen = chosen_designs(rows, spec)
    best = analysis.best_designs(rows, spec)
    keys = [r["key"] for _, r in chosen]
    assert len(keys) == len(set(keys)) >= 1
    for o in spec.objectives:
        b = best[o.metric]["all constraints"]
        assert b is None or any(b["key"] == r["key"] and o.metric in why for why, r in chosen)
    for _, r in chosen:
        assert r["feasible"]
        d = evaluate_full(r, spec, tmp_path)
        assert (d["tpot_ms"], d["ttft_ms"], d["area_mm2"]) == (r["tpot_ms"], r["ttft_ms"], r["area_mm2"])
        assert sum(v for k, v in area_metrics(d["area"]).items() if k not in ("area_mm2", "die_mm2")) == \
            pytest.approx(d["area_mm2"], rel=1e-12)
    assert "<h2>Chosen designs</h2>" in html and "D1" in html
