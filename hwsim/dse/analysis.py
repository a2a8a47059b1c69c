"""Analysis of a sweep's results: Pareto front, sensitivity, fANOVA importance, best design per constraint.

* **Pareto front** (:func:`pareto_mask`): a point is on the front if no other point is at least as
  good in every objective and strictly better in one (minimised and maximised objectives mixed:
  maximised ones are negated). Only feasible points (status ok, every constraint met) take part.
* **Sensitivity** (:func:`sensitivity`): for each objective and parameter, the *spread of the
  per-value means* — group the feasible... (all successful) points by the parameter's value, take the
  objective's mean in each group, and report ``(max mean - min mean) / |overall mean|``. Unitless;
  0 = the objective does not depend on the parameter (on average over the others). It is a main-effect
  measure like a one-way ANOVA's (fANOVA importance below is the other view).
* **fANOVA importance** (:func:`param_importances`): for each objective, Optuna's fANOVA
  (``FanovaImportanceEvaluator(seed=0)``, a 64-tree random forest fitted to the objective over the
  study's complete trials, i.e. every successful point; then the fraction of the forest's variance
  each parameter explains on its own). Unitless, normalised to sum to 1 per objective; unlike the
  spread of means it is relative (which parameters matter most), not a size of effect.
* **Best per constraint** (:func:`best_designs`): for each objective, the best point meeting all
  constraints, and the best meeting each constraint on its own.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np

from hwsim.dse.spec import SweepSpec


def pareto_mask(values, directions) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n x k); ``directions`` per column
    'minimize' or 'maximize'. Duplicates of a front point are all on the front."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return np.zeros(len(v), dtype=bool)
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    v = v * sign
    n = len(v)
    order = np.lexsort(v.T[::-1])  # sort by first objective, then the next ...
    mask = np.zeros(n, dtype=bool)
    front = np.empty((0, v.shape[1]))
    for i in order:
        p = v[i]
        if front.size:
            dominated = np.any(np.all(front <= p, axis=1) & np.any(front < p, axis=1))
            if dominated:
                continue
        mask[i] = True
        front = np.vstack([front, p])
    return mask


def _ok(rows, spec: SweepSpec, feasible=True):
    objs = [o.metric for o in spec.objectives]
    return [r for r in rows if r["status"] == "ok" and (not feasible or r["feasible"])
            and all(r.get(m) is not None for m in objs)]


def pareto_front(rows: list[dict], spec: SweepSpec) -> list[dict]:
    """The feasible rows on the Pareto front of the spec's objectives, sorted by the first objective."""
    ok = _ok(rows, spec)
    if not ok:
        return []
    vals = [[r[o.metric] for o in spec.objectives] for r in ok]
    mask = pareto_mask(vals, [o.direction for o in spec.objectives])
    front = [r for r, m in zip(ok, mask) if m]
    o0 = spec.objectives[0]
    return sorted(front, key=lambda r: r[o0.metric] * (1 if o0.direction == "minimize" else -1))


def sensitivity(rows: list[dict], spec: SweepSpec) -> dict[str, dict[str, float]]:
    """objective -> parameter -> spread of the per-value means / |overall mean| (successful points)."""
    ok = _ok(rows, spec, feasible=False)
    out: dict[str, dict[str, float]] = {}
    for o in spec.objectives:
        overall = np.mean([r[o.metric] for r in ok]) if ok else float("nan")
        out[o.metric] = {}
        for p in spec.parameters:
            groups = defaultdict(list)
            for r in ok:
                groups[json.dumps(r.get(p.label), sort_keys=True, default=str)].append(r[o.metric])
            means = [float(np.mean(g)) for g in groups.values()]
            spread = (max(means) - min(means)) if len(means) > 1 else 0.0
            out[o.metric][p.label] = float(spread / abs(overall)) if overall and math.isfinite(overall) else float("nan")
    return out


IMPORTANCE_METHOD = "Optuna fANOVA (FanovaImportanceEvaluator, seed 0), normalised to 1 per objective"


