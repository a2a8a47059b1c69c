"""The Python examples in docs/ run as written (docs that lie are bugs)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = [(md, i, code) for md in sorted((ROOT / "docs").glob("*.md"))
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", md.read_text(), re.S))]


def test_docs_have_examples():
    assert {md.name for md, _, _ in BLOCKS} >= {"systolic.md", "power.md", "scalesim.md"}


@pytest.mark.parametrize("md, index, code", BLOCKS, ids=[f"{md.name}#{i}" for md, i, _ in BLOCKS])
def test_doc_example_runs(md, index, code, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(code)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    (ROOT / "trace.json").unlink(missing_ok=True)
    assert r.returncode == 0, f"{md.name} example {index} failed:\n{r.stderr}"
