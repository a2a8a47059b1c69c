"""Calibration of the energy/area model against published accelerators (Eyeriss, TPUv1, Simba).

Each chip is described with the project's own models only: a systolic unit (:class:`SystolicConfig`) at the
chip's array size, number format, clock and on-chip SRAM, priced by the technology table of its node
(:mod:`hwsim.power.tech`: ``n65``, ``n28``, ``n16``), run on a representative workload (the five AlexNet
conv layers of ``workloads/scalesim/alexnet.csv``, lowered to GEMMs as SCALE-Sim does) through the cost
face (:func:`gemm_cost`: utilisation, SRAM traffic) and :func:`gemm_energy` / :func:`unit_area`.

What is calibrated, and on what (exactly two numbers, both on Eyeriss):

* ``area_overhead`` = Eyeriss published core area / modelled datapath + SRAM area. It stands for
  everything the roll-up does not count (control, NoC, clock tree, wiring, I/O, placement density).
* ``power_overhead`` = (Eyeriss published power - modelled leakage) / modelled dynamic power on AlexNet.
  It stands for clock tree, control, NoC, idle PEs and local scratchpads.

Both are then applied unchanged to TPUv1 and Simba, whose area, power/energy and throughput are *checks*
(``calibrated: false``), as is Eyeriss' frame rate. Peak throughput is 2 x MACs x clock (no calibration).
Nothing is ever calibrated against a number that is then reported as a check.

Modelling approximations (stated, not hidden): Eyeriss' row-stationary spatial array is modelled as a
12 x 14 weight-stationary systolic array with int16 operands and an int32 accumulator (Eyeriss truncates
partial sums to 16 bits); Simba's 16 PEs x 8 lanes x 8-wide vector MACs as a 32 x 32 array; each operand
SRAM is priced per access at the size of one bank (Simba: one PE's buffer) and its area at the total
capacity; Eyeriss' per-PE scratchpads are counted in its area (filter SRAM, ifmap/psum registers)
but not in its energy (the power overhead covers them). Off-chip DRAM energy is excluded: every published power here is the chip's own.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hwsim.compat.scalesim import conv_layer
from hwsim.power.area import unit_area
from hwsim.power.energy import gemm_energy
from hwsim.power.tech import TechTable, load_tech
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost

# Stillmaker & Baas (2017) energy polynomials (as in the node tables' references), for supply scaling.
_STILLMAKER = {65: (3.755, -4.398, 1.975), 45: (1.103, -0.362, 0.2767), 16: (0.2958, -0.1241, 0.03024)}

SOURCES = {
    "eyeriss": "Y.-H. Chen, T. Krishna, J. Emer, V. Sze, 'Eyeriss: An Energy-Efficient Reconfigurable "
               "Accelerator for Deep Convolutional Neural Networks', IEEE JSSC 52(1), 2017 (ISSCC 2016): "
               "65 nm, 168 PEs (12 x 14), 16-bit fixed point, 108 KB global buffer, 12.25 mm2 core "
               "(3.5 mm x 3.5 mm), 200 MHz, 1 V; per-PE scratchpads: filter 224 x 16 b (SRAM), ifmap 12 x 16 b and "
               "psum 24 x 16 b (registers); AlexNet conv layers at 35 frames/s and 278 mW (batch 4).",
    "tpuv1": "N. P. Jouppi et al., 'In-Datacenter Performance Analysis of a Tensor Processing Unit', ISCA "
             "2017: 28 nm, 256 x 256 8-bit MACs at 700 MHz, 92 TOPS peak, 24 MiB unified buffer + 4 MiB "
             "accumulators, die <= 331 mm2, 40 W busy (28 W idle) per die.",
    "simba": "Y. S. Shao et al., 'Simba: Scaling Deep-Learning Inference with Multi-Chip-Module-Based "
             "Architecture', MICRO 2019, and B. Zimmer et al., 'A 0.11 pJ/Op, 0.32-128 TOPS, Scalable "
             "Multi-Chip-Module-based DNN Accelerator with Ground-Reference Signaling in 16nm', VLSI 2019: "
             "16 nm chiplet of about 6 mm2, 16 PEs x 8 lanes x 8-wide int8 vector MACs (1024 MACs), per PE "
             "32 KB weight, 8 KB input and 3 KB accumulation buffers, 64 KB global buffer; 4.01 TOPS peak "
             "per chiplet (2.0 GHz at 1.2 V); 0.11 pJ/op at 0.42 V.",
}


@dataclass(frozen=True)
class Chip:
    """One published accelerator described with hwsim's models."""

    name: str
    tech: str
    rows: int
    cols: int
    input: str
    accumulator: str
    freq_mhz: float
    bank_kib: dict            # operand -> KiB of one SRAM bank (prices an access)
    total_kib: dict           # operand -> KiB in total (area)
    batch: int
    supply_v: float           # the operating supply the published power/energy refers to
    published: dict = field(default_factory=dict)  # metric -> (value, unit)
    pe_local_sram_bytes: int = 0    # per-PE scratchpad SRAM (area only)
    pe_local_register_bits: int = 0  # per-PE scratchpad registers beyond the PE's own (area only)

    def config(self) -> SystolicConfig:
        return SystolicConfig(rows=self.rows, cols=self.cols, dataflow="ws",
                              pe={"input": self.input, "accumulator": self.accumulator},
                              sram={"a_kib": self.bank_kib["a"], "b_kib": self.bank_kib["b"],
                                    "c_kib": self.bank_kib["c"]},
                              freq_mhz=self.freq_mhz)


