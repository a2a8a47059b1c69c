"""What ``hwsim collective ...`` does, kept out of ``hwsim/cli.py``: parse the flags, build the package, run
one face, and name every problem by the flag the user typed."""

from __future__ import annotations

import re
from typing import Any

from hwsim.chiplet.collective import COLLECTIVES, get_algorithm
from hwsim.chiplet.link import D2DLinkConfig, load_link
from hwsim.chiplet.package import TOPOLOGY_KINDS, PackageConfig
from hwsim.chiplet.run import FACES, CollectiveResult, run_collective
from hwsim.chiplet.sim import RETRY_MODES
from hwsim.errors import ConfigError

__all__ = ["collective_from_flags", "parse_bytes", "parse_link_settings"]

_SUFFIX = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
           "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30}


def parse_bytes(text: str | int, flag: str = "--bytes") -> int:
    """``1048576``, ``64KiB``, ``1MiB``, ``2GB`` -> bytes (K/M/G are powers of 10, Ki/Mi/Gi of 2)."""
    if isinstance(text, int):
        value = text
    else:
        m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _SUFFIX:
            raise ConfigError(f"{flag}: must be a whole number of bytes, optionally with a suffix K, M, G (1e3..) "
                              f"or KiB, MiB, GiB (2^10..), got {text!r}")
        value = int(m.group(1)) * _SUFFIX[m.group(2).lower()]
    if value < 1:
        raise ConfigError(f"{flag}: must be at least 1 byte, got {text!r}")
    return value


def parse_link_settings(items: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` strings (``--link-set``) -> overrides of :class:`D2DLinkConfig` fields."""
    fields = D2DLinkConfig.model_fields
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            problems.append(f"--link-set: must be FIELD=VALUE, got {item!r}")
        elif key not in fields:
            problems.append(f"--link-set: unknown link field {key!r}; fields: {', '.join(fields)}")
        else:
            out[key] = value.strip()
    if problems:
        raise ConfigError(problems)
    return out


_FLAG_OF = {
    "bytes": "--bytes", "chunk_bytes": "--chunk-bytes", "root": "--root", "face": "--face", "retry": "--retry",
    "algo": "--algo", "ranks": "--ranks", "topology": "--topology", "mesh_rows": "--mesh-rows",
    "package.modules_per_edge": "--modules", "package.topology.latency_ns": "--switch-latency-ns",
    "package.topology.area_mm2": "--switch-area-mm2", "package.dies[0].area_mm2": "--die-area-mm2",
    "package.link": "--link", "link": "--link",
}


def _flagged(problems: list[str], ber_flag: bool = False) -> list[str]:
    out = []
    for line in problems:
        path, _, rest = line.partition(": ")
        if path in ("link.ber", "package.link.ber") and ber_flag:
            out.append(f"--ber: {rest}")
        elif path in _FLAG_OF:
            out.append(f"{_FLAG_OF[path]}: {rest}")
        elif path.startswith(("link.", "package.link.")):
            out.append(f"--link-set {path.rsplit('.', 1)[1]}: {rest}")
        elif path.startswith("package.dies["):
            continue  # every die shares --die-area-mm2; the first one reports it
        else:
            out.append(line)
    return list(dict.fromkeys(out))


def collective_from_flags(collective: str, *, algo: str | None, ranks: int, nbytes: str | int, link: str,
                          link_set: list[str] | None, topology: str, mesh_rows: int | None, modules: int | None,
                          switch_latency_ns: float, die_area_mm2: float, chunk_bytes: str | int, face: str,
                          root: int, ber: float | None, retry: str, seed: int,
                          check_values: bool) -> tuple[CollectiveResult, dict[str, Any]]:
    """Validate the CLI's values, run one face; returns the result and the package's area summary."""
    problems: list[str] = []
    if collective not in COLLECTIVES:  # pragma: no cover - the CLI only registers known ones
        raise ConfigError(f"collective: must be one of {', '.join(COLLECTIVES)}, got {collective!r}")
    try:
        get_algorithm(collective, algo)
    except ConfigError as e:
        problems += e.problems
    if face not in FACES:
        problems.append(f"face: must be one of {', '.join(FACES)}, got {face!r}")
    if retry not in RETRY_MODES:
        problems.append(f"retry: must be one of {', '.join(RETRY_MODES)}, got {retry!r}")
    if topology not in TOPOLOGY_KINDS:
        problems.append(f"topology: must be one of {', '.join(TOPOLOGY_KINDS)}, got {topology!r}")
    if ranks < 2:
        problems.append(f"ranks: must be an integer >= 2, got {ranks}")
    if modules is not None and modules < 1:
        problems.append(f"package.modules_per_edge: must be an integer >= 1, got {modules}")
    if algo == "2d" and topology != "mesh" and topology in TOPOLOGY_KINDS:
        problems.append(f"algo: '2d' runs on a mesh topology (--topology mesh), got {topology!r}")
    size = chunk = None
    for flag, text in (("--bytes", nbytes), ("--chunk-bytes", chunk_bytes)):
        try:
            value = parse_bytes(text, flag)
        except ConfigError as e:
            problems += e.problems
            continue
        if flag == "--bytes":
            size = value
        else:
            chunk = value
    overrides: dict[str, Any] = {}
    try:
        overrides = parse_link_settings(link_set or [])
    except ConfigError as e:
        problems += e.problems
    if ber is not None:
        overrides["ber"] = ber
    link_cfg = None
    try:
        link_cfg = load_link(link, root="link", **overrides)
    except ConfigError as e:
        problems += e.problems
    if problems:
        raise ConfigError(_flagged(problems, ber is not None))
    topo: str | dict = {"kind": "switch", "latency_ns": switch_latency_ns} if topology == "switch" else topology
    try:
        pkg_cfg = PackageConfig.uniform(ranks, topo, link_cfg, die_area_mm2=die_area_mm2, modules_per_edge=modules,
                                        mesh_rows=mesh_rows)
        result = run_collective(collective, pkg_cfg, size, algo=algo, face=face, chunk_bytes=chunk, root=root,
                                retry=retry, seed=seed, check_values=check_values)
    except ConfigError as e:
        raise ConfigError(_flagged(e.problems, ber is not None)) from None
    return result, pkg_cfg.build().area()
