"""hwsim report STORE: HTML with embedded PNGs, Markdown with the front's table (no browser test yet)."""

import base64
import re

import yaml
from typer.testing import CliRunner

from hwsim.cli import app
from hwsim.dse import analysis
from hwsim.dse.run import run_sweep
from hwsim.dse.spec import load_spec
from hwsim.dse.store import Store


def test_report_html_and_markdown(tmp_path):
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
    html = (tmp_path / "out" / "report.html").read_text()
    imgs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(imgs) == 3 and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in imgs)
    front = analysis.pareto_front(Store(tmp_path / "rep.db").rows(), spec)
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"## Pareto front ({len(front)} points)" in md and f"Pareto front ({len(front)} points)" in html
    for name in ("pareto.png", "pairwise.png", "parallel.png"):
        assert f"]({name})" in md and (tmp_path / "out" / name).stat().st_size > 1000
