"""The design space: a point (parameter values) applied to the base system and scenario, the area
model, and the evaluation of one point (``evaluate``, a plain function a worker process runs).

**Area model** (``area_mm2``, whole package, mm², at the system's technology table): the die
roll-up of :func:`hwsim.mapping.area.system_area` (units, shared SRAM, vector unit and NoC routers
placed at the node's utilisation, plus the D2D and host memory PHYs) times the dies, plus a switch
die if any. ``area_mm2`` is split into ``units_mm2``, ``sram_mm2``, ``vector_mm2``, ``noc_mm2``,
``placement_mm2`` (the utilisation's gaps), ``d2d_phy_mm2`` and ``memory_phy_mm2``; ``die_mm2`` is one
die. An approximate multiplier's area is the table's multiplier area x its synthesised transistor
count over the exact one's (:func:`hwsim.power.unit_area`).

**Coupled fields** when a point changes them: ``dies`` sets ``package.dies`` too (one die drops the
package; a mesh topology is re-shaped to the most square rows x cols of the new die count; a base
without a package gets a ring of UCIe-advanced links); ``die.memory.dram.overrides.stacks`` sets
``package.hbm_stacks_per_die`` (reported only). A non-exact ``die.unit.pe.multiplier`` is handed
to the serving scenario's ``multiplier`` (as ``hwsim llm --multiplier`` does: its int8 GEMMs are
priced with the design's energy, float GEMMs stay exact) and the unit keeps its exact multiplier.
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

from hwsim.dse.spec import SweepSpec, check_path, split_path
from hwsim.errors import ConfigError, HwsimError

SCENARIO_PREFIX = "scenario."


def _set(obj: Any, segments: list, value: Any, where: str) -> None:
    seg, rest = segments[0], segments[1:]
    if seg == "*":
        if not isinstance(obj, list):
            raise ConfigError(f"{where}: not a list")
        targets = range(len(obj))
    else:
        targets = [seg]
    for key in targets:
        if not rest:
            obj[key] = copy.deepcopy(value)
            continue
        if isinstance(obj, dict) and obj.get(key) is None:
            obj[key] = {}
        _set(obj[key], rest, value, where)


def _mesh_shape(dies: int) -> tuple[int, int]:
    rows = int(math.isqrt(dies))
    while dies % rows:
        rows -= 1
    return rows, dies // rows


def target(path: str) -> tuple[str, list]:
    """('system' | 'scenario', segments) of a parameter path."""
    if path.startswith(SCENARIO_PREFIX):
        return "scenario", split_path(path[len(SCENARIO_PREFIX):])
    if path.startswith("system."):
        path = path[len("system."):]
    return "system", split_path(path)


class Space:
    """A sweep spec bound to its folder: builds and checks design points."""

    def __init__(self, spec: SweepSpec, folder: str | Path = "."):
        from hwsim.mapping import load_system

        self.spec = spec
        self.folder = Path(folder)
        sysref = spec.base.system
        p = self.folder / sysref
        self.base_system = load_system(p if p.is_file() else sysref)
        self.system_dict = self.base_system.model_dump(mode="json")
        self.scenario_dict = spec.base.scenario_dict()
        model = self.scenario_dict["model"]
        mp = self.folder / model
        if mp.is_file():
            self.scenario_dict["model"] = str(mp.resolve())

    # --- checks ------------------------------------------------------------------------------------
    def check(self) -> None:
        """Every parameter path exists; every choice builds a valid point on its own."""
        from hwsim.llm.serve import ServeConfig

        problems = []
        for i, par in enumerate(self.spec.parameters):
            bad = False
            for path in par.paths:
                try:
                    kind, segs = target(path)
                except ValueError as err:
                    problems.append(f"parameters[{i}].path: {err}")
                    bad = True
                    continue
                if kind == "system":
                    msg = check_path(self.base_system, segs, "system", path.removeprefix("system."))
                else:
                    sc = {k: v for k, v in self.scenario_dict.items() if k != "model"}
                    try:
                        base_cfg = ServeConfig.model_validate(sc)
                    except Exception as err:  # noqa: BLE001 - reported as a base problem
                        base_cfg = None
                        problems.append(f"base: {err}")
                    msg = None
                    if segs and segs[0] != "model" and base_cfg is not None:
                        msg = check_path(base_cfg, segs, "scenario", path[len(SCENARIO_PREFIX):])
                if msg:
                    problems.append(f"parameters[{i}].path: {msg}")
                    bad = True
            if bad:
                continue
            labels = [p.label for p in self.spec.parameters]
            if labels.count(par.label) > 1:
                problems.append(f"parameters[{i}].name: {par.label!r} is used by another parameter")
            for j, v in enumerate(par.values()):
                try:
                    self.build({par.label: v}, only=[par])
                except HwsimError as err:
                    problems += [f"parameters[{i}].choices[{j}] = {v!r}: {line}" for line in err.problems]
        from hwsim.dse.spec import METRICS

        for i, o in enumerate(self.spec.objectives):
            if o.metric not in METRICS:
                problems.append(f"objectives[{i}].metric: {o.metric!r} is not a metric; allowed: {', '.join(METRICS)}")
        for i, c in enumerate(self.spec.constraint_objs):
            if c.parts[0] not in METRICS:
                problems.append(f"constraints[{i}]: {c.parts[0]!r} is not a metric; allowed: {', '.join(METRICS)}")
        if self.spec.search.kind in ("random", "optuna") and self.spec.search.budget is None:
            problems.append(f"search.budget: required for {self.spec.search.kind} search")
        if problems:
            raise ConfigError(problems)

    # --- building ----------------------------------------------------------------------------------
    def resolved(self, point: dict, only=None) -> dict:
        """The full config of a point as plain data: {'system': ..., 'scenario': ...}."""
        system = copy.deepcopy(self.system_dict)
        scenario = copy.deepcopy(self.scenario_dict)
        for par in only or self.spec.parameters:
            if par.label not in point:
                continue
            for path in par.paths:
                kind, segs = target(path)
                _set(system if kind == "system" else scenario, segs, point[par.label], path)
        self._couple(system, scenario)
        return {"system": system, "scenario": scenario}

    def _couple(self, system: dict, scenario: dict) -> None:
        dies = system.get("dies", 1)
        pkg = system.get("package")
        if not isinstance(dies, int) or isinstance(dies, bool) or dies < 1:
            pass  # left to the system's validation, which names the bad value
        elif dies == 1:
            system["package"] = None
        else:
            if pkg is None:
                pkg = {"dies": dies, "topology": "ring", "link": "ucie-advanced"}
            pkg["dies"] = dies
            topo = pkg.get("topology")
            if isinstance(topo, dict) and topo.get("kind") == "mesh" and topo.get("rows", 0) * topo.get("cols", 0) != dies:
                topo["rows"], topo["cols"] = _mesh_shape(dies)
            system["package"] = pkg
        stacks = (system.get("die", {}).get("memory", {}).get("dram", {}).get("overrides", {}) or {}).get("stacks")
        if stacks is not None and system.get("package"):
            system["package"]["hbm_stacks_per_die"] = stacks
        pe = system["die"]["unit"]["pe"]
        mult = pe.get("multiplier") or {"kind": "exact"}
        if mult.get("kind", "exact") != "exact":
            scenario.setdefault("multiplier", mult)
            pe["multiplier"] = {"kind": "exact", "params": {}}

    def die_key(self, point: dict) -> str:
        """The point's die as the mapper's search sees it (the system without its die count, package and
        PE multiplier design, which changes energy only) as JSON: points with equal keys share the
        mapper's work, so they are sent to a worker together."""
        system = copy.deepcopy(self.resolved(point)["system"])
        pe = system.get("die", {}).get("unit", {}).get("pe", {})
        if isinstance(pe, dict):
            pe.pop("multiplier", None)
        return json.dumps({k: v for k, v in system.items() if k not in ("dies", "package")}, sort_keys=True,
                          default=str)

    def build(self, point: dict, only=None, resolved: dict | None = None):
        """(SystemSpec, model name/path, ServeConfig) of a point; ConfigError naming the problem."""
        from pydantic import ValidationError

        from hwsim.errors import config_error_from
        from hwsim.llm.serve import ServeConfig
        from hwsim.mapping.system import SystemSpec

        r = resolved if resolved is not None else self.resolved(point, only)
        system, scenario = r["system"], dict(r["scenario"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sysm = SystemSpec.model_validate(system)
        except ValidationError as err:
            raise config_error_from(err, root="system") from None
        model = scenario.pop("model")
        try:
            cfg = ServeConfig.model_validate(scenario)
        except ValidationError as err:
            raise config_error_from(err, root="scenario") from None
        return sysm, model, cfg


# --- area ----------------------------------------------------------------------------------------
AREA_PARTS = {"units_mm2": "units: ", "sram_mm2": "shared SRAM", "vector_mm2": "vector unit",
              "noc_mm2": "NoC routers", "placement_mm2": "placement overhead", "d2d_phy_mm2": "D2D PHYs",
              "memory_phy_mm2": "memory PHYs", "switch_mm2": "switch die"}


def area_metrics(area: dict) -> dict[str, float]:
    """The package area (:func:`hwsim.mapping.area.system_area`) as flat metrics: ``area_mm2``,
    ``die_mm2`` and the parts of :data:`AREA_PARTS` (they add up to ``area_mm2``)."""
    comps = area["components_mm2"]
    out = {"area_mm2": area["total_mm2"], "die_mm2": area["dies"][0]["die_mm2"]}
    for key, prefix in AREA_PARTS.items():
        out[key] = sum(v for k, v in comps.items() if k.startswith(prefix))
    return out


def system_area(sysm) -> dict[str, float]:
    """:func:`area_metrics` of the system's package area (the module docstring's model)."""
    from hwsim.mapping.area import system_area as package_system_area

    return area_metrics(package_system_area(sysm))


# --- evaluation (runs in workers) ------------------------------------------------------------------
_SPACES: dict[str, Space] = {}


def evaluate(spec_json: str, folder: str, point: dict) -> dict:
    """Evaluate one point: ``{'status': 'ok'|'error', 'metrics', 'error', 'config', 'wall_s'}``.
    The space is built once per worker process (keyed by the spec)."""
    from hwsim.llm.serve import serve

    t0 = time.perf_counter()
    key = spec_json + "\0" + folder
    space = _SPACES.get(key)
    if space is None:
        from hwsim.dse.spec import SweepSpec

        space = _SPACES[key] = Space(SweepSpec.model_validate_json(spec_json), folder)
    config = space.resolved(point)
    try:
        sysm, model, cfg = space.build(point, resolved=config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = serve(model, sysm, cfg).to_dict()
        metrics = {k: v for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        metrics.update(area_metrics(d["area"]))
        out = {"status": "ok", "metrics": metrics, "error": None}
    except HwsimError as err:
        out = {"status": "error", "metrics": {}, "error": "; ".join(err.problems)}
    except Exception as err:  # a model failure must not stop the sweep: recorded with the point
        out = {"status": "error", "metrics": {}, "error": f"{type(err).__name__}: {err}"}
    out["config"] = json.dumps(config, sort_keys=True, default=str)
    out["wall_s"] = time.perf_counter() - t0
    return out


def evaluate_many(spec_json: str, folder: str, points: list[dict]) -> list[dict]:
    """:func:`evaluate` for several points in one task (points sharing a die: one mapping search)."""
    return [evaluate(spec_json, folder, p) for p in points]
