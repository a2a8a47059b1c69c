"""Can the die feed its D2D link? The die-side adapter width a link needs at the die's clock, and whether the
die's NoC can carry the link's bandwidth.

The D2D adapter takes ``adapter_bytes`` per cycle of the die-side clock ``die_clock_mhz`` in each direction,
so it keeps a link of ``B`` GB/s per direction (:attr:`D2DLinkConfig.bandwidth_gbps`, raw line rate:
1 GB/s = 1e9 bytes/s) busy when

    ratio = B / (die_clock_mhz x 1e6 x adapter_bytes / 1e9) = 1000 B / (die_clock_mhz x adapter_bytes) <= 1,

i.e. when ``adapter_bytes >= needed_adapter_bytes = ceil(1000 B / die_clock_mhz)``. The raw rate is used
(for an error-free link, ``ber = 0``, it equals the goodput; with retries the die only has to supply the
goodput, so the check is conservative).

The die's NoC (:class:`~hwsim.noc.config.NocConfig`) brings the payload to the PHY's router and takes it
away: one NoC channel moves a ``flit_bytes`` flit per NoC cycle, ``noc_bandwidth_gbps = flit_bytes x
freq_mhz / 1000`` GB/s per direction (the PHY node's local port; :func:`hwsim.parallel.die_noc_cycles`
sends one stream each way through it). When that is below ``links x B`` (``links``: the D2D links the PHY
node feeds at the same time) the link cannot run at its rate: it is NoC-bound, and the package moves at
most ``noc_bandwidth_gbps`` per direction through that PHY node.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from hwsim.chiplet.link import D2DLinkConfig, load_link
from hwsim.errors import ConfigError

__all__ = ["d2d_adapter_check", "package_adapter_check"]


def _positive_number(name: str, value: object) -> Fraction:
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value <= 0):
        raise ConfigError(f"{name}: must be a finite number > 0, got {value!r}")
    return Fraction(value)


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}: must be an integer >= 1, got {value!r}")
    return value


def d2d_adapter_check(link: D2DLinkConfig | str | dict, die_clock_mhz: float | None = None,
                      adapter_bytes: int | None = None, noc: Any = None, links: int = 1) -> dict:
    """Check that the die side can feed ``link`` (see the module docstring).

    ``link``: a :class:`D2DLinkConfig`, preset name or mapping (:func:`load_link`). ``die_clock_mhz``: the
    adapter's die-side clock (default: ``noc.freq_mhz``). ``adapter_bytes``: the adapter's die-side width
    per direction (default: ``noc.flit_bytes``, one NoC flit per cycle; without either only the needed
    width is reported). ``noc``: the die's :class:`~hwsim.noc.config.NocConfig`, or None. ``links``: D2D
    links fed through the NoC's PHY node at once.

    Returns ``link``, ``link_bandwidth_gbps``, ``die_clock_mhz``, ``needed_adapter_bytes``,
    ``adapter_bytes``, ``ratio`` (link bandwidth / adapter bandwidth; None without a width),
    ``adapter_ok``, ``noc_bandwidth_gbps``, ``noc_bound``, ``deliverable_gbps`` (what the die can move per
    direction and link: the link, the adapter and the NoC share, whichever is least) and ``warnings``.
    """
    from hwsim.noc.config import NocConfig

    cfg = load_link(link)
    if noc is not None and not isinstance(noc, NocConfig):
        raise ConfigError(f"noc: must be a NocConfig (hwsim.noc.config) or None, got {type(noc).__name__}")
    links = _positive_int("links", links)
    if die_clock_mhz is None:
        if noc is None:
            raise ConfigError("die_clock_mhz: required when no noc is given (the NoC clock is the default)")
        die_clock_mhz = noc.freq_mhz
    clock = _positive_number("die_clock_mhz", die_clock_mhz)
    if adapter_bytes is None and noc is not None:
        adapter_bytes = noc.flit_bytes
    if adapter_bytes is not None:
        adapter_bytes = _positive_int("adapter_bytes", adapter_bytes)

    bw = cfg.bandwidth_fraction_gbps  # GB/s per direction, exact
    needed = math.ceil(bw * 1000 / clock)
    warnings: list[str] = []
    ratio = None
    deliverable = bw
    if adapter_bytes is not None:
        adapter_gbps = clock * adapter_bytes / 1000
        ratio = bw / adapter_gbps
        deliverable = min(deliverable, adapter_gbps)
        if ratio > 1:
            warnings.append(f"D2D adapter: {adapter_bytes} bytes per cycle at {float(clock):g} MHz move "
                            f"{float(adapter_gbps):g} GB/s, below the {cfg.name} link's {float(bw):g} GB/s per "
                            f"direction; it needs >= {needed} bytes per cycle at this clock")
    noc_gbps = None
    noc_bound = False
    if noc is not None:
        noc_gbps = Fraction(noc.flit_bytes) * Fraction(noc.freq_mhz) / 1000
        share = noc_gbps / links
        deliverable = min(deliverable, share)
        if noc_gbps < links * bw:
            noc_bound = True
            flits_needed = math.ceil(links * bw * 1000 / Fraction(noc.freq_mhz))
            warnings.append(f"NoC-bound D2D link: noc.flit_bytes {noc.flit_bytes} at noc.freq_mhz {noc.freq_mhz:g} "
                            f"carries {float(noc_gbps):g} GB/s per direction, below the {float(links * bw):g} GB/s "
                            f"of {links} x {cfg.name}; the link runs at most {float(share):g} GB/s "
                            f"({float(share / bw):.1%} of its rate); flits of >= {flits_needed} bytes at this "
                            f"clock would carry it")
    return {"link": cfg.name, "link_bandwidth_gbps": float(bw), "die_clock_mhz": float(clock),
            "needed_adapter_bytes": needed, "adapter_bytes": adapter_bytes,
            "ratio": None if ratio is None else float(ratio), "adapter_ok": ratio is None or ratio <= 1,
            "noc_bandwidth_gbps": None if noc_gbps is None else float(noc_gbps), "links": links,
            "noc_bound": noc_bound, "deliverable_gbps": float(deliverable), "warnings": warnings}


def package_adapter_check(run: Any, adapter_bytes: int | None = None) -> dict:
    """:func:`d2d_adapter_check` for a run config (:class:`hwsim.system.RunConfig`) with a ``package``: the
    link every edge uses (``package.link`` with ``package.modules_per_edge`` modules, as the run builds
    it), the die's NoC (``package.noc``) and its clock, or the unit's clock (``unit.freq_mhz``) when the
    package has no NoC. One link per PHY node."""
    pk = getattr(run, "package", None)
    if pk is None:
        raise ConfigError("package: the run config has no package section (no D2D link to check)")
    link = pk.package_config(100.0).edge_link  # die area does not change the link
    clock = pk.noc.freq_mhz if pk.noc is not None else run.unit.freq_mhz
    return d2d_adapter_check(link, clock, adapter_bytes, pk.noc)
