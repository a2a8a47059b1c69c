"""Pareto front vs a brute-force reference; sensitivity; best design per constraint."""

import numpy as np
import pytest

from hwsim.dse.analysis import best_designs, pareto_front, pareto_mask, sensitivity
from hwsim.dse.spec import parse_spec


def brute_force(values, directions):
    v = np.asarray(values, float) * np.array([1 if d == "minimize" else -1 for d in directions])
    n = len(v)
    return np.array([not any(np.all(v[j] <= v[i]) and np.any(v[j] < v[i]) for j in range(n) if j != i)
                     for i in range(n)], dtype=bool)


@pytest.mark.parametrize("seed", range(20))
def test_pareto_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 80)), int(rng.integers(1, 4))
    vals = rng.integers(0, 6, size=(n, k)) if seed % 2 else rng.random((n, k))  # ties when integer
    dirs = [("minimize", "maximize")[int(b)] for b in rng.integers(0, 2, size=k)]
    assert np.array_equal(pareto_mask(vals, dirs), brute_force(vals, dirs))


SPEC = parse_spec({"base": {"system": "chiplet4", "model": "llama-2-7b"},
                   "parameters": [{"path": "a", "choices": [1, 2]}, {"path": "b", "choices": [1, 2]}],
                   "objectives": [{"metric": "tpot_ms"}, {"metric": "tokens_per_s", "direction": "maximize"}],
                   "constraints": ["area_mm2 <= 10"]})


def _rows():
    rows = []
    for a in (1, 2):
        for b in (1, 2):
            area = 5 * a + b
            rows.append({"a": a, "b": b, "status": "ok", "tpot_ms": 10.0 * a, "tokens_per_s": 100.0 / a + b,
                         "area_mm2": area, "area_mm2 <= 10": int(area <= 10), "feasible": int(area <= 10), "trial": a * 2 + b})
    rows.append({"a": 1, "b": 1, "status": "error", "tpot_ms": None, "tokens_per_s": None, "area_mm2": None,
                 "area_mm2 <= 10": None, "feasible": 0, "trial": 99})
    return rows


def test_front_sensitivity_best():
    rows = _rows()
    front = pareto_front(rows, SPEC)
    assert [(r["a"], r["b"]) for r in front] == [(1, 2)]
    s = sensitivity(rows, SPEC)
    assert s["tpot_ms"]["b"] == 0.0 and s["tpot_ms"]["a"] == pytest.approx(10 / 15)
    best = best_designs(rows, SPEC)
    assert (best["tpot_ms"]["all constraints"]["a"], best["tokens_per_s"]["all constraints"]["b"]) == (1, 2)
    # (1, 1) and (1, 2) tie on tpot_ms: the tie goes to the better tokens_per_s, the front's design
    assert (best["tpot_ms"]["all constraints"]["a"], best["tpot_ms"]["all constraints"]["b"]) == (1, 2)
