"""One entry point for both faces of a collective: :func:`run_collective` -> :class:`CollectiveResult`.

Reported figures follow NCCL's tests (github.com/NVIDIA/nccl-tests, doc/PERFORMANCE.md):
``algbw = n / t`` and ``busbw = algbw x factor`` with factor ``2(p-1)/p`` for all-reduce, ``(p-1)/p`` for
reduce-scatter, all-gather and all-to-all, and 1 for broadcast. Bandwidths are GB/s (1e9 bytes/s).
Energy is the bits the links carry (bytes x hops x 8, retry overhead included) x the link's pJ/bit; the
switch die's internal energy is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from hwsim.chiplet.collective import Plan, get_algorithm, get_collective
from hwsim.chiplet.package import Package, PackageConfig
from hwsim.chiplet.sim import RETRY_MODES, execute
from hwsim.core import Tracer
from hwsim.errors import ConfigError

__all__ = ["CollectiveResult", "FACES", "run_collective"]

FACES = ("cost", "sim")
DEFAULT_CHUNK_BYTES = 64 * 1024


@dataclass
class CollectiveResult:
    """The time, bandwidths and energy of one collective on one package, from one face."""

    collective: str
    algo: str
    face: str
    ranks: int
    nbytes: int
    topology: str
    link: str
    time_ps: float
    formula: str
    alpha_ps: float
    hop_bytes: float
    wire_bits: float
    energy_pj_per_bit: float
    busbw_factor: float
    link_bandwidth_gbps: float
    effective_bandwidth_gbps: float
    link_latency_ns: float
    goodput_factor: float
    chunk_bytes: int
    cost_time_ps: float
    flit_errors: int = 0
    max_link_utilisation: float | None = None
    values_checked: bool = False
    problems: list[str] = field(default_factory=list)
    terms: dict[str, Any] = field(default_factory=dict)

    @property
    def time_us(self) -> float:
        return self.time_ps / 1e6

    @property
    def algbw_gbps(self) -> float:
        """NCCL algorithm bandwidth n / t, GB/s."""
        return self.nbytes * 1000.0 / self.time_ps if self.time_ps else float("inf")

    @property
    def busbw_gbps(self) -> float:
        """NCCL bus bandwidth algbw x factor, GB/s."""
        return self.algbw_gbps * self.busbw_factor

    @property
    def energy_uj(self) -> float:
        """Link energy, µJ: wire bits x pJ/bit / 1e6."""
        return self.wire_bits * self.energy_pj_per_bit / 1e6

    def to_dict(self) -> dict[str, Any]:
        d = {"collective": self.collective, "algo": self.algo, "face": self.face, "ranks": self.ranks,
             "bytes": self.nbytes, "topology": self.topology, "link": self.link, "time_us": self.time_us,
             "algbw_gbps": self.algbw_gbps, "busbw_gbps": self.busbw_gbps, "energy_uj": self.energy_uj,
             "link_bandwidth_gbps": self.link_bandwidth_gbps, "effective_bandwidth_gbps": self.effective_bandwidth_gbps,
             "link_latency_ns": self.link_latency_ns, "goodput_factor": self.goodput_factor,
             "alpha_ns": self.alpha_ps / 1000, "formula": self.formula, "cost_time_us": self.cost_time_ps / 1e6,
             "d2d_bytes": self.hop_bytes, "d2d_bits": self.wire_bits, "busbw_factor": self.busbw_factor,
             "chunk_bytes": self.chunk_bytes, "flit_errors": self.flit_errors}
        if self.max_link_utilisation is not None:
            d["max_link_utilisation"] = self.max_link_utilisation
        if self.values_checked:
            d["values_ok"] = not self.problems
        return d


def run_collective(collective: str, package: PackageConfig | Package, nbytes: int, algo: str | None = None,
                   face: str = "cost", chunk_bytes: int = DEFAULT_CHUNK_BYTES, root: int = 0,
                   retry: str = "expected", seed: int = 0, check_values: bool = False, elem_bytes: int = 8,
                   tracer: Tracer | None = None) -> CollectiveResult:
    """Time, bandwidth and energy of ``collective`` (``allreduce``, ``reduce-scatter``, ``all-gather``,
    ``broadcast``, ``all-to-all``) of ``nbytes`` on ``package`` with ``face`` ``cost`` (alpha-beta closed
    form) or ``sim`` (discrete-event simulation; ``check_values`` also moves real int64 data and checks
    every rank's result)."""
    coll = get_collective(collective)
    algorithm = get_algorithm(collective, algo)
    pkg = package.build() if isinstance(package, PackageConfig) else package
    problems = []
    if face not in FACES:
        problems.append(f"face: must be one of {', '.join(FACES)}, got {face!r}")
    if isinstance(nbytes, bool) or not isinstance(nbytes, int | np.integer) or nbytes < 1:
        problems.append(f"bytes: must be an integer >= 1, got {nbytes!r}")
    if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, int | np.integer) or chunk_bytes < 1:
        problems.append(f"chunk_bytes: must be an integer >= 1, got {chunk_bytes!r}")
    if isinstance(root, bool) or not isinstance(root, int | np.integer) or not 0 <= root < pkg.ranks:
        problems.append(f"root: must be a rank in [0, {pkg.ranks}), got {root!r}")
    if retry not in RETRY_MODES:
        problems.append(f"retry: must be one of {', '.join(RETRY_MODES)}, got {retry!r}")
    if check_values and face != "sim":
        problems.append("check_values: values are moved by the simulated face; use face='sim'")
    if check_values and isinstance(nbytes, int) and nbytes % elem_bytes:
        problems.append(f"bytes: must be a multiple of {elem_bytes} (int64 elements) to check values, got {nbytes}")
    if problems:
        raise ConfigError(problems)
    nbytes, chunk_bytes, root = int(nbytes), int(chunk_bytes), int(root)
    plan = Plan(pkg, nbytes, chunk_bytes, elem_bytes if check_values else 1, root)
    algorithm.check(plan)
    cost = algorithm.cost(plan)
    link = pkg.link
    g = link.goodput_factor
    common = dict(collective=coll.name, algo=algorithm.name, ranks=pkg.ranks, nbytes=nbytes,
                  topology=pkg.topology.kind, link=link.name, formula=cost.formula, alpha_ps=float(cost.alpha_ps),
                  energy_pj_per_bit=link.energy_pj_per_bit, busbw_factor=coll.busbw_factor(pkg.ranks),
                  link_bandwidth_gbps=link.bandwidth_gbps, effective_bandwidth_gbps=link.effective_bandwidth_gbps,
                  link_latency_ns=link.latency_ns, goodput_factor=g, chunk_bytes=chunk_bytes,
                  cost_time_ps=float(cost.time_ps), terms={k: (float(v) if isinstance(v, Fraction) else v)
                                                           for k, v in cost.terms.items()})
    if face == "cost":
        return CollectiveResult(face="cost", time_ps=float(cost.time_ps), hop_bytes=float(cost.hop_bytes),
                                wire_bits=float(8 * cost.hop_bytes / Fraction(g)), **common)
    transfers = algorithm.transfers(plan)
    before = after = None
    if check_values:
        before = coll.init_values(plan, np.random.default_rng(seed))
        after = {k: [a.copy() for a in v] for k, v in before.items()}
    run = execute(plan, transfers, after, retry=retry, seed=seed, tracer=tracer)
    res = CollectiveResult(face="sim", time_ps=float(run.time_ps), hop_bytes=float(run.hop_bytes),
                           wire_bits=run.wire_bits, flit_errors=run.flit_errors,
                           max_link_utilisation=run.max_link_utilisation, **common)
    res.terms["time_ps_exact"] = run.time_ps
    if check_values:
        res.values_checked = True
        res.problems = coll.check(plan, before, after)
    return res
