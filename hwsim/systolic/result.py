"""The result schema shared by every face of the systolic unit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class GemmStats:
    """Cycle and action counts of one GEMM on the unit.

    ``compute_cycles``: array cycles, fill and drain included, operands always ready.
    ``stall_cycles``: cycles the array waited for operands (the first tiles' load included).
    ``cycles = compute_cycles + stall_cycles (+ comm_cycles`` when split over a package's dies). SRAM counts are in words (elements) per operand
    ``a``/``b``/``c``; ``port_bytes`` are bytes moved over the memory port into each operand SRAM.
    """

    m: int
    n: int
    k: int
    rows: int
    cols: int
    dataflow: str
    face: str
    accounting: str
    cycles: int
    compute_cycles: int
    stall_cycles: int
    macs: int
    pe_busy_cycles: int
    folds: int
    sram_reads: dict[str, int]
    sram_writes: dict[str, int]
    port_bytes: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    stall_cycles_by_operand: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    mapping_efficiency: float = 0.0
    warnings: list[str] = field(default_factory=list)
    # off-chip memory actions when fed from DRAM (None with a memory port or ideal supply):
    # activates, refreshes, reads, writes, bytes_read, bytes_written and duration_ps (the GEMM's time,
    # over which the DRAM's background power accrues). Exact counts on the CL face, expected values
    # on the cost face.
    dram: dict[str, float] | None = None
    # cycles the layer waits for die-to-die communication after computing (tensor parallel over a
    # package; 0 on one die): cycles = compute_cycles + stall_cycles + comm_cycles
    comm_cycles: int = 0
    dies: int = 1  # units the MACs ran on (a package's dies)

    @property
    def utilization(self) -> float:
        """MACs / (PEs x cycles): the fraction of PE-cycles doing useful work."""
        return self.macs / (self.rows * self.cols * self.dies * self.cycles) if self.cycles else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["utilization"] = self.utilization
        return d

    def counts(self) -> dict:
        """The integer counts, for face-to-face comparisons."""
        return {
            "cycles": self.cycles, "compute_cycles": self.compute_cycles, "stall_cycles": self.stall_cycles,
            "macs": self.macs, "pe_busy_cycles": self.pe_busy_cycles, "folds": self.folds,
            "sram_reads": dict(self.sram_reads), "sram_writes": dict(self.sram_writes),
            "port_bytes": dict(self.port_bytes), "stall_cycles_by_operand": dict(self.stall_cycles_by_operand),
        }
