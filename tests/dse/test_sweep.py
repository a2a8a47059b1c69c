"""Running sweeps: grid/random/optuna, the store, exports, Dask, and resuming after kill -9."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hwsim.dse.run import run_sweep
from hwsim.dse.spec import load_spec
from hwsim.dse.store import Store, export
from hwsim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BASE = {"system": "chiplet4", "model": "llama-2-7b", "batch": 1, "prompt": 16, "generate": 2}


def write(tmp_path, name="s", **over):
    data = {"name": name, "base": BASE,
            "parameters": [{"path": "die.unit.rows", "choices": [32, 64]}, {"path": "dies", "choices": [2, 4]}],
            "objectives": [{"metric": "tpot_ms"}, {"metric": "area_mm2"}], "constraints": ["area_mm2 <= 1500"],
            **over}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_grid_in_process_store_and_exports(tmp_path):
    p = write(tmp_path)
    spec, folder = load_spec(p)
    s = run_sweep(spec, folder, tmp_path / "s.db", workers=0, progress=False)
    assert (s.total, s.evaluated, s.skipped, s.errors) == (4, 4, 0, 0)
    rows = Store(tmp_path / "s.db").rows()
    assert [(r["die.unit.rows"], r["dies"]) for r in rows] == [(32, 2), (32, 4), (64, 2), (64, 4)]
    for r in rows:
        assert r["status"] == "ok" and r["tpot_ms"] > 0 and r["config"] and r["wall_s"] > 0
        assert r["feasible"] == r["area_mm2 <= 1500"] == int(r["area_mm2"] <= 1500)
    assert rows[1]["tpot_ms"] < rows[0]["tpot_ms"]  # 4 dies decode faster than 2
    again = run_sweep(spec, folder, tmp_path / "s.db", workers=0, progress=False)
    assert (again.evaluated, again.skipped) == (0, 4)
    other = write(tmp_path, name="s2", constraints=["area_mm2 <= 100"])
    with pytest.raises(ConfigError, match="holds a different sweep"):
        run_sweep(load_spec(other)[0], folder, tmp_path / "s.db", workers=0, progress=False)
    assert export(tmp_path / "s.db", csv=tmp_path / "r.csv", parquet=tmp_path / "r.parquet") == 4
    import pyarrow.parquet as pq

    t = pq.read_table(tmp_path / "r.parquet")
    assert t.num_rows == 4 and "tpot_ms" in t.column_names and "die.unit.rows" in t.column_names
    assert (tmp_path / "r.csv").read_text().count("\n") == 5


def test_random_and_optuna(tmp_path):
    p = write(tmp_path, name="r", parameters=[{"path": "die.unit.rows", "range": {"low": 16, "high": 64, "step": 16}},
                                              {"path": "scenario.batch", "choices": [1, 2]}],
              search={"kind": "random", "seed": 3, "budget": 5})
    spec, folder = load_spec(p)
    s = run_sweep(spec, folder, tmp_path / "r.db", workers=0, progress=False)
    assert s.evaluated == 5 and len({r["key"] for r in Store(tmp_path / "r.db").rows()}) == 5
    p = write(tmp_path, name="o", search={"kind": "optuna", "sampler": "nsga2", "seed": 1, "budget": 4})
    spec, folder = load_spec(p)
    s = run_sweep(spec, folder, tmp_path / "o.db", workers=0, progress=False)
    assert s.evaluated == 4
    import optuna

    study = optuna.load_study(study_name="o", storage=f"sqlite:///{tmp_path / 'o.db'}")
    assert len(study.trials) == 4 and all(t.state.name == "COMPLETE" for t in study.trials)
    assert {r["trial"] for r in Store(tmp_path / "o.db").rows()} == {0, 1, 2, 3}
    s = run_sweep(spec, folder, tmp_path / "o.db", budget=6, workers=0, progress=False)  # budget raised
    assert s.evaluated == 2 and len(optuna.load_study(study_name="o", storage=f"sqlite:///{tmp_path / 'o.db'}").trials) == 6


def test_local_pool_and_dask_cluster_agree(tmp_path):
    p = write(tmp_path)
    spec, folder = load_spec(p)
    a = run_sweep(spec, folder, tmp_path / "a.db", workers=2, progress=False)
    b = run_sweep(spec, folder, tmp_path / "b.db", local_cluster=2, progress=False)
    assert (a.executor, b.executor) == ("LocalExecutor", "DaskExecutor")
    ra = {r["key"]: r["tpot_ms"] for r in Store(tmp_path / "a.db").rows()}
    rb = {r["key"]: r["tpot_ms"] for r in Store(tmp_path / "b.db").rows()}
    assert ra == rb and len(ra) == 4
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        c = run_sweep(spec, folder, tmp_path / "c.db", scheduler=cluster.scheduler_address, progress=False)
    assert c.executor == "DaskExecutor" and {r["key"]: r["tpot_ms"] for r in Store(tmp_path / "c.db").rows()} == ra


def _count(db):
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _kill_9_after_3_points(cmd: list[str], db) -> None:
    """Start ``cmd`` (a sweep storing into ``db``) and SIGKILL its process group once 3 points are stored."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    while _count(db) < 3 and time.time() - t0 < 60 and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_kill_9_and_resume(tmp_path):
    """A real `hwsim sweep` process is killed with SIGKILL after a few points are stored; the same
    command resumes: every grid point stored exactly once, the finished ones not recomputed."""
    p = write(tmp_path, name="k", parameters=[{"path": "die.unit.rows", "choices": [16, 24, 32, 40, 48, 56]},
                                              {"path": "die.unit.cols", "choices": [32, 48]}])
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "hwsim", "sweep", str(p), "--workers", "1", "--json"]
    _kill_9_after_3_points(cmd, db)
    before = {r["key"]: r for r in Store(db).rows()}
    assert 3 <= len(before) < 12, len(before)
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import json

    summary = json.loads(out.stdout)["summary"]
    rows = Store(db).rows()
    assert len(rows) == 12 and len({r["key"] for r in rows}) == 12
    assert sorted(r["trial"] for r in rows) == list(range(12))
    assert summary["skipped"] == len(before) and summary["evaluated"] == 12 - len(before)
    after = {r["key"]: r for r in rows}
    for k, r in before.items():  # not recomputed: same run, same finish time
        assert (after[k]["run"], after[k]["finished_at"]) == (1, r["finished_at"])
    assert {r["run"] for k, r in after.items() if k not in before} == {2}
    import optuna  # the grid is mirrored into an Optuna study: each stored point once, kill or not

    trials = optuna.load_study(study_name="k", storage=f"sqlite:///{db}").trials
    assert sorted(t.user_attrs["key"] for t in trials) == sorted(after)
    assert all(t.values == [after[t.user_attrs["key"]]["tpot_ms"], after[t.user_attrs["key"]]["area_mm2"]]
               for t in trials)
    analysis = json.loads(out.stdout)["analysis"]
    assert set(analysis["importance"]) == {"tpot_ms", "area_mm2"}


