"""Grid and random sweeps mirrored into an Optuna study (each point once, across resumes); fANOVA
importance on a synthetic store whose objectives each depend on one parameter."""

import math

import numpy as np
import optuna
import pytest
import yaml

from hwsim.dse import analysis
from hwsim.dse.run import run_sweep
from hwsim.dse.spec import load_spec, parse_spec
from hwsim.dse.store import Store, point_key
from hwsim.dse.study import StudyMirror, load_stored_study, results_study, trial_from_row

BASE = {"system": "chiplet4", "model": "llama-2-7b", "batch": 1, "prompt": 16, "generate": 2}


def _study(db, name):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{db}")


def _synced(db, spec):
    """The store's study after analysing it (the mirror runs then, not in the sweep loop)."""
    return load_stored_study(db, spec, Store(db).rows())


def _check_mirror(study, rows, spec):
    """One trial per stored row, keyed by the row's key; complete ones carry the row's objectives."""
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == len(rows) and len({t.user_attrs["key"] for t in trials}) == len(rows)
    by_key = {t.user_attrs["key"]: t for t in trials}
    for r in rows:
        t = by_key[r["key"]]
        assert t.user_attrs["trial"] == r["trial"] and t.user_attrs["feasible"] == bool(r["feasible"])
        if r["status"] == "ok":
            assert t.state.name == "COMPLETE" and t.values == [r[o.metric] for o in spec.objectives]
            assert t.params == {p.label: r[p.label] for p in spec.parameters}
        else:
            assert t.state.name == "FAIL" and t.values is None and t.user_attrs["error"] == r["error"]


def test_grid_sweep_is_mirrored_once_and_its_best_trials_are_the_front(tmp_path):
    data = {"name": "g", "base": BASE,
            "parameters": [{"path": "die.unit.rows", "choices": [32, 64]}, {"path": "dies", "choices": [2, 4]}],
            "objectives": [{"metric": "tpot_ms"}, {"metric": "area_mm2"}], "constraints": ["area_mm2 <= 1500"]}
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(data))
    spec, folder = load_spec(tmp_path / "g.yaml")
    db = tmp_path / "g.db"
    run_sweep(spec, folder, db, workers=0, progress=False)
    rows = Store(db).rows()
    assert len(rows) == 4
    assert load_stored_study(db, spec) is None  # not mirrored while sweeping
    _synced(db, spec)
    _check_mirror(_study(db, "g"), rows, spec)
    infeasible = [t for t in _study(db, "g").trials if not t.user_attrs["feasible"]]
    assert infeasible and all(t.state.name == "COMPLETE" and t.user_attrs["constraints"][0] > 0 for t in infeasible)
    front = {r["key"] for r in analysis.pareto_front(rows, spec)}
    assert {t.user_attrs["key"] for t in _study(db, "g").best_trials} == front  # constraints seen by Optuna
    # resume and analyse again: nothing new, nothing mirrored twice
    again = run_sweep(spec, folder, db, workers=0, progress=False)
    _synced(db, spec)
    assert (again.evaluated, len(_study(db, "g").trials)) == (0, 4)
    # a study lost or partly written (a kill during the mirror): the next analysis completes it, once
    optuna.delete_study(study_name="g", storage=f"sqlite:///{db}")
    mirror = StudyMirror(spec, db, "g")
    mirror.add(rows[:1])
    _synced(db, spec)
    _synced(db, spec)
    _check_mirror(_study(db, "g"), rows, spec)
    assert load_stored_study(db, spec).study_name == "g"


def test_random_sweep_mirror_uses_the_spec_distributions(tmp_path):
    data = {"name": "r", "base": BASE,
            "parameters": [{"path": "die.unit.rows", "range": {"low": 16, "high": 64, "step": 16}},
                           {"path": "scenario.batch", "choices": [1, 2]}],
            "objectives": [{"metric": "tpot_ms"}], "search": {"kind": "random", "seed": 3, "budget": 5}}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(data))
    spec, folder = load_spec(tmp_path / "r.yaml")
    run_sweep(spec, folder, tmp_path / "r.db", workers=0, progress=False)
    rows = Store(tmp_path / "r.db").rows()
    _synced(tmp_path / "r.db", spec)
    study = _study(tmp_path / "r.db", "r")
    _check_mirror(study, rows, spec)
    d = study.trials[0].distributions
    assert d["die.unit.rows"] == optuna.distributions.IntDistribution(16, 64, step=16)
    assert d["scenario.batch"] == optuna.distributions.CategoricalDistribution([1, 2])


SYN = parse_spec({"name": "syn", "base": BASE,
                  "parameters": [{"path": "a", "range": {"low": 1, "high": 6, "step": 1}},
                                 {"path": "b", "range": {"low": 0.5, "high": 8.0, "log": True}},
                                 {"path": "c", "choices": [{"kind": "exact"}, {"kind": "drum"}, {"kind": "mitchell"}]}],
                  "objectives": [{"metric": "tpot_ms"}, {"metric": "area_mm2"}, {"metric": "energy_per_token_mj"}],
                  "constraints": ["area_mm2 <= 4"]})


