"""Running a sweep: a point source (grid, random or Optuna ask/tell), an executor (local process pool
or Dask distributed — one interface, one loop) and the store.

The loop keeps ``2 x workers`` tasks in flight (a task: up to ``chunk`` points sharing a die): it submits points, waits for any to finish, stores
each result at once, tells Optuna, and submits more. Points already in the store are skipped, so
re-running the same command after a kill resumes the sweep. Grid and random sweeps are mirrored
into an Optuna study in the store (:mod:`hwsim.dse.study`) when they are analysed (``hwsim sweep
--json``, ``hwsim report``), not in the loop: a mirrored trial costs ~10-30 ms of SQLAlchemy work, as
much as evaluating a point.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from hwsim.dse.space import Space, evaluate_many
from hwsim.dse.spec import SweepSpec
from hwsim.dse.store import Store, point_key
from hwsim.dse.study import STUDY_META, default_study_name


# --- executors -----------------------------------------------------------------------------------
class Executor:
    """submit(fn, *args) -> future; wait_any(futures) -> the finished ones; close()."""

    workers: int = 1

    def submit(self, fn, *args):  # pragma: no cover - interface
        raise NotImplementedError

    def wait_any(self, futures) -> set:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class SerialExecutor(Executor):
    """Runs each point in the calling process when it is submitted (baseline, debugging)."""

    def submit(self, fn, *args):
        f = cf.Future()
        try:
            f.set_result(fn(*args))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            f.set_exception(err)
        return f

    def wait_any(self, futures):
        return set(futures)


class LocalExecutor(Executor):
    """A concurrent.futures process pool."""

    def __init__(self, workers: int = 2):
        import multiprocessing as mp

        self.workers = workers
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver"))

    def submit(self, fn, *args):
        return self.pool.submit(fn, *args)

    def wait_any(self, futures):
        done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
        return done

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask distributed client: an existing scheduler (``tcp://host:port``) or a LocalCluster of
    ``local_cluster`` worker processes (one thread each)."""

    def __init__(self, scheduler: str | None = None, local_cluster: int | None = None):
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            self.cluster = LocalCluster(n_workers=local_cluster or 2, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or (local_cluster or 1))

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, futures):
        from distributed import wait

        return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int = 2, scheduler: str | None = None, local_cluster: int | None = None) -> Executor:
    if scheduler or local_cluster:
        return DaskExecutor(scheduler, local_cluster)
    if workers <= 0:
        return SerialExecutor()
    return LocalExecutor(workers)


# --- point sources -------------------------------------------------------------------------------
class GridSource:
    """Every combination of the parameter values (in order), or the first ``budget`` of them."""

    def __init__(self, spec: SweepSpec, done: set[str], budget: int | None):
        pts = spec.grid_points()
        self.points = pts[:budget] if budget else pts
        self.todo = [(i, p) for i, p in enumerate(self.points) if point_key(p) not in done]
        self.total = len(self.points)

    def group(self, space: Space) -> None:
        """Order the points to do so that points sharing a die are consecutive (stable)."""
        keys = {i: space.die_key(p) for i, p in self.todo}
        first: dict[str, int] = {}
        for i, _ in self.todo:
            first.setdefault(keys[i], i)
        self.keys = keys
        self.todo.sort(key=lambda ip: first[keys[ip[0]]])

    def next(self):
        return self.todo.pop(0) if self.todo else None

    def next_batch(self, n: int) -> list:
        """Up to ``n`` consecutive points sharing a die."""
        batch = []
        keys = getattr(self, "keys", None)
        while self.todo and len(batch) < n:
            if batch and (keys is None or keys[self.todo[0][0]] != keys[batch[0][0]]):
                break
            batch.append(self.todo.pop(0))
        return batch

    def tell(self, trial, point, result, row) -> None:
        pass

    def key(self, trial: int, point: dict) -> str:
        return point_key(point)


def _sample(par, rng: random.Random):
    if par.choices is not None:
        return par.choices[rng.randrange(len(par.choices))]
    r = par.range
    if r.step is not None:
        return rng.choice(r.grid())
    if r.log:
        import math

        v = math.exp(rng.uniform(math.log(r.low), math.log(r.high)))
    else:
        v = rng.uniform(r.low, r.high)
    return int(round(v)) if r.integer else v


