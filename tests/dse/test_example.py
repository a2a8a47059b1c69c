"""examples/dse/llama_decode.yaml: valid, 243 points; its first points run and their key figures hold."""

from pathlib import Path

from hwsim.dse.run import run_sweep
from hwsim.dse.spec import load_spec
from hwsim.dse.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dse" / "llama_decode.yaml"


def test_example_spec_and_first_points(tmp_path):
    spec, folder = load_spec(EXAMPLE)
    assert len(spec.grid_points()) == 243
    s = run_sweep(spec, folder, tmp_path / "ex.db", budget=3, workers=0, progress=False)
    assert (s.evaluated, s.errors) == (3, 0)
    rows = Store(tmp_path / "ex.db").rows()
    assert [r["dies"] for r in rows] == [1, 2, 4]
    tpot = [r["tpot_ms"] for r in rows]
    assert tpot[0] > tpot[1] > tpot[2]  # decode is memory-bound: more dies, more HBM stacks in all
    # one 32x32-array die's area; each extra die adds the same silicon plus its D2D PHYs
    per_die = rows[0]["area_mm2"]
    assert rows[1]["area_mm2"] > 2 * per_die and rows[2]["area_mm2"] > 4 * per_die
    assert all(r["feasible"] == int(r["area_mm2"] <= 1500) for r in rows)
