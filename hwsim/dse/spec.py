"""Sweep specs: a base design + serving scenario, the parameters to vary, objectives, constraints and
the search strategy. Loaded from YAML; every problem is one line naming its path in the spec.

A parameter ``path`` is a dotted path into the system (``die.unit.rows``, ``dies``,
``die.memory.dram.overrides.stacks``; an optional ``system.`` prefix) or into the scenario
(``scenario.batch``, ``scenario.quant.scheme``, ``scenario.model``). ``[i]`` indexes a list and
``[*]`` means every element of it.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hwsim.errors import ConfigError, config_error_from

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: metrics of ServeResult.to_dict() a sweep may optimise or constrain, plus the area model's
METRICS = ("ttft_ms", "tpot_ms", "tokens_per_s", "decode_tokens_per_s", "energy_per_token_mj",
           "average_power_w", "utilization", "total_time_s", "area_mm2", "peak_flops",
           "peak_memory_bytes_per_s")


class Base(BaseModel):
    """The design every point starts from: a system (preset name or YAML path, relative to the spec)
    and a serving scenario (any :class:`hwsim.llm.serve.ServeConfig` field; ``quant`` may be a scheme
    name)."""

    model_config = _FROZEN
    system: str = Field(..., min_length=1, description="system preset name or YAML file")
    model: str = Field(..., min_length=1, description="model name or config.json path")
    batch: int = 1
    prompt: int = 512
    generate: int = 128
    quant: str | dict = "W16A16"
    scenario: dict[str, Any] = Field(default_factory=dict, description="other ServeConfig fields")

    def scenario_dict(self) -> dict[str, Any]:
        quant = {"scheme": self.quant} if isinstance(self.quant, str) else dict(self.quant)
        return {"model": self.model, "batch": self.batch, "prompt": self.prompt, "generate": self.generate,
                "quant": quant, **self.scenario}


class Range(BaseModel):
    """A numeric range: ``step`` (grid: low, low + step, ... <= high) or ``log`` (grid: low, 2 low, 4 low
    ... <= high; optuna/random: log-uniform). Integers stay integers when low, high and step are."""

    model_config = _FROZEN
    low: float
    high: float
    step: float | None = Field(None, gt=0)
    log: bool = False

    @model_validator(mode="after")
    def _order(self) -> "Range":
        if self.high < self.low:
            raise ValueError(f"high must be >= low ({self.low}), got {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"log ranges need low > 0, got {self.low}")
        if self.log and self.step is not None:
            raise ValueError("give step or log, not both")
        return self

    @property
    def integer(self) -> bool:
        vals = [self.low, self.high] + ([self.step] if self.step is not None else [])
        return all(float(v).is_integer() for v in vals)

    def grid(self) -> list:
        out = []
        if self.log:
            v = self.low
            while v <= self.high * (1 + 1e-12):
                out.append(v)
                v *= 2
        elif self.step is not None:
            n = int(math.floor((self.high - self.low) / self.step + 1e-9))
            out = [self.low + i * self.step for i in range(n + 1)]
        else:
            raise ValueError("a grid needs step or log")
        return [int(round(v)) for v in out] if self.integer else [float(v) for v in out]


class Parameter(BaseModel):
    """One swept parameter: ``path`` (or a list of paths all set to the same value, e.g. a square
    array's ``[die.unit.rows, die.unit.cols]``), ``choices`` or a ``range``."""

    model_config = _FROZEN
    path: str | list[str] = Field(..., min_length=1)
    name: str | None = Field(None, description="column name (default: the path, paths joined by '+')")
    choices: list[Any] | None = Field(None, min_length=1)
    range: Range | None = None

    @model_validator(mode="after")
    def _one(self) -> "Parameter":
        if (self.choices is None) == (self.range is None):
            raise ValueError("give exactly one of choices or range")
        return self

    @property
    def label(self) -> str:
        return self.name or "+".join(self.paths)

    @property
    def paths(self) -> list[str]:
        return [self.path] if isinstance(self.path, str) else list(self.path)

    def values(self) -> list:
        return list(self.choices) if self.choices is not None else self.range.grid()


class Objective(BaseModel):
    model_config = _FROZEN
    metric: str
    direction: Literal["minimize", "maximize"] = "minimize"


_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|<|>|==)\s*([-+0-9.eE]+)\s*$")