class RandomSource(GridSource):
    """``budget`` distinct points drawn with ``random.Random(seed)`` (the same list on every run)."""

    def __init__(self, spec: SweepSpec, done: set[str], budget: int):
        rng = random.Random(spec.search.seed)
        seen, pts = set(), []
        for _ in range(100 * budget):
            if len(pts) == budget:
                break
            p = {par.label: _sample(par, rng) for par in spec.parameters}
            k = point_key(p)
            if k not in seen:
                seen.add(k)
                pts.append(p)
        self.points = pts
        self.todo = [(i, p) for i, p in enumerate(pts) if point_key(p) not in done]
        self.total = len(pts)


def constraint_values(spec: SweepSpec, metrics: dict) -> list[float]:
    out = []
    for c in spec.constraint_objs:
        v = c.violation(metrics)
        out.append(1e30 if v is None else (v if v > 0 else -1.0 if v == 0 else v))
    return out


def _constraints_func(trial) -> list[float]:
    return trial.user_attrs.get("constraints", [])


class OptunaSource:
    """Optuna ask/tell on an RDB study in the store file (study = the sweep's name)."""

    def __init__(self, spec: SweepSpec, store: Store, budget: int, study_name: str):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.spec = spec
        cons = _constraints_func if spec.constraints else None
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # constraints_func: deprecated in Optuna 5
            if spec.search.sampler == "nsga2":
                sampler = optuna.samplers.NSGAIISampler(seed=spec.search.seed, constraints_func=cons)
            else:
                sampler = optuna.samplers.TPESampler(seed=spec.search.seed, constraints_func=cons)
        self.study = optuna.create_study(
            storage=f"sqlite:///{store.path}", study_name=study_name, load_if_exists=True, sampler=sampler,
            directions=[o.direction for o in spec.objectives])
        self.total = budget
        self.finished = 0
        self.pending: dict[int, Any] = {}
        stored = store.trials()
        self.resume: list[tuple[int, dict]] = []
        TS = optuna.trial.TrialState
        for t in self.study.get_trials(deepcopy=False, states=(TS.RUNNING, TS.WAITING)):
            point = json.loads(t.user_attrs.get("point", "null") or "null")
            if point is None:
                self.study.tell(t.number, state=TS.FAIL)
                continue
            self.pending[t.number] = t
            if t.number in stored:  # stored before the kill, not told: tell it now
                self.tell(t.number, point, None, stored[t.number])
            else:
                self.resume.append((t.number, point))
        self.finished = sum(1 for t in self.study.get_trials(deepcopy=False, states=(TS.COMPLETE, TS.FAIL)))
        self.asked = 0

    def key(self, trial: int, point: dict) -> str:
        return f"trial {trial}"

    def _suggest(self, trial) -> dict:
        point = {}
        for par in self.spec.parameters:
            if par.choices is not None:
                if all(isinstance(c, (str, int, float, bool)) or c is None for c in par.choices):
                    point[par.label] = trial.suggest_categorical(par.label, list(par.choices))
                else:
                    point[par.label] = par.choices[trial.suggest_categorical(par.label, list(range(len(par.choices))))]
            else:
                r = par.range
                if r.integer:
                    point[par.label] = trial.suggest_int(par.label, int(r.low), int(r.high),
                                                         step=int(r.step or 1), log=r.log)
                else:
                    point[par.label] = trial.suggest_float(par.label, r.low, r.high, step=r.step, log=r.log)
        return point

    def next_batch(self, n: int) -> list:
        nxt = self.next()
        return [] if nxt is None else [nxt]

    def next(self):
        if self.resume:
            return self.resume.pop(0)
        if self.finished + len(self.pending) >= self.total:
            return None
        t = self.study.ask()
        point = self._suggest(t)
        t.set_user_attr("point", json.dumps(point, sort_keys=True, default=str))
        self.pending[t.number] = t
        return t.number, point

    def tell(self, trial: int, point: dict, result: dict | None, row: dict) -> None:
        TS = self.optuna.trial.TrialState
        self.pending.pop(trial, None)
        self.finished += 1
        if row["status"] != "ok":
            self.study.tell(trial, state=TS.FAIL)
            return
        metrics = {m: row.get(m) for m in (o.metric for o in self.spec.objectives)}
        if any(v is None for v in metrics.values()):
            self.study.tell(trial, state=TS.FAIL)
            return
        if self.spec.constraints:
            self.study._storage.set_trial_user_attr(
                self.study._storage.get_trial_id_from_study_id_trial_number(self.study._study_id, trial),
                "constraints", constraint_values(self.spec, row))
        self.study.tell(trial, [metrics[o.metric] for o in self.spec.objectives])


