"""Verilog generation into a build folder (never committed), keyed by a hash of the design."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from amaranth.back import verilog
from amaranth.lib import wiring


def build_root() -> Path:
    """``$HWSIM_BUILD_DIR`` or ``./build``."""
    return Path(os.environ.get("HWSIM_BUILD_DIR", "build")).resolve()


def design_verilog(component: wiring.Component, name: str) -> str:
    return verilog.convert(component, name=name, emit_src=False)


def write_verilog(component: wiring.Component, name: str, subdir: str = "rtl") -> Path:
    """Write ``<build>/<subdir>/<name>-<hash>/<name>.v`` (kept if it exists) and return its path."""
    text = design_verilog(component, name)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    folder = build_root() / subdir / f"{name}-{digest}"
    path = folder / f"{name}.v"
    if not path.exists() or path.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".v.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path