CHIPS = [
    Chip("eyeriss", "n65", 12, 14, "int16", "int32", 200.0,
         bank_kib={"a": 36, "b": 36, "c": 36}, total_kib={"a": 36, "b": 36, "c": 36}, batch=4, supply_v=1.0,
         published={"area": (12.25, "mm2"), "power": (0.278, "W"), "throughput": (35.0, "frames/s")},
         pe_local_sram_bytes=224 * 2, pe_local_register_bits=(12 + 24) * 16),
    Chip("tpuv1", "n28", 256, 256, "int8", "int32", 700.0,
         bank_kib={"a": 24 * 1024, "b": 256, "c": 4 * 1024}, total_kib={"a": 24 * 1024, "b": 256, "c": 4 * 1024},
         batch=8, supply_v=0.9,
         published={"area": (331.0, "mm2"), "power": (40.0, "W"), "peak": (92.0, "TOPS")}),
    Chip("simba", "n16", 32, 32, "int8", "int32", 2000.0,
         bank_kib={"a": 8, "b": 32, "c": 3}, total_kib={"a": 16 * 8 + 64, "b": 16 * 32, "c": 16 * 3},
         batch=1, supply_v=0.42,
         published={"area": (6.0, "mm2"), "energy_per_op": (0.11, "pJ/op"), "peak": (4.01, "TOPS")}),
]

CALIBRATED_ON = {("eyeriss", "area"), ("eyeriss", "power")}


# AlexNet's conv layers as in workloads/scalesim/alexnet.csv (ifmap h, w, filter h, w, channels, filters,
# stride); kept here too so that an installed copy (without workloads/) can calibrate. A test keeps them equal.
ALEXNET_CONV = [("Conv1", 227, 227, 11, 11, 3, 96, 4), ("Conv2", 31, 31, 5, 5, 96, 256, 1),
                ("Conv3", 15, 15, 3, 3, 256, 384, 1), ("Conv4", 15, 15, 3, 3, 384, 384, 1),
                ("Conv5", 15, 15, 3, 3, 384, 256, 1)]


def alexnet_conv_gemms(batch: int) -> list[tuple[str, int, int, int]]:
    """(name, M, N, K) of AlexNet's five conv layers (SCALE-Sim lowering, no padding) at ``batch`` images."""
    return [(layer.name, layer.m * batch, layer.n, layer.k) for layer in (conv_layer(*row) for row in ALEXNET_CONV)]


def supply_scale(node_nm: float, table_v: float, operating_v: float) -> float:
    """Stillmaker-Baas energy ratio E(operating_v) / E(table_v) at the node (1 when the supplies agree)."""
    if math.isclose(table_v, operating_v):
        return 1.0
    a, b, c = _STILLMAKER[int(node_nm)]
    return (a * operating_v ** 2 + b * operating_v + c) / (a * table_v ** 2 + b * table_v + c)


