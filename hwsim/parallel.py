"""Tensor parallelism: one GEMM split over the dies of a package, and the collective it needs.

A layer C[m,n] = A[m,k] . B[k,n] with ``split``:

* ``column``: die ``d`` computes C[:, n_d] = A . B[:, n_d] (N split as evenly as it goes, the first
  dies taking the extra column); the outputs stay sharded (as in a Megatron column-parallel layer
  feeding a row-parallel one). No communication.
* ``column_gather``: as ``column``, then an all-gather of C (``m x n`` words of the *input* format:
  the next layer's operand).
* ``row``: die ``d`` computes the partial product A[:, k_d] . B[k_d, :]; an all-reduce of the partial
  sums (``m x n`` words of the *accumulator* format) leaves every die with C.
* ``none``: die 0 computes the whole GEMM; the others idle.

The layer's time is the slowest die's cycles plus the collective's time (no overlap of compute and
communication); energy is every die's energy plus the D2D link energy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsim.chiplet.collective import split as even_split
from hwsim.systolic.config import SystolicConfig

SPLITS = ("column", "column_gather", "row", "none")


@dataclass(frozen=True)
class Shard:
    """The part of a GEMM that one die computes: rows of A all, columns ``n0:n1`` of B, slice ``k0:k1``."""

    die: int
    m: int
    n0: int
    n1: int
    k0: int
    k1: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.m, self.n1 - self.n0, self.k1 - self.k0


def shards(m: int, n: int, k: int, split: str, dies: int) -> list[Shard]:
    """The non-empty shards of the GEMM over ``dies`` dies (dies with nothing to do are left out)."""
    if split not in SPLITS:
        raise ValueError(f"split: must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "none":
        return [Shard(0, m, 0, n, 0, k)]
    if split == "row":
        return [Shard(d, m, 0, n, a, b) for d, (a, b) in enumerate(even_split(0, k, dies)) if b > a]
    return [Shard(d, m, a, b, 0, k) for d, (a, b) in enumerate(even_split(0, n, dies)) if b > a]


def collective_of(m: int, n: int, split: str, unit: SystolicConfig) -> tuple[str, int] | None:
    """(collective name, bytes: NCCL's size S) the split needs after the dies compute, or None."""
    if split == "column_gather":
        return "all-gather", math.ceil(m * n * unit.pe.in_fmt.bits / 8)
    if split == "row":
        return "allreduce", math.ceil(m * n * unit.pe.acc_fmt.bits / 8)
    return None


def assemble(unit: SystolicConfig, parts: list[tuple[Shard, np.ndarray]], m: int, n: int, split: str) -> np.ndarray:
    """C of the whole layer from the dies' outputs (what the package holds after the collective):
    column splits concatenate; a row split sums the partial results in the accumulator format."""
    if split == "row":  # the all-reduce adds in die order at accumulator precision
        total = parts[0][1]
        for _, c in parts[1:]:
            total = unit.pe.finish(unit.pe.accumulate(total, c))
        return total
    out = np.zeros((m, n), dtype=parts[0][1].dtype)
    for sh, c in parts:
        out[:, sh.n0 : sh.n1] = c
    return out


def die_noc_cycles(noc, unit_node: int, phy_node: int, nbytes: int, packet_bytes: int, face: str = "cost") -> dict:
    """The on-die leg of a die's D2D traffic: ``nbytes`` sent from the compute tile (``unit_node``) to the
    D2D PHY (``phy_node``) and ``nbytes`` received the other way, in packets of ``packet_bytes``, over the
    die's NoC (``noc``: a :class:`~hwsim.noc.config.NocConfig`), all offered at once.

    Returns ``drain_cycles`` (NoC cycles until the last flit of both streams has arrived: the CL face's
    trace run, or the cost face's closed form ``H (R + L) + R + F - 1 + 1`` for F flits per direction,
    which the CL face reproduces exactly for one stream per direction) and ``leg_cycles`` (zero-load
    latency of one packet, the far end's leg)."""
    from hwsim.noc.cost import zero_load_latency
    from hwsim.noc.sweep import run_trace
    from hwsim.noc.topology import Topology

    if nbytes <= 0:
        return {"drain_cycles": 0, "leg_cycles": 0, "packets": 0}
    packets = math.ceil(nbytes / packet_bytes)
    sizes = [packet_bytes] * (packets - 1) + [nbytes - packet_bytes * (packets - 1)]
    hops = int(Topology.of(noc).hops(np.array([unit_node]), np.array([phy_node]))[0])
    leg = int(zero_load_latency(noc, hops, math.ceil(packet_bytes / noc.flit_bytes)))
    if face == "cl":
        recs = [(0, unit_node, phy_node, s) for s in sizes] + [(0, phy_node, unit_node, s) for s in sizes]
        drain = run_trace(noc, recs, face="cl").cycles
    else:
        flits = sum(math.ceil(s / noc.flit_bytes) for s in sizes)
        drain = int(zero_load_latency(noc, hops, flits)) + 1
    return {"drain_cycles": drain, "leg_cycles": leg, "packets": 2 * packets, "hops": hops}