def param_importances(study, spec: SweepSpec, seed: int = 0) -> dict[str, dict[str, float]]:
    """objective -> parameter (spec order) -> fANOVA importance (unitless, sums to 1 per objective)
    over the study's complete trials, taken in sweep order (``user_attrs['trial']``, else the trial
    number) so that the result does not depend on the order points were mirrored in;
    ``study.trials[i].values`` must be the objectives in spec order.
    An objective that is the same at every point gets 0 for every parameter. ValueError when the
    study has fewer than 2 complete trials (nothing to fit)."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    from hwsim.dse.study import create_study

    labels = [p.label for p in spec.parameters]
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(done) < 2:
        raise ValueError(f"fANOVA importance needs at least 2 complete trials; the study has {len(done)}")
    if len(study.directions) != len(spec.objectives):
        raise ValueError(f"the study has {len(study.directions)} objectives, the spec {len(spec.objectives)}")
    # the forest's bootstrap depends on the trials' order, and a sweep mirrors points in the order its
    # workers finish them: fit on the trials in sweep order (an in-memory copy, also faster than RDB)
    done = sorted(done, key=lambda t: (t.user_attrs.get("trial", t.number), t.number))
    study = create_study(spec, None, None)
    study.add_trials(done)
    out = {}
    for i, o in enumerate(spec.objectives):
        if len({t.values[i] for t in done}) == 1:
            out[o.metric] = {p: 0.0 for p in labels}
            continue
        imp = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed), params=labels,
                                    target=lambda t, i=i: t.values[i])
        out[o.metric] = {p: float(imp[p]) for p in labels}
    return out


def best_designs(rows: list[dict], spec: SweepSpec) -> dict[str, dict]:
    """objective -> {'all constraints': row, '<constraint>': row, ...} (None when nothing qualifies).
    Ties on the objective go to the design best on the other objectives, in spec order (so the pick
    is on the Pareto front), then to the earlier point."""
    ok = _ok(rows, spec, feasible=False)
    sign = {o.metric: 1.0 if o.direction == "minimize" else -1.0 for o in spec.objectives}
    out = {}
    for o in spec.objectives:
        order = [o.metric] + [x.metric for x in spec.objectives if x.metric != o.metric]
        key = lambda r, order=order: tuple(sign[m] * r[m] for m in order) + (r["trial"],)  # noqa: E731
        entry = {}
        cand = [r for r in ok if r["feasible"]]
        entry["all constraints"] = min(cand, key=key) if cand else None
        for c in spec.constraints:
            cand = [r for r in ok if r.get(c) == 1]
            entry[c] = min(cand, key=key) if cand else None
        out[o.metric] = entry
    return out


def importances_or_note(rows: list[dict], spec: SweepSpec, study=None) -> tuple[dict | None, str]:
    """(:func:`param_importances` or None, where it comes from or why there is none). ``study``: the
    store's study; when it is missing or does not hold one complete trial per successful point (a
    killed sweep not resumed yet), an in-memory study of the rows is used instead."""
    from hwsim.dse.study import objective_values, results_study

    n_ok = sum(objective_values(r, spec) is not None for r in rows)
    source = "the store's Optuna study"
    if study is None or len(study.get_trials(deepcopy=False, states=(_complete(),))) != n_ok:
        study, source = results_study(rows, spec), "the results table (the store's Optuna study is missing or incomplete)"
    try:
        return param_importances(study, spec), source
    except ValueError as err:
        return None, str(err)


def _complete():
    import optuna

    return optuna.trial.TrialState.COMPLETE


def summarize(rows: list[dict], spec: SweepSpec, study=None, importance: bool = True) -> dict:
    """Front, sensitivity, fANOVA importance and best designs as plain data (parameters + objectives
    of each row); ``study``: the store's Optuna study (see :func:`importances_or_note`);
    ``importance=False`` skips fANOVA (seconds for a few hundred points)."""
    keep = [p.label for p in spec.parameters] + [o.metric for o in spec.objectives] + ["area_mm2", "trial"]

    def slim(r):
        return None if r is None else {k: r.get(k) for k in dict.fromkeys(keep)}

    imp, note = importances_or_note(rows, spec, study) if importance else (None, "not requested")
    return {"points": len(rows), "ok": sum(r["status"] == "ok" for r in rows),
            "feasible": sum(bool(r["feasible"]) for r in rows),
            "pareto_front": [slim(r) for r in pareto_front(rows, spec)],
            "sensitivity": sensitivity(rows, spec),
            "sensitivity_method": "spread of per-value means / |overall mean|",
            "importance": imp, "importance_method": IMPORTANCE_METHOD, "importance_note": note,
            "best": {m: {c: slim(r) for c, r in e.items()} for m, e in best_designs(rows, spec).items()}}