# --- the loop ------------------------------------------------------------------------------------
@dataclass
class SweepSummary:
    store: str
    total: int
    evaluated: int
    skipped: int
    errors: int
    wall_s: float
    run: int
    workers: int
    executor: str
    rows: list[dict] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        return {"store": self.store, "total": self.total, "evaluated": self.evaluated, "skipped": self.skipped,
                "errors": self.errors, "wall_s": self.wall_s, "run": self.run, "workers": self.workers,
                "executor": self.executor,
                "points_per_min": self.evaluated / self.wall_s * 60 if self.wall_s > 0 else None}


def default_store(spec_path: str | Path) -> Path:
    p = Path(spec_path)
    return p.with_suffix(".db")


def run_sweep(spec: SweepSpec, folder: str | Path, store_path: str | Path, *, budget: int | None = None,
              workers: int = 2, scheduler: str | None = None, local_cluster: int | None = None,
              executor: Executor | None = None, progress: bool = True, study_name: str | None = None,
              chunk: int = 16) -> SweepSummary:
    """Run (or resume) a sweep; returns counts and wall time. ``workers=0``: in the calling process.

    Grid and random points are sent in tasks of up to ``chunk`` points sharing a die (the mapper's
    tiling search for that die then runs once, in one worker); Optuna trials one at a time."""
    t0 = time.perf_counter()
    store = Store(store_path, spec)
    run = store.new_run()
    done = store.keys()
    budget = budget or spec.search.budget
    kind = spec.search.kind
    study_name = study_name or default_study_name(spec, store_path)
    store.set_meta(STUDY_META, study_name)
    if kind == "grid":
        source = GridSource(spec, done, budget)
    elif kind == "random":
        source = RandomSource(spec, done, budget)
    else:
        source = OptunaSource(spec, store, budget, study_name)
    skipped = len(done)
    if kind != "optuna" and chunk > 1:
        source.group(Space(spec, folder))
    own = executor is None
    ex = executor or make_executor(workers, scheduler, local_cluster)
    spec_json = spec.model_dump_json()
    folder = str(Path(folder).resolve())
    window = max(2, 2 * ex.workers)
    pending: dict[Any, tuple[int, dict]] = {}
    evaluated = errors = 0
    bar = None
    try:
        if progress:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True))
            bar.start()
            task = bar.add_task("sweep", total=source.total, completed=min(skipped, source.total))
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                batch = source.next_batch(chunk)
                if not batch:
                    exhausted = True
                    break
                pending[ex.submit(evaluate_many, spec_json, folder, [p for _, p in batch])] = batch
            if not pending:
                break
            for fut in ex.wait_any(pending):
                batch = pending.pop(fut)
                try:
                    results = fut.result()
                except Exception as err:  # noqa: BLE001 - a worker crash is recorded, the sweep goes on
                    results = [{"status": "error", "metrics": {}, "error": f"{type(err).__name__}: {err}",
                                "config": None, "wall_s": None}] * len(batch)
                for (trial, point), result in zip(batch, results):
                    row = store.add(trial, point, result, run, key=source.key(trial, point))
                    source.tell(trial, point, result, row)
                    evaluated += 1
                    errors += result["status"] != "ok"
                    if bar is not None:
                        bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
        if own:
            ex.close()
    summary = SweepSummary(store=str(store_path), total=source.total, evaluated=evaluated, skipped=skipped,
                           errors=errors, wall_s=time.perf_counter() - t0, run=run, workers=ex.workers,
                           executor=type(ex).__name__)
    store.close()
    return summary