class Constraint(BaseModel):
    """``metric op value`` (``area_mm2 <= 400``); ``op`` is <=, >=, <, > or ==."""

    model_config = _FROZEN
    expr: str

    @model_validator(mode="after")
    def _parse(self) -> "Constraint":
        if not _CONSTRAINT.match(self.expr):
            raise ValueError(f"must read 'metric <=|>=|<|>|== number', got {self.expr!r}")
        return self

    @property
    def parts(self) -> tuple[str, str, float]:
        m = _CONSTRAINT.match(self.expr)
        return m.group(1), m.group(2), float(m.group(3))

    def violation(self, metrics: dict) -> float | None:
        """0 when satisfied, the amount by which it is violated otherwise (None: metric missing)."""
        metric, op, bound = self.parts
        v = metrics.get(metric)
        if v is None:
            return None
        if op in ("<=", "<"):
            return 0.0 if (v <= bound if op == "<=" else v < bound) else v - bound
        if op in (">=", ">"):
            return 0.0 if (v >= bound if op == ">=" else v > bound) else bound - v
        return abs(v - bound)


class Search(BaseModel):
    model_config = _FROZEN
    kind: Literal["grid", "random", "optuna"] = "grid"
    seed: int = Field(0, ge=0)
    budget: int | None = Field(None, ge=1, description="points to evaluate (random, optuna; grid: a cap)")
    sampler: Literal["nsga2", "tpe"] = "nsga2"


class SweepSpec(BaseModel):
    model_config = _FROZEN
    name: str | None = None
    base: Base
    parameters: list[Parameter] = Field(..., min_length=1)
    objectives: list[Objective] = Field(..., min_length=1)
    constraints: list[str] = Field(default_factory=list)
    search: Search = Field(default_factory=Search)

    @property
    def constraint_objs(self) -> list[Constraint]:
        return [Constraint(expr=c) for c in self.constraints]

    def grid_points(self) -> list[dict]:
        labels = [p.label for p in self.parameters]
        return [dict(zip(labels, combo)) for combo in itertools.product(*(p.values() for p in self.parameters))]


# --- path checking -------------------------------------------------------------------------------
_SEG = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``a.b[2].c[*]`` -> ['a', 'b', 2, 'c', '*']."""
    out: list[str | int] = []
    pos = 0
    for m in _SEG.finditer(path):
        if path[pos:m.start()] not in ("", "."):
            raise ValueError(f"cannot parse path {path!r}")
        pos = m.end()
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            out.append("*" if m.group(2) == "*" else int(m.group(2)))
    if pos != len(path) or not out:
        raise ValueError(f"cannot parse path {path!r}")
    return out


def _all_paths(obj: Any, prefix: str = "") -> list[str]:
    out = []
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            p = f"{prefix}.{name}" if prefix else name
            out.append(p)
            out += _all_paths(getattr(obj, name), p)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.append(p)
            out += _all_paths(v, p)
    return out


def check_path(root_obj: Any, segments: list, what: str, full: str) -> str | None:
    """None if the path exists in ``root_obj`` (a pydantic model tree, free-form dicts accept any key),
    else a message."""
    cur = root_obj
    done = ""
    for seg in segments:
        if seg == "*" or isinstance(seg, int):
            if not isinstance(cur, (list, tuple)):
                return f"{full!r}: {done or what} is not a list"
            if isinstance(seg, int) and seg >= len(cur):
                return f"{full!r}: {done} has {len(cur)} elements, no [{seg}]"
            cur = cur[0] if seg == "*" and cur else (cur[seg] if isinstance(seg, int) else None)
            done += f"[{seg}]"
            continue
        if isinstance(cur, BaseModel):
            if seg not in type(cur).model_fields:
                close = difflib.get_close_matches(full, _all_paths(root_obj), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]}?)" if close else ""
                return f"{full!r} is not a field of the {what}{hint}"
            cur = getattr(cur, seg)
        elif isinstance(cur, dict):
            cur = cur.get(seg)  # free-form mapping (e.g. DRAM overrides): any key
        elif cur is None:
            return None  # an optional section left out in the base: checked when a point is built
        else:
            return f"{full!r}: {done} is a {type(cur).__name__}, it has no field {seg!r}"
        done = f"{done}.{seg}" if done else seg
    return None


# --- loading -------------------------------------------------------------------------------------
def parse_spec(data: object, root: str = "") -> SweepSpec:
    if not isinstance(data, dict):
        raise ConfigError(f"{root or 'spec'}: expected a mapping (base, parameters, objectives, ...), "
                          f"got {type(data).__name__}")
    if isinstance(data.get("search"), str):
        data = {**data, "search": {"kind": data["search"]}}
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        raise config_error_from(err, root=root) from None


def load_spec(path: str | Path) -> tuple[SweepSpec, Path]:
    """Parse and check a sweep spec file: returns the spec and its folder (base paths are relative to it)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"sweep spec: {str(path)!r} is not a file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    spec = parse_spec(data)
    from hwsim.dse.space import Space

    Space(spec, path.parent).check()
    return spec, path.parent
