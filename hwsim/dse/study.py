"""Every sweep kind has an Optuna study: grid and random sweeps are *mirrored* into one.

An Optuna search keeps its own study (``hwsim.dse.run.OptunaSource``). A grid or random sweep adds
one finished trial per stored point to a study in the same SQLite file (Optuna RDB storage,
``sqlite:///<store>``), so Optuna's tools (importance, plots, ``study.best_trials``) work on every
store. The study's name is recorded in the store's ``meta`` table (``optuna_study``).

A mirrored trial is built from the point's row of the ``results`` table:

* ``params`` / ``distributions``: one per spec parameter — ``CategoricalDistribution(choices)`` for
  scalar choices (mappings or lists as choices: the index into ``choices``, as the Optuna search
  suggests them), ``IntDistribution`` / ``FloatDistribution(low, high, step, log)`` for ranges;
* ``values``: the objectives in spec order (units of the metrics: ms, mJ, mm², ...);
* ``user_attrs``: ``key`` (the results table's point key: what makes mirroring idempotent),
  ``trial`` (the point's number in the sweep), ``feasible``, ``constraints`` (per constraint: the
  amount it is violated by, -1.0 when met, 1e30 when its metric is missing — the Optuna search's
  convention); the same values also as Optuna's own trial constraints (≤ 0 feasible), so
  ``study.best_trials`` is the feasible Pareto front;
* a point that failed (``status = error``) or lacks an objective value is mirrored as a ``FAIL``
  trial (its params, ``user_attrs['error']``), as the Optuna search tells such trials: the study
  holds one trial per stored point, the ``COMPLETE`` ones being the successful points.

When: the study is brought up to date from the results table whenever the store is analysed
(:func:`load_stored_study` with the rows: ``hwsim sweep --json``, ``hwsim report``), not while the
sweep runs (a mirrored trial costs ~10-30 ms of SQLAlchemy work, as much as evaluating a point).
Idempotent: each trial is added in one transaction with its ``key``, and only rows whose key the
study does not hold yet are added — so a point is never mirrored twice, whatever was killed when.
"""

from __future__ import annotations

import json
import math
import sqlite3
import warnings
from pathlib import Path
from typing import Any

from hwsim.dse.spec import Parameter, SweepSpec

STUDY_META = "optuna_study"


def _quiet_optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _scalar_choices(par: Parameter) -> bool:
    return all(isinstance(c, (str, int, float, bool)) or c is None for c in par.choices)


def distribution(par: Parameter):
    """The Optuna distribution of one spec parameter (the one the Optuna search suggests from)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if par.choices is not None:
        return CategoricalDistribution(list(par.choices) if _scalar_choices(par) else list(range(len(par.choices))))
    r = par.range
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna lowers a high that is not low + k x step, with a warning
        if r.integer:
            return IntDistribution(int(r.low), int(r.high), log=r.log, step=int(r.step or 1))
        return FloatDistribution(r.low, r.high, log=r.log, step=r.step)


def distributions(spec: SweepSpec) -> dict[str, Any]:
    return {p.label: distribution(p) for p in spec.parameters}


def param_value(par: Parameter, value: Any) -> Any:
    """A point's value as the study's parameter value (non-scalar choices: their index)."""
    if par.choices is not None and not _scalar_choices(par):
        want = json.dumps(value, sort_keys=True, default=str)
        for i, c in enumerate(par.choices):
            if json.dumps(c, sort_keys=True, default=str) == want:
                return i
        raise ValueError(f"parameter {par.label!r}: {value!r} is not one of its choices")
    if par.range is not None and not par.range.integer:
        return min(max(float(value), par.range.low), par.range.high)  # a log grid may overshoot by 1 ulp
    return value


def row_point(row: dict, spec: SweepSpec) -> dict:
    """The point of a results row: its key (grid, random) or, for an Optuna search's ``trial N`` key,
    its parameter columns (JSON text for non-scalar choices)."""
    if not row["key"].startswith("trial "):
        return json.loads(row["key"])
    return {p.label: row[p.label] if p.choices is None or _scalar_choices(p) else json.loads(row[p.label])
            for p in spec.parameters}


def objective_values(row: dict, spec: SweepSpec) -> list[float] | None:
    """The row's objectives in spec order, or None if the point failed or one is missing / not finite."""
    if row.get("status") != "ok":
        return None
    vals = [row.get(o.metric) for o in spec.objectives]
    if any(v is None or not math.isfinite(v) for v in vals):
        return None
    return [float(v) for v in vals]