def _synthetic_store(path):
    """Every grid point of SYN (6 x 5 x 3): tpot_ms = a² (a only), area_mm2 = b (b only), energy
    constant; one point failed."""
    st = Store(path, SYN)
    for i, p in enumerate(SYN.grid_points()):
        if i == 7:
            st.add(i, p, {"status": "error", "metrics": {}, "error": "KV cache does not fit"}, 1)
            continue
        metrics = {"tpot_ms": float(p["a"] ** 2), "area_mm2": float(p["b"]), "energy_per_token_mj": 3.0}
        st.add(i, p, {"status": "ok", "metrics": metrics, "config": "{}", "wall_s": 0.0}, 1)
    rows = st.rows()
    st.close()
    return rows


def test_synthetic_trials_and_bad_values():
    row = {"key": point_key({"a": 2, "b": 1.0, "c": {"kind": "drum"}}), "trial": 0, "status": "ok",
           "tpot_ms": 4.0, "area_mm2": 5.0, "energy_per_token_mj": math.nan, "feasible": 0}
    t = trial_from_row(row, SYN)
    assert t.state.name == "FAIL" and t.params == {"a": 2, "b": 1.0, "c": 1}  # NaN objective: not complete
    t = trial_from_row({**row, "energy_per_token_mj": 1.5}, SYN)
    assert t.values == [4.0, 5.0, 1.5] and t.user_attrs["constraints"] == [1.0] and t.constraints == {"area_mm2 <= 4": 1.0}
    with pytest.raises(ValueError, match="'c': {'kind': 'booth'} is not one of its choices"):
        trial_from_row({**row, "key": point_key({"a": 2, "b": 1.0, "c": {"kind": "booth"}})}, SYN)


def test_fanova_finds_the_one_parameter_each_objective_depends_on(tmp_path):
    db = tmp_path / "syn.db"
    rows = _synthetic_store(db)
    assert len(rows) == 90
    mirror = StudyMirror(SYN, db, "syn")
    assert mirror.add(rows) == 90 and mirror.add(rows) == 0
    study = _study(db, "syn")
    assert [t.user_attrs["key"] for t in study.trials] == [r["key"] for r in rows]
    assert sum(t.state.name == "COMPLETE" for t in study.trials) == 89 and study.trials[7].state.name == "FAIL"
    assert study.trials[5].params == {"a": 1, "b": 1.0, "c": 2} and study.trials[5].values == [1.0, 1.0, 3.0]
    imp = analysis.param_importances(study, SYN)
    assert list(imp) == ["tpot_ms", "area_mm2", "energy_per_token_mj"] and list(imp["tpot_ms"]) == ["a", "b", "c"]
    assert imp["tpot_ms"]["a"] > 0.8 and imp["area_mm2"]["b"] > 0.8, imp
    assert imp["tpot_ms"]["c"] < 0.1 and imp["area_mm2"]["a"] < 0.1
    assert imp["energy_per_token_mj"] == {"a": 0.0, "b": 0.0, "c": 0.0}  # constant: nothing to explain
    for per in imp.values():
        assert sum(per.values()) == pytest.approx(1.0) or sum(per.values()) == 0.0
    assert analysis.param_importances(_study(db, "syn"), SYN) == imp  # seeded: the same every time
    assert analysis.param_importances(results_study(rows, SYN), SYN) == imp  # the mirror is the rows' study
    # the summary uses the study, or the rows when the study is missing or incomplete
    s = analysis.summarize(rows, SYN, None)
    assert s["importance"] == imp and "results table" in s["importance_note"]
    s = analysis.summarize(rows, SYN, study)
    assert s["importance"] == imp and s["importance_note"] == "the store's Optuna study"
    assert analysis.summarize(rows[:1], SYN)["importance"] is None
    with pytest.raises(ValueError, match="at least 2 complete trials; the study has 1"):
        analysis.param_importances(results_study(rows[:1], SYN), SYN)


def test_fanova_does_not_depend_on_the_order_points_were_mirrored_in(tmp_path):
    rng = np.random.default_rng(1)  # noisy objectives: the forest's bootstrap then depends on the order
    rows = [{**r, "tpot_ms": r["tpot_ms"] + rng.normal(0, 5), "area_mm2": r["area_mm2"] * rng.uniform(0.5, 2)}
            if r["status"] == "ok" else r for r in _synthetic_store(tmp_path / "syn.db")]
    shuffled = rows[1::2] + rows[::2]  # as workers finishing out of order would store them
    forward = analysis.param_importances(results_study(rows, SYN), SYN)
    assert analysis.param_importances(results_study(shuffled, SYN), SYN) == forward