@dataclass
class ChipModel:
    """The uncalibrated figures of one chip (area in mm², energy in pJ, time in s)."""

    name: str
    area_mm2: float
    dynamic_pj: float
    seconds: float
    macs: int
    utilization: float
    leakage_w_per_mm2: float
    peak_tops: float
    batch: int

    @property
    def dynamic_w(self) -> float:
        return self.dynamic_pj * 1e-12 / self.seconds


def model_chip(chip: Chip) -> ChipModel:
    tech: TechTable = load_tech(chip.tech)
    cfg = chip.config()
    area = unit_area(cfg, tech)
    pe_mm2 = sum(v for k, v in area.components.items() if k.startswith("pe_"))
    sram_mm2 = sum(tech.sram_area_mm2(chip.total_kib[op] * 1024) for op in ("a", "b", "c"))
    if chip.pe_local_sram_bytes:
        sram_mm2 += chip.rows * chip.cols * tech.sram_area_mm2(chip.pe_local_sram_bytes)
    pe_mm2 += chip.rows * chip.cols * tech.register_area_um2(chip.pe_local_register_bits) * 1e-6
    scale = supply_scale(tech.node_nm, tech.supply_v, chip.supply_v)
    dynamic_pj = 0.0
    cycles = macs = 0
    for _, m, n, k in alexnet_conv_gemms(chip.batch):
        stats = gemm_cost(cfg, m=m, n=n, k=k)
        energy = gemm_energy(cfg, stats, tech)
        dynamic_pj += sum(v for key, v in energy.components.items() if key != "memory_port") * scale
        cycles += stats.cycles
        macs += stats.macs
    seconds = cycles / (chip.freq_mhz * 1e6)
    return ChipModel(name=chip.name, area_mm2=pe_mm2 + sram_mm2, dynamic_pj=dynamic_pj, seconds=seconds,
                     macs=macs, utilization=macs / (cycles * chip.rows * chip.cols),
                     leakage_w_per_mm2=tech.node_value("leakage_w_per_mm2"),
                     peak_tops=2 * chip.rows * chip.cols * chip.freq_mhz * 1e6 / 1e12, batch=chip.batch)


@dataclass(frozen=True)
class Calibration:
    """The two calibrated parameters (both fitted on Eyeriss)."""

    area_overhead: float
    power_overhead: float


def calibrate(models: dict[str, ChipModel] | None = None) -> Calibration:
    """Fit ``area_overhead`` and ``power_overhead`` on Eyeriss' published core area and power."""
    models = models or {c.name: model_chip(c) for c in CHIPS}
    eyeriss = next(c for c in CHIPS if c.name == "eyeriss")
    m = models["eyeriss"]
    area_overhead = eyeriss.published["area"][0] / m.area_mm2
    leak_w = m.leakage_w_per_mm2 * m.area_mm2 * area_overhead
    power_overhead = (eyeriss.published["power"][0] - leak_w) / m.dynamic_w
    return Calibration(area_overhead=area_overhead, power_overhead=power_overhead)


def _record(chip: str, metric: str, published: float, modelled: float, unit: str) -> dict:
    return {"chip": chip, "metric": metric, "published": published, "modelled": modelled,
            "error_pct": (modelled - published) / published * 100, "unit": unit, "source": SOURCES[chip],
            "calibrated": (chip, metric) in CALIBRATED_ON}


def calibration_records() -> list[dict]:
    """Modelled vs published figures of every chip, one record per (chip, metric)."""
    models = {c.name: model_chip(c) for c in CHIPS}
    cal = calibrate(models)
    records = []
    for chip in CHIPS:
        m = models[chip.name]
        area = m.area_mm2 * cal.area_overhead
        power = m.dynamic_w * cal.power_overhead + m.leakage_w_per_mm2 * area
        for metric, (value, unit) in chip.published.items():
            if metric == "area":
                modelled = area
            elif metric == "power":
                modelled = power
            elif metric == "throughput":
                modelled = m.batch / m.seconds
            elif metric == "peak":
                modelled = m.peak_tops
            elif metric == "energy_per_op":
                modelled = power * m.seconds / (2 * m.macs) * 1e12
            else:  # pragma: no cover - the table above names only these metrics
                raise ValueError(metric)
            records.append(_record(chip.name, metric, value, modelled, unit))
    return records