def trial_from_row(row: dict, spec: SweepSpec, dists: dict | None = None):
    """The FrozenTrial mirroring one row of the results table (module docstring)."""
    optuna = _quiet_optuna()
    from hwsim.dse.run import constraint_values

    dists = dists or distributions(spec)
    point = row_point(row, spec)
    params = {p.label: param_value(p, point[p.label]) for p in spec.parameters}
    attrs = {"key": row["key"], "trial": row["trial"], "feasible": bool(row.get("feasible"))}
    values = objective_values(row, spec)
    if values is None:
        attrs["error"] = row.get("error") or "an objective value is missing"
        return optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params=params, distributions=dists,
                                         user_attrs=attrs)
    cons = constraint_values(spec, row)
    attrs["constraints"] = cons
    return optuna.trial.create_trial(values=values, params=params, distributions=dists, user_attrs=attrs,
                                     constraints=dict(zip(spec.constraints, cons)) or None)


def default_study_name(spec: SweepSpec, store_path: str | Path) -> str:
    return spec.name or Path(store_path).stem


def create_study(spec: SweepSpec, storage: str | None, study_name: str | None):
    """An empty (or, in a storage, the existing) study with the spec's objective directions."""
    optuna = _quiet_optuna()
    return optuna.create_study(storage=storage, study_name=study_name, load_if_exists=storage is not None,
                               directions=[o.direction for o in spec.objectives])


class StudyMirror:
    """Adds the stored points of a grid or random sweep to the store's Optuna study, each once."""

    def __init__(self, spec: SweepSpec, store_path: str | Path, study_name: str):
        self.spec = spec
        self.study = create_study(spec, f"sqlite:///{store_path}", study_name)
        self.dists = distributions(spec)
        self.keys = {t.user_attrs.get("key") for t in self.study.get_trials(deepcopy=False)}

    def add(self, rows: list[dict]) -> int:
        """Mirror the rows whose key the study does not hold yet; returns how many were added."""
        new = [r for r in rows if r["key"] not in self.keys]
        for r in new:
            self.study.add_trial(trial_from_row(r, self.spec, self.dists))  # one transaction per trial
            self.keys.add(r["key"])
        return len(new)


def stored_study_name(store_path: str | Path) -> str | None:
    """The study name recorded in a store's meta table (None: none recorded)."""
    with sqlite3.connect(str(store_path), timeout=60) as db:
        row = db.execute("SELECT v FROM meta WHERE k = ?", (STUDY_META,)).fetchone()
    return row[0] if row else None


def load_stored_study(store_path: str | Path, spec: SweepSpec, rows: list[dict] | None = None):
    """The store's Optuna study (mirrored or searched), or None when the store has none — checked
    with plain SQLite first, as opening the RDB storage would create Optuna's tables. The name is the
    one recorded in ``meta`` (stores written before it was recorded: the default name). With
    ``rows`` (the results table) a grid or random sweep's study is first brought up to date with
    them (:class:`StudyMirror`)."""
    if not Path(store_path).is_file():
        raise FileNotFoundError(f"{store_path}: no such sweep store")
    name = stored_study_name(store_path) or default_study_name(spec, store_path)
    if rows is not None and spec.search.kind != "optuna":
        mirror = StudyMirror(spec, store_path, name)
        mirror.add(rows)
        return mirror.study
    with sqlite3.connect(str(store_path), timeout=60) as db:
        has = db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='studies'").fetchone()
        if not has or not db.execute("SELECT 1 FROM studies WHERE study_name = ?", (name,)).fetchone():
            return None
    optuna = _quiet_optuna()
    return optuna.load_study(study_name=name, storage=f"sqlite:///{store_path}")


def results_study(rows: list[dict], spec: SweepSpec):
    """An in-memory study of the rows, trial for trial what mirroring them gives."""
    study = create_study(spec, None, None)
    dists = distributions(spec)
    study.add_trials([trial_from_row(r, spec, dists) for r in rows])
    return study
