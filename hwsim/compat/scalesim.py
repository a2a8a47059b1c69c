"""Read SCALE-Sim 3.0.0 inputs (``.cfg`` and topology CSVs) and cost them on hwsim's systolic unit.

SCALE-Sim (https://github.com/scalesim-project/scale-sim-v3, PyPI ``scalesim``) describes a run with
an INI-style ``.cfg`` file and a topology CSV, either convolution layers or GEMMs given as M, N, K.
This module parses both exactly as SCALE-Sim 3.0.0 does (``scale_config.py``, ``topology_utils.py``),
with one readable error line per problem instead of SCALE-Sim's asserts and tracebacks, and turns each
layer into a GEMM ``C[M,N] = A[M,K] . B[K,N]`` costed by :func:`hwsim.systolic.cost.gemm_cost`.

Mapping of SCALE-Sim's names onto hwsim's: ifmap -> operand/SRAM ``a``, filter -> ``b``,
ofmap -> ``c``; ``ArrayHeight`` -> ``rows``, ``ArrayWidth`` -> ``cols``. SCALE-Sim's words are one byte,
its "kB" are KiB (x1024 bytes). See docs/scalesim.md for every accounting difference.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwsim.errors import ConfigError
from hwsim.pe.config import PEConfig
from hwsim.systolic.config import SramConfig, SystolicConfig
from hwsim.systolic.cost import ACCOUNTINGS, gemm_cost
from hwsim.systolic.dataflow import get_dataflow

DATAFLOWS = ("os", "ws", "is")
KINDS = ("auto", "conv", "gemm")
FACES = ("cost", "cl")
MAX_ARRAY_DIM = 4096  # SystolicConfig.rows/cols upper bound
MAX_SRAM_KIB = 1 << 20  # SramConfig upper bound

# SCALE-Sim 3.0.0's sections. configparser lower-cases keys (SCALE-Sim's keys are case-insensitive),
# section names stay case-sensitive as in SCALE-Sim.
_SECTIONS = ("general", "architecture_presets", "network_presets", "layout", "sparsity", "run_presets")
_IGNORED_SECTIONS = ("network_presets", "layout", "sparsity", "run_presets")
_GENERAL_KEYS = {"run_name": "run_name"}
_ARCH_KEYS = {  # lower-case key -> SCALE-Sim's spelling
    "arrayheight": "ArrayHeight", "arraywidth": "ArrayWidth",
    "ifmapsramszkb": "IfmapSramSzkB", "filtersramszkb": "FilterSramSzkB", "ofmapsramszkb": "OfmapSramSzkB",
    "dataflow": "Dataflow",
    # memory-system knobs: accepted, not used (hwsim's SCALE-Sim accounting has an ideal supply)
    "ifmapoffset": "IfmapOffset", "filteroffset": "FilterOffset", "ofmapoffset": "OfmapOffset",
    "bandwidth": "Bandwidth", "memorybanks": "MemoryBanks",
    "readrequestbuffer": "ReadRequestBuffer", "writerequestbuffer": "WriteRequestBuffer",
}
_INT_RE = re.compile(r"[+-]?\d+")

CONV_COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
                "Num Filter", "Strides")
GEMM_COLUMNS = ("Layer", "M", "N", "K")
SPARSITY_COLUMN = "sparsity N:M"


# --- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScaleSimConfig:
    """The parts of a SCALE-Sim ``.cfg`` that fix compute cycles and SRAM sizes.

    ``rows``/``cols``: PE array height/width; ``*_sram_kib``: SRAM capacities in KiB (SCALE-Sim's
    "kB", 1 byte per word); ``warnings``: settings SCALE-Sim would honour that hwsim does not model.
    """

    path: str
    run_name: str
    rows: int
    cols: int
    dataflow: str
    ifmap_sram_kib: int
    filter_sram_kib: int
    ofmap_sram_kib: int
    warnings: tuple[str, ...] = ()

    def to_systolic_config(self, pe: PEConfig | None = None) -> SystolicConfig:
        """hwsim unit with this array, dataflow and SRAMs (ifmap -> a, filter -> b, ofmap -> c), an
        ideal operand supply (``memory_port=None``, as SCALE-Sim's compute cycles assume) and an int8
        PE unless ``pe`` is given."""
        return SystolicConfig(
            rows=self.rows, cols=self.cols, dataflow=self.dataflow, pe=pe if pe is not None else PEConfig(),
            sram=SramConfig(a_kib=self.ifmap_sram_kib, b_kib=self.filter_sram_kib, c_kib=self.ofmap_sram_kib),
            memory_port=None,
        )


def _read_text(path: str | Path, what: str) -> str:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{path}: {what} not found")
    if not p.is_file():
        raise ConfigError(f"{path}: {what} is not a file")
    try:
        return p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read {what}: {err}") from None


def _int_value(text: str) -> int | None:
    text = text.strip()
    return int(text) if _INT_RE.fullmatch(text) else None


def read_scalesim_cfg(path: str | Path) -> ScaleSimConfig:
    """Parse a SCALE-Sim ``.cfg`` file.

    Reads ``[general] run_name`` and ``[architecture_presets]`` ArrayHeight, ArrayWidth, the three SRAM
    sizes and Dataflow (all required, as in SCALE-Sim). The memory-system keys of that section and the
    ``[network_presets]``, ``[layout]``, ``[sparsity]`` and ``[run_presets]`` sections are accepted and
    not used; unknown sections and unknown ``[general]``/``[architecture_presets]`` keys are errors.
    Raises :class:`ConfigError` with one line per problem.
    """
    text = _read_text(path, "SCALE-Sim config file")
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as err:
        detail = " ".join(str(err).split())
        raise ConfigError(f"{path}: not a valid SCALE-Sim .cfg (INI) file: {detail}") from None

    problems: list[str] = []
    warnings: list[str] = []
    for section in parser.sections():
        if section not in _SECTIONS:
            problems.append(f"{path}: [{section}]: unknown section (SCALE-Sim 3.0.0 sections: "
                            f"{', '.join(_SECTIONS)}; names are case-sensitive)")
    for section, known in (("general", _GENERAL_KEYS), ("architecture_presets", _ARCH_KEYS)):
        if not parser.has_section(section):
            problems.append(f"{path}: [{section}]: required section is missing")
            continue
        for key in parser.options(section):
            if key not in known:
                problems.append(f"{path}: [{section}] {key}: unknown key (known: {', '.join(known.values())})")

    def get(section: str, key: str) -> str | None:
        if not parser.has_section(section):
            return None
        if not parser.has_option(section, key.lower()):
            problems.append(f"{path}: [{section}] {key}: required key is missing")
            return None
        return parser.get(section, key.lower()).strip()

    def get_int(key: str, hi: int) -> int:
        raw = get("architecture_presets", key)
        if raw is None:
            return 0
        value = _int_value(raw)
        if value is None or not 1 <= value <= hi:
            problems.append(f"{path}: [architecture_presets] {key}: must be an integer from 1 to {hi}, "
                            f"got {raw!r}")
            return 0
        return value

    run_name = get("general", "run_name") or ""
    rows = get_int("ArrayHeight", MAX_ARRAY_DIM)
    cols = get_int("ArrayWidth", MAX_ARRAY_DIM)
    srams = [get_int(key, MAX_SRAM_KIB) for key in ("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB")]
    dataflow = get("architecture_presets", "Dataflow")
    if dataflow is not None and dataflow not in DATAFLOWS:
        hint = (" (lower case: SCALE-Sim 3.0.0 runs any other spelling as os)"
                if dataflow.lower() in DATAFLOWS else "")
        problems.append(f"{path}: [architecture_presets] Dataflow: must be one of {', '.join(DATAFLOWS)}"
                        f"{hint}, got {dataflow!r}")

    if parser.has_option("sparsity", "sparsitysupport") and \
            parser.get("sparsity", "sparsitysupport").strip().lower() == "true":
        warnings.append(f"{path}: [sparsity] SparsitySupport = true is not modelled: hwsim costs dense GEMMs, "
                        "so SCALE-Sim's sparse cycles will differ")
    if parser.has_option("run_presets", "interfacebandwidth") and \
            parser.get("run_presets", "interfacebandwidth").strip() == "USER":
        warnings.append(f"{path}: [run_presets] InterfaceBandwidth = USER: SCALE-Sim's 'Total Cycles' may then "
                        "include memory stalls; hwsim's scalesim accounting equals Total Cycles - Stall Cycles")
    if problems:
        raise ConfigError(problems)
    return ScaleSimConfig(
        path=str(path), run_name=run_name, rows=rows, cols=cols, dataflow=dataflow or "ws",
        ifmap_sram_kib=srams[0], filter_sram_kib=srams[1], ofmap_sram_kib=srams[2], warnings=tuple(warnings),
    )


# --- topology -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layer:
    """One SCALE-Sim layer as the GEMM ``C[m,n] = A[m,k] . B[k,n]`` it runs.

    Conv layers (no padding, same stride both ways) also keep their shape: ``m`` = ofmap pixels,
    ``n`` = ``num_filters``, ``k`` = ``filter_h * filter_w * channels``. GEMM rows leave them None.
    """

    name: str
    m: int
    n: int
    k: int
    ifmap_h: int | None = None
    ifmap_w: int | None = None
    filter_h: int | None = None
    filter_w: int | None = None
    channels: int | None = None
    num_filters: int | None = None
    stride: int | None = None

    @property
    def kind(self) -> str:
        return "gemm" if self.ifmap_h is None else "conv"

    @property
    def ofmap_h(self) -> int | None:
        return None if self.ifmap_h is None else _ofmap_dim(self.ifmap_h, self.filter_h, self.stride)

    @property
    def ofmap_w(self) -> int | None:
        return None if self.ifmap_w is None else _ofmap_dim(self.ifmap_w, self.filter_w, self.stride)

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k


def _ofmap_dim(ifmap: int, filt: int, stride: int) -> int:
    """SCALE-Sim's ``ceil((ifmap - filter + stride) / stride)``: no padding."""
    return -(-(ifmap - filt + stride) // stride)


def conv_layer(name: str, ifmap_h: int, ifmap_w: int, filter_h: int, filter_w: int, channels: int,
               num_filters: int, stride: int) -> Layer:
    """A conv layer lowered to a GEMM as SCALE-Sim 3.0.0 does (im2col, no padding)."""
    oh, ow = _ofmap_dim(ifmap_h, filter_h, stride), _ofmap_dim(ifmap_w, filter_w, stride)
    return Layer(name, oh * ow, num_filters, filter_h * filter_w * channels, ifmap_h, ifmap_w, filter_h,
                 filter_w, channels, num_filters, stride)


def _fields(line: str) -> list[str]:
    """Comma-separated fields of a row. SCALE-Sim drops whatever follows the last comma (normally
    nothing, sometimes a ``#dw`` comment); a row without the trailing comma keeps its last field here."""
    parts = line.split(",")
    if len(parts) > 1 and (parts[-1].strip() == "" or parts[-1].strip().startswith("#")):
        parts = parts[:-1]
    return [p.strip() for p in parts]


def _detect_kind(path: str | Path, header: list[str]) -> str:
    names = [h.lower() for h in header]
    if names[1:4] == ["m", "n", "k"]:
        return "gemm"
    if len(header) >= len(CONV_COLUMNS):
        return "conv"
    if len(header) in (len(GEMM_COLUMNS), len(GEMM_COLUMNS) + 1):
        return "gemm"
    raise ConfigError(
        f"{path}, line 1: cannot tell a conv from a GEMM topology by the header {','.join(header)!r} "
        f"(conv: {len(CONV_COLUMNS)} columns '{', '.join(CONV_COLUMNS)},'; GEMM: {len(GEMM_COLUMNS)} columns "
        f"'{', '.join(GEMM_COLUMNS)},'); pass kind='conv' or kind='gemm'")


def read_topology(path: str | Path, kind: str = "auto") -> list[Layer]:
    """Layers of a SCALE-Sim topology CSV, as SCALE-Sim 3.0.0 reads them.

    ``kind``: ``"conv"`` (``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
    Channels, Num Filter, Strides,``), ``"gemm"`` (``Layer, M, N, K,``) or ``"auto"`` (from the header).
    The first row is always a header; blank rows are skipped; an optional last column ``N:M`` (sparsity)
    is checked and ignored. A conv layer whose name contains ``DP`` (depthwise) becomes one layer per
    channel, named ``<name>Channel_<i>``, each with ``channels = 1`` and the row's ``Num Filter``.
    Raises :class:`ConfigError` with one line per problem (line, column, value).
    """
    if kind not in KINDS:
        raise ConfigError(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    text = _read_text(path, "SCALE-Sim topology file")
    lines = text.splitlines()
    if not lines or all(not ln.strip() for ln in lines):
        raise ConfigError(f"{path}: empty file (a SCALE-Sim topology needs a header row and one row per layer)")
    header = _fields(lines[0].strip())
    if len(header) > 1 and all(_int_value(h) is not None for h in header[1:]):
        raise ConfigError(f"{path}, line 1: the first row must be a header (SCALE-Sim always skips it), "
                          f"got the layer row {lines[0].strip()!r}")
    if kind == "auto":
        kind = _detect_kind(path, header)
    columns = CONV_COLUMNS if kind == "conv" else GEMM_COLUMNS

    problems: list[str] = []
    layers: list[Layer] = []
    for lineno, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        fields = _fields(line)
        where = f"{path}, line {lineno}"
        if not len(columns) <= len(fields) <= len(columns) + 1:
            problems.append(
                f"{where}: a {kind} layer has {len(columns)} columns ({', '.join(columns)}) and an optional "
                f"{SPARSITY_COLUMN}, got {len(fields)} in {line!r}")
            continue
        values: list[int] = []
        for col, (label, text_value) in enumerate(zip(columns[1:], fields[1:len(columns)]), start=2):
            value = _int_value(text_value)
            if value is None or value < 1:
                problems.append(f"{where}, column {col} ({label}): must be an integer >= 1, got {text_value!r}")
            values.append(value or 0)
        if len(fields) > len(columns):
            ratio = fields[len(columns)].split(":")
            if len(ratio) != 2 or any(_int_value(r) is None for r in ratio):
                problems.append(f"{where}, column {len(columns) + 1} ({SPARSITY_COLUMN}): must look like N:M "
                                f"with integers N and M, got {fields[len(columns)]!r}")
        if any(v < 1 for v in values):
            continue
        name = fields[0]
        if kind == "gemm":
            m, n, k = values
            layers.append(Layer(name, m, n, k))
            continue
        ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride = values
        bad = False
        for col, label, filt, ifmap, ifmap_label in ((4, "Filter Height", filter_h, ifmap_h, "IFMAP Height"),
                                                     (5, "Filter Width", filter_w, ifmap_w, "IFMAP Width")):
            if filt > ifmap:
                problems.append(f"{where}, column {col} ({label}): must be <= {ifmap_label} ({ifmap}), got {filt}")
                bad = True
        if bad:
            continue
        if "DP" in name:  # SCALE-Sim: depthwise, one single-channel layer per channel
            layers.extend(conv_layer(f"{name}Channel_{c}", ifmap_h, ifmap_w, filter_h, filter_w, 1, num_filters,
                                     stride) for c in range(channels))
        else:
            layers.append(conv_layer(name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride))
    if problems:
        raise ConfigError(problems)
    if not layers:
        raise ConfigError(f"{path}: no layers (only a header row)")
    return layers


# --- costing ------------------------------------------------------------------------------------
def scalesim_sram_counts(cfg: SystolicConfig, m: int, n: int, k: int) -> dict[str, int]:
    """SRAM access counts (words) as SCALE-Sim 3.0.0's DETAILED_ACCESS_REPORT.csv gives them.

    ``ifmap_reads``/``filter_reads`` equal hwsim's ``sram_reads`` ``a``/``b``; ``ofmap_writes`` is
    hwsim's ``sram_writes["c"]`` plus, for OS only, ``rows + cols`` per fold (SCALE-Sim adds the padded
    fold's shape to its write counter).
    """
    stats = gemm_cost(cfg, m, n, k, accounting="scalesim")
    quirk = stats.folds * (cfg.rows + cfg.cols) if cfg.dataflow == "os" else 0
    return {"ifmap_reads": stats.sram_reads["a"], "filter_reads": stats.sram_reads["b"],
            "ofmap_writes": stats.sram_writes["c"] + quirk}


def run_scalesim_inputs(cfg_path: str | Path, topo_path: str | Path, kind: str = "auto",
                        accounting: str = "scalesim", face: str = "cost") -> list[dict]:
    """Cost every layer of a SCALE-Sim run (``.cfg`` + topology CSV) on hwsim.

    ``accounting="scalesim"`` reproduces SCALE-Sim's compute cycles (its COMPUTE_REPORT "Total Cycles"
    with no stalls); ``"hwsim"`` gives the cycle-true count. ``face="cl"`` simulates each layer on the
    CL face with seeded random operands (cycle-true only, slow for large layers). Per layer: name, kind,
    m, n, k, cycles, utilization and mapping_efficiency (percent), sram_reads/sram_writes (words per
    operand a/b/c) and, with scalesim accounting, ``scalesim_sram`` (SCALE-Sim's own SRAM counters).
    """
    problems = []
    if accounting not in ACCOUNTINGS:
        problems.append(f"accounting: must be one of {', '.join(ACCOUNTINGS)}, got {accounting!r}")
    if face not in FACES:
        problems.append(f"face: must be one of {', '.join(FACES)}, got {face!r}")
    elif face == "cl" and accounting == "scalesim":
        problems.append("face: 'cl' is cycle-true; use accounting='hwsim' with it (scalesim accounting is a "
                        "cost-face closed form)")
    if problems:
        raise ConfigError(problems)
    sc = read_scalesim_cfg(cfg_path)
    cfg = sc.to_systolic_config()
    layers = read_topology(topo_path, kind)
    out = []
    for layer in layers:
        if face == "cost":
            stats = gemm_cost(cfg, layer.m, layer.n, layer.k, accounting=accounting)
        else:
            from hwsim.systolic.cl import run_gemm_cl

            rng = np.random.default_rng(0)
            a = cfg.pe.random_operands((layer.m, layer.k), rng)
            b = cfg.pe.random_operands((layer.k, layer.n), rng)
            _, stats = run_gemm_cl(cfg, a, b)
        row = {
            "name": layer.name, "kind": layer.kind, "m": layer.m, "n": layer.n, "k": layer.k,
            "rows": cfg.rows, "cols": cfg.cols, "dataflow": get_dataflow(cfg.dataflow).name,
            "accounting": accounting, "face": face,
            "cycles": stats.cycles, "compute_cycles": stats.compute_cycles, "stall_cycles": stats.stall_cycles,
            "macs": stats.macs, "folds": stats.folds,
            "utilization": 100.0 * stats.utilization, "mapping_efficiency": 100.0 * stats.mapping_efficiency,
            "sram_reads": dict(stats.sram_reads), "sram_writes": dict(stats.sram_writes),
            "warnings": list(sc.warnings) + list(stats.warnings),
        }
        if accounting == "scalesim":
            row["scalesim_sram"] = scalesim_sram_counts(cfg, layer.m, layer.n, layer.k)
        out.append(row)
    return out