def test_optuna_kill_9_and_resume(tmp_path):
    """The same for an Optuna search: after the restart the study holds exactly `budget` finished
    trials, each stored once, and the trials stored before the kill are untouched."""
    p = write(tmp_path, name="ok", parameters=[{"path": "die.unit.rows", "range": {"low": 16, "high": 128, "step": 8}},
                                               {"path": "die.unit.cols", "choices": [32, 48, 64]}],
              search={"kind": "optuna", "sampler": "tpe", "seed": 2, "budget": 10})
    db = tmp_path / "ok.db"
    cmd = [sys.executable, "-m", "hwsim", "sweep", str(p), "--workers", "1", "--json"]
    _kill_9_after_3_points(cmd, db)
    before = {r["trial"]: r for r in Store(db).rows()}
    assert 3 <= len(before) < 10, len(before)
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = Store(db).rows()
    import optuna

    study = optuna.load_study(study_name="ok", storage=f"sqlite:///{db}")
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 10 and not [t for t in study.trials if t.state.name == "RUNNING"]
    assert sorted(r["trial"] for r in rows) == sorted(t.number for t in done)
    for t in done:  # the study's values are the stored ones
        r = next(r for r in rows if r["trial"] == t.number)
        assert t.values == [r["tpot_ms"], r["area_mm2"]]
    after = {r["trial"]: r for r in rows}
    for k, r in before.items():
        assert (after[k]["run"], after[k]["finished_at"]) == (1, r["finished_at"])