def calibration_summary() -> dict:
    """Records plus the calibrated parameters and each chip's uncalibrated model (for the report)."""
    models = {c.name: model_chip(c) for c in CHIPS}
    cal = calibrate(models)
    return {"calibrated_parameters": {"area_overhead": cal.area_overhead, "power_overhead": cal.power_overhead,
                                      "fitted_on": "eyeriss area (12.25 mm2) and power (278 mW)"},
            "models": {k: {**asdict(v), "dynamic_w": v.dynamic_w} for k, v in models.items()},
            "records": calibration_records()}


def write_report(out_dir: str | Path) -> Path:
    """Write ``report.md``, ``report.json`` and ``calibration.png`` (modelled vs published) to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = calibration_summary()
    records = summary["records"]
    (out / "report.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['chip']}\n{r['metric']}" for r in records]
    ratios = [r["modelled"] / r["published"] for r in records]
    x = list(range(len(records)))
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.bar([i - 0.2 for i in x], [1.0] * len(x), width=0.4, color="#bbbbbb", label="published (= 1)")
    ax.bar([i + 0.2 for i in x], ratios, width=0.4,
           color=["#ff7f0e" if r["calibrated"] else "#1f77b4" for r in records],
           label="modelled (orange: calibrated on it, blue: check)")
    for i, r in enumerate(records):
        ax.annotate(f"{r['error_pct']:+.0f}%", (i + 0.2, ratios[i]), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("value / published")
    ax.set_ylim(0, max(1.3, max(ratios) * 1.15))
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("hwsim vs published accelerators")
    fig.tight_layout()
    fig.savefig(out / "calibration.png", dpi=100, metadata={"Software": None})
    plt.close(fig)

    cal = summary["calibrated_parameters"]
    lines = ["# Calibration against published accelerators", "",
             "Generated by `hwsim power calibrate --out reports/calibration` (`hwsim/power/calibrate.py`).", "",
             f"Calibrated (on Eyeriss only): `area_overhead` = {cal['area_overhead']:.3f}, "
             f"`power_overhead` = {cal['power_overhead']:.3f}. Every other row is a check.", "",
             "| chip | metric | published | modelled | error % | unit | calibrated |",
             "| --- | --- | ---: | ---: | ---: | --- | --- |"]
    for r in records:
        lines.append(f"| {r['chip']} | {r['metric']} | {r['published']:.4g} | {r['modelled']:.4g} | "
                     f"{r['error_pct']:+.1f} | {r['unit']} | {'yes' if r['calibrated'] else 'no'} |")
    lines += ["", "![modelled / published](calibration.png)", "",
              "What the model is: each chip is a weight-stationary systolic unit at its array size, format, clock "
              "and SRAM, priced by its node's table (n65, n28, n16; `hwsim/power/data/`), running AlexNet's five "
              "conv layers (`workloads/scalesim/alexnet.csv`) on the cost face. Calibrated: `area_overhead` "
              "(control, NoC, clock, wiring, I/O; fitted to Eyeriss' 12.25 mm2 core) and `power_overhead` "
              "(clock tree, control, idle PEs, scratchpad accesses; fitted to Eyeriss' 278 mW less modelled "
              "leakage). Not calibrated: the technology tables, the leakage assumption, utilisation, frequencies, "
              "array sizes, SRAM sizes. Caveats: TPUv1's 331 mm2 is an upper bound ('less than half the size of a "
              "Haswell die') and its 40 W is busy power on Google's production mix (28-40 W), not AlexNet; "
              "Simba's 0.11 pJ/op is at 0.42 V (modelled by Stillmaker-Baas supply scaling of the 0.8 V n16 "
              "table) and its area excludes the package-level GRS links; Eyeriss' row-stationary array is "
              "approximated by a weight-stationary one.", "", "## Uncalibrated models (AlexNet conv layers)", "",
              "| chip | datapath + SRAM mm2 | dynamic W | utilisation | batch |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, m in summary["models"].items():
        lines.append(f"| {name} | {m['area_mm2']:.3f} | {m['dynamic_w']:.4g} | {m['utilization']:.3f} | {m['batch']} |")
    lines += ["", "## Sources", ""] + [f"- **{k}**: {v}" for k, v in SOURCES.items()]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "report.md"
