"""The result store: one SQLite file per sweep.

* ``results``: one row per evaluated point — ``trial`` (the point's number in the search), ``key``
  (the point as canonical JSON, unique: a point is stored once; Optuna searches use ``trial N``, as
  a sampler may propose a point twice), ``run`` (which invocation of the
  sweep evaluated it), ``status`` (ok / error) and ``error``, one column per parameter (JSON text for
  non-scalar values), one per metric, one per constraint (1 pass / 0 fail), ``feasible``, ``config``
  (the full resolved system + scenario as JSON), ``wall_s`` (evaluation time in the worker) and
  ``finished_at`` (Unix time).
* ``meta``: the spec (JSON) and the run counter.
* with ``search: optuna``, Optuna's own RDB tables in the same file (``sqlite:///<store>``), one study
  named after the sweep.

Every row is committed as soon as its point finishes (WAL journal), so a killed sweep loses only the
points that were running.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from hwsim.dse.spec import METRICS, SweepSpec


def point_key(point: dict) -> str:
    return json.dumps(point, sort_keys=True, default=str)


def _comparable(spec: SweepSpec) -> dict:
    """The spec without its budget (a re-run may raise the budget and continue)."""
    d = spec.model_dump(mode="json")
    d["search"].pop("budget", None)
    return d


def _cell(v: Any) -> Any:
    if v is None or isinstance(v, (int, float, str)):
        return v
    return json.dumps(v, sort_keys=True)


class Store:
    def __init__(self, path: str | Path, spec: SweepSpec | None = None):
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self.db.commit()
        stored = self.meta("spec")
        if spec is None:
            if stored is None:
                raise FileNotFoundError(f"{self.path}: not a sweep store (no spec recorded)")
            spec = SweepSpec.model_validate_json(stored)
        elif stored is not None:
            old = SweepSpec.model_validate_json(stored)
            if _comparable(old) != _comparable(spec):
                from hwsim.errors import ConfigError

                self.db.close()
                raise ConfigError(f"store {self.path}: holds a different sweep (base, parameters, objectives, "
                                  f"constraints or search changed); give another --store or delete it")
        self.spec = spec
        self.params = [p.label for p in spec.parameters]
        self.constraints = list(spec.constraints)
        cols = ["trial INTEGER", "key TEXT UNIQUE", "run INTEGER", "status TEXT", "error TEXT"]
        cols += [f'"{p}"' for p in self.params]
        cols += [f'"{m}" REAL' for m in METRICS]
        cols += [f'"{c}" INTEGER' for c in self.constraints]
        cols += ["feasible INTEGER", "config TEXT", "wall_s REAL", "finished_at REAL"]
        self.db.execute(f"CREATE TABLE IF NOT EXISTS results ({', '.join(cols)})")
        if stored is None:
            self.set_meta("spec", spec.model_dump_json())
        self.db.commit()

    def meta(self, k: str) -> str | None:
        row = self.db.execute("SELECT v FROM meta WHERE k = ?", (k,)).fetchone()
        return row[0] if row else None

    def set_meta(self, k: str, v: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, v))
        self.db.commit()

    def new_run(self) -> int:
        run = int(self.meta("runs") or 0) + 1
        self.set_meta("runs", str(run))
        return run

    def keys(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT key FROM results")}

    def trials(self) -> dict[int, dict]:
        return {r["trial"]: r for r in self.rows()}

    def add(self, trial: int, point: dict, result: dict, run: int, key: str | None = None) -> dict:
        metrics = result.get("metrics") or {}
        passes = []
        for c in self.spec.constraint_objs:
            v = c.violation(metrics)
            passes.append(None if v is None else int(v == 0))
        feasible = int(result["status"] == "ok" and all(p == 1 for p in passes))
        values = [trial, key or point_key(point), run, result["status"], result.get("error")]
        values += [_cell(point.get(p)) for p in self.params]
        values += [metrics.get(m) for m in METRICS]
        values += passes
        values += [feasible, result.get("config"), result.get("wall_s"), time.time()]
        marks = ", ".join("?" * len(values))
        self.db.execute(f"INSERT OR IGNORE INTO results VALUES ({marks})", values)
        self.db.commit()
        return dict(zip(self.columns(), values))

    def columns(self) -> list[str]:
        return [r[1] for r in self.db.execute("PRAGMA table_info(results)")]

    def rows(self) -> list[dict]:
        cols = self.columns()
        return [dict(zip(cols, r)) for r in self.db.execute("SELECT * FROM results ORDER BY trial")]

    def close(self) -> None:
        self.db.close()


def export(store_path: str | Path, csv: str | Path | None = None, parquet: str | Path | None = None) -> int:
    """Write the results table as CSV and/or Parquet; returns the row count."""
    store = Store(store_path)
    try:
        rows = store.rows()
        cols = store.columns()
    finally:
        store.close()
    if csv is not None:
        import csv as _csv

        with open(csv, "w", newline="") as fh:
            w = _csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
    if parquet is not None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.null()) for c in cols})
        pq.write_table(table, str(parquet))
    return len(rows)
