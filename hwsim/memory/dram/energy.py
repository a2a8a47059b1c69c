"""DRAM energy: action counts (from either face) priced by the config's energy per action.

Nothing here models behaviour: every term is a count from the stats times a price from
``cfg.energy`` (sources and derivations in ``hwsim/memory/data/dram_presets.yaml``):

* ``act_pre``: ``activates`` x ``act_pre_pj`` (one ACT with its precharge, explicit or automatic);
* ``read`` / ``write``: ``bytes_read`` / ``bytes_written`` x 8 x ``read_pj_per_bit`` / ``write_pj_per_bit``;
* ``refresh``: ``refreshes`` (REF commands, one per pseudo channel) x ``refresh_pj``;
* ``background``: ``background_mw`` x pseudo channels x ``duration_ps`` (standby power for the whole run).

Not included: power-down and self-refresh states (the device is always in active standby), VPP
supply currents, and, for DDR4/LPDDR5, I/O termination power (board-dependent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from hwsim.core import Stats
from hwsim.errors import ConfigError
from hwsim.memory.dram.config import DramConfig


@dataclass
class DramEnergyBreakdown:
    """Energy by component (pJ) and the bits moved, for one run of ``duration_ps``."""

    components: dict[str, float]
    bits: int
    duration_ps: int
    notes: list[str] = field(default_factory=list)

    @property
    def total_pj(self) -> float:
        return math.fsum(self.components.values())

    @property
    def pj_per_bit(self) -> float:
        """Total energy per bit read or written, pJ/bit (nan when nothing was moved)."""
        return self.total_pj / self.bits if self.bits else float("nan")

    @property
    def average_power_w(self) -> float:
        return self.total_pj * 1e-12 / (self.duration_ps * 1e-12) if self.duration_ps else float("nan")

    def to_dict(self) -> dict:
        return {"components_pj": dict(self.components), "total_pj": self.total_pj, "bits": self.bits,
                "pj_per_bit": self.pj_per_bit, "duration_ps": self.duration_ps}


def _count(stats: Stats | Mapping[str, float], key: str) -> float:
    try:
        return stats[key]
    except KeyError:
        raise ConfigError(f"stats: missing counter {key!r} (need activates, refreshes, bytes_read, "
                          f"bytes_written)") from None


def energy(cfg: DramConfig, stats: Stats | Mapping[str, float], duration_ps: int | float) -> DramEnergyBreakdown:
    """Energy of a run: ``stats`` from :class:`DramSystem.stats` or :func:`dram_cost` (``.stats``),
    ``duration_ps`` the time the memory was powered (background power accrues over it)."""
    if isinstance(duration_ps, bool) or not isinstance(duration_ps, (int, float)) or not duration_ps >= 0 \
            or not math.isfinite(duration_ps):
        raise ConfigError(f"duration_ps: must be a finite time >= 0 in ps, got {duration_ps!r}")
    e = cfg.energy
    rd = _count(stats, "bytes_read") * 8
    wr = _count(stats, "bytes_written") * 8
    comps = {
        "act_pre": _count(stats, "activates") * e.act_pre_pj,
        "read": rd * e.read_pj_per_bit,
        "write": wr * e.write_pj_per_bit,
        "refresh": _count(stats, "refreshes") * e.refresh_pj,
        "background": e.background_mw * 1e-3 * cfg.total_pseudo_channels * duration_ps,  # mW x ps = 1e-3 pJ... see below
    }
    # mW x ps: 1 mW = 1e-3 J/s = 1e-3 * 1e12 pJ / 1e12 ps = 1e-3 pJ/ps
    return DramEnergyBreakdown(comps, int(rd + wr), int(duration_ps))
