"""Generate hwsim/power/data/n{65,28,16,7,5}.yaml from horowitz45.yaml and the stated scaling rules.

Run from the repository root: ``python tools/gen_tech_nodes.py``. The YAML files are the data; this script
only writes out, number by number, the rules each file states (tests/power/test_nodes.py re-derives them
independently). Stillmaker & Baas (2017) energy polynomials E(V) = a V^2 + b V + c, one row per node.
"""
from __future__ import annotations

from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[1] / "hwsim" / "power" / "data"
STILLMAKER = {65: (3.755, -4.398, 1.975), 45: (1.103, -0.362, 0.2767), 32: (0.9559, -0.7823, 0.471),
              22: (0.373, -0.1582, 0.04104), 16: (0.2958, -0.1241, 0.03024), 7: (0.1776, -0.09097, 0.02447)}
STILLMAKER_AREA_FROM_45 = {65: 1.5, 32: 0.46, 22: 0.21}


def poly(node: int, v: float) -> float:
    a, b, c = STILLMAKER[node]
    return a * v * v + b * v + c


def sig(x: float, n: int = 4) -> float:
    return float(f"{x:.{n}g}")


E45 = poly(45, 0.9)
NODES = {
    "n65": dict(node_nm=65, vdd=1.0, energy=poly(65, 1.0) / E45,
                energy_rule="stillmaker2017: E65(1.0 V) / E45(0.9 V) = (3.755 - 4.398 + 1.975) / "
                            "(1.103 x 0.81 - 0.362 x 0.9 + 0.2767)",
                density=3.33 / 1.5, density_source="derived",
                density_rule="45 nm density (wikichip, 3.33 MTr/mm2) / stillmaker2017 area factor 45->65 nm (1.5)",
                fo4=sig(65e-3 / 3 * 1000), fo4_source="fo4_rule", fo4_rule="1/3 ns per um of drawn gate: 0.065 x 1000 / 3 ps",
                cell=None),
    "n28": dict(node_nm=28, vdd=0.9, energy=(0.6 * poly(32, 0.9) + 0.4 * poly(22, 0.9)) / E45,
                energy_rule="stillmaker2017: 28 nm interpolated linearly in node between the 32 nm and 22 nm "
                            "polynomials (weights 0.6, 0.4) at 0.9 V, over E45(0.9 V)",
                density=3.33 / (0.6 * 0.46 + 0.4 * 0.21), density_source="derived",
                density_rule="45 nm density (wikichip, 3.33 MTr/mm2) / stillmaker2017 area factor 45->28 nm, "
                             "interpolated 0.6 x 0.46 (32 nm) + 0.4 x 0.21 (22 nm) = 0.36",
                fo4=sig(28e-3 / 3 * 1000), fo4_source="fo4_rule", fo4_rule="1/3 ns per um of drawn gate: 0.028 x 1000 / 3 ps",
                cell=None),
    "n16": dict(node_nm=16, vdd=0.8, energy=poly(16, 0.8) / E45,
                energy_rule="stillmaker2017: E16(0.8 V) / E45(0.9 V) = (0.2958 x 0.64 - 0.1241 x 0.8 + 0.03024) / "
                            "(1.103 x 0.81 - 0.362 x 0.9 + 0.2767)",
                density=28.88, density_source="wikichip", density_rule=None,
                fo4=8.0, fo4_source="nodes_yaml", fo4_rule=None,
                cell=(0.07, "wu2013")),
    "n7": dict(node_nm=7, vdd=0.7, energy=poly(7, 0.7) / E45,
               energy_rule="stillmaker2017: E7(0.7 V) / E45(0.9 V) = (0.1776 x 0.49 - 0.09097 x 0.7 + 0.02447) / "
                           "(1.103 x 0.81 - 0.362 x 0.9 + 0.2767)",
               density=91.2, density_source="wikichip", density_rule=None,
               fo4=5.9, fo4_source="nodes_yaml", fo4_rule=None,
               cell=(0.027, "wu2016")),
    "n5": dict(node_nm=5, vdd=0.7, energy=0.7 * poly(7, 0.7) / E45,
               energy_rule="tsmc_n5 (30% less power than N7 at the same speed) applied to the n7 factor: "
                           "0.7 x E7(0.7 V) / E45(0.9 V) (Stillmaker & Baas stop at 7 nm)",
               density=171.3, density_source="wikichip", density_rule=None,
               fo4=5.1, fo4_source="nodes_yaml", fo4_rule=None,
               cell=(0.021, "yeap2019")),
}

REFS_EXTRA = {
    "stillmaker2017": "A. Stillmaker and B. Baas, \"Scaling equations for the accurate prediction of CMOS device "
                      "performance from 180 nm to 7 nm\", Integration, the VLSI Journal 58 (2017) 74-81, "
                      "doi:10.1016/j.vlsi.2017.02.002. Energy per operation vs supply, E(V) = a V^2 + b V + c per node "
                      "(HSpice on PTM/ITRS models, normalised so that E45(1.0 V) ~ 1); coefficients a, b, c: 65 nm "
                      "(3.755, -4.398, 1.975), 45 nm (1.103, -0.362, 0.2767), 32 nm (0.9559, -0.7823, 0.471), 22 nm "
                      "(0.373, -0.1582, 0.04104), 16 nm (0.2958, -0.1241, 0.03024), 7 nm (0.1776, -0.09097, 0.02447); "
                      "area factors from 45 nm: 65 nm 1.5, 32 nm 0.46, 22 nm 0.21 (as transcribed in the public "
                      "nodeScale / accelergy-style scaling tables that cite the paper; the paper's erratum quotes the "
                      "65 nm row 3.755, -4.398, 1.975).",
    "wikichip": "WikiChip, 'MTr/mm2' (foundry-reported logic transistor densities, Bohr's metric 0.6 x NAND2 + 0.4 x "
                "scan flip-flop): Intel 45 nm 3.33, TSMC 16FF+ 28.88, TSMC N7 91.2, TSMC N5 171.3 MTr/mm2 "
                "(https://en.wikichip.org/wiki/mtr-mm%C2%B2); the same figures as rtl/synth's nodes.yaml.",
    "fo4_rule": "Rule of thumb: FO4 inverter delay ~ 1/3 ns per um of drawn gate length for planar CMOS (Ho, Mai, "
                "Horowitz, 'The Future of Wires', Proc. IEEE 89(4), 2001, express gate speed in FO4); as in "
                "hwsim/power/data/nodes/nodes.yaml.",
    "nodes_yaml": "hwsim/power/data/nodes/nodes.yaml (rtl.synth's node table): FinFET FO4 estimates 16 nm 8.0 ps, "
                  "7 nm 5.9 ps (tsmc_n7: /1.35), 5 nm 5.1 ps (tsmc_n5: /1.15); estimates, kept identical here so "
                  "that synthesis and the tech tables agree.",
    "tsmc_n5": "TSMC, 5nm technology page: N5 offers 15% faster speed at the same power or 30% power reduction at "
               "the same speed than N7 (https://www.tsmc.com/english/dedicatedFoundry/technology/logic/l_5nm).",
    "wu2013": "S.-Y. Wu et al., \"A 16nm FinFET CMOS technology for mobile SoC and computing applications\", IEDM "
              "2013: 0.07 um2 high-density 6T SRAM cell.",
    "wu2016": "S.-Y. Wu et al., \"A 7nm CMOS platform technology featuring 4th generation FinFET transistors with a "
              "0.027um2 high density 6-T SRAM cell for mobile SoC applications\", IEDM 2016.",
    "yeap2019": "G. Yeap et al., \"5nm CMOS production technology platform featuring full-fledged EUV, and high "
                "mobility channel FinFETs with densest 0.021um2 SRAM cells for mobile SoC and high performance "
                "computing applications\", IEDM 2019.",
    "keckler2011": "S. W. Keckler, W. J. Dally, B. Khailany, M. Garland, D. Glasco, \"GPUs and the future of parallel "
                   "computing\", IEEE Micro 31(5), 2011, Table 1: at 40 nm, 0.9 V, 'Wire energy (256 bits, 10 mm) "
                   "310 pJ' (random data, 50% transition probability) = 0.1211 pJ per bit per mm; 'wire "
                   "capacitance per mm remains approximately constant across process generations' (10 nm, 0.75 V: "
                   "200 pJ).",
    "oconnor2017": "M. O'Connor et al., \"Fine-Grained DRAM: Energy-Efficient DRAM for Extreme Bandwidth Systems\", "
                   "MICRO-50, 2017: an HBM2 access costs about 3.9 pJ per bit.",
    "hbm2e_preset": "hwsim/memory/data/dram_presets.yaml, preset hbm2e, energy.act_pre_pj = 414 pJ per ACT+PRE of a "
                    "1 KB pseudo-channel row (micron_tn4007 method with DRAMsim3 HBM2 currents; derivation in that "
                    "file).",
    "hoti2025_das_sharma": "D. Das Sharma (Intel) et al., UCIe talk at IEEE Hot Interconnects 2025 (as summarised by "
                           "Converge Digest, dev.convergedigest.com/?p=104749): UCIe 2.5D (advanced package) "
                           "0.25 pJ/b at <= 16 GT/s, 0.3 pJ/b above; 2D (standard) 0.5 / 0.6 pJ/b; as in "
                           "hwsim/chiplet/data/d2d_links.yaml.",
}


def node_block(spec: dict, area_factor: float) -> dict:
    v = spec["vdd"]
    wire = sig(310 / 2560 * (v / 0.9) ** 2)
    out = {
        "logic_density_mtr_per_mm2": {"value": sig(spec["density"]), "source": spec["density_source"]},
        "fo4_ps": {"value": spec["fo4"], "source": spec["fo4_source"]},
        "wire_pj_per_bit_mm": {"value": wire, "source": "derived",
                               "rule": f"keckler2011 40 nm, 0.9 V: 310 pJ / (256 bits x 10 mm) = 0.1211, x (V / 0.9)^2 "
                                       f"(capacitance per mm constant, CV^2): 0.1211 x ({v} / 0.9)^2"},
        "noc_hop_mm": {"value": 1.0, "source": "hwsim",
                       "rule": "assumption: one router-to-router hop is 1 mm of wire (a ~1 mm2 tile)"},
        "noc_pj_per_byte_hop": {"value": sig(8 * wire * 1.0), "source": "derived",
                                "rule": "8 bits x wire_pj_per_bit_mm x noc_hop_mm (link wire only; router buffers "
                                        "and crossbar not included)"},
        "hbm_pj_per_bit": {"value": 3.9, "source": "oconnor2017"},
        "dram_activate_pj": {"value": 414.0, "source": "hbm2e_preset"},
        "leakage_w_per_mm2": {"value": sig(spec["density"] * 1e6 * 2e-9), "source": "hwsim",
                              "rule": "assumption (no published per-node figure used): 2 nW of leakage per transistor "
                                      "at the table's supply, times logic_density_mtr_per_mm2; replace with your "
                                      "library's figure"},
    }
    if spec["density_rule"]:
        out["logic_density_mtr_per_mm2"]["rule"] = spec["density_rule"]
    if spec["fo4_rule"]:
        out["fo4_ps"]["rule"] = spec["fo4_rule"]
    if spec["node_nm"] <= 16:
        out["d2d_pj_per_bit"] = {"value": 0.25, "source": "hoti2025_das_sharma",
                                 "rule": "UCIe advanced package (2.5D) at <= 16 GT/s"}
    return out


def main() -> None:
    base = yaml.safe_load((DATA / "horowitz45.yaml").read_text())
    for name, spec in NODES.items():
        e = sig(spec["energy"])
        a = sig(3.33 / spec["density"])
        refs = dict(base["references"])
        refs.update(REFS_EXTRA)
        ef = f"energy_factor {e}"
        af = f"area_factor {a}"
        t = {"name": name,
             "description": f"{spec['node_nm']} nm at {spec['vdd']} V: horowitz45 (45 nm, 0.9 V) energies x the "
                            f"Stillmaker-Baas energy factor, areas x the logic-density ratio; node parameters sourced "
                            f"entry by entry.",
             "node_nm": spec["node_nm"], "supply_v": spec["vdd"], "references": refs,
             "scaling": {"base": "horowitz45",
                         "energy_factor": {"value": e, "source": "derived", "rule": spec["energy_rule"]},
                         "area_factor": {"value": a, "source": "derived",
                                         "rule": f"45 nm logic density / this node's: 3.33 / {sig(spec['density'])}"}},
             "mult": {}, "add": {}}
        for kind in ("mult", "add"):
            for fmt, ent in base[kind].items():
                t[kind][fmt] = {"energy_pj": sig(ent["energy_pj"] * e), "area_um2": sig(ent["area_um2"] * a),
                                "source": "derived",
                                "rule": f"horowitz45 {kind}.{fmt} x {ef} (energy), x {af} (area)"}
        s = base["sram"]
        cell = spec["cell"]
        t["sram"] = {"access_bits": s["access_bits"],
                     "access_energy": {"source": "derived",
                                       "rule": f"horowitz45 points x {ef}; same per-segment power-law fit",
                                       "points": [{"capacity_bytes": p["capacity_bytes"],
                                                   "access_energy_pj": sig(p["access_energy_pj"] * e)}
                                                  for p in s["access_energy"]["points"]]},
                     "cell_area_um2": ({"value": cell[0], "source": cell[1]} if cell else
                                       {"value": sig(0.346 * a), "source": "derived",
                                        "rule": f"mistry2007 45 nm cell 0.346 um2 x {af}"}),
                     "array_efficiency": s["array_efficiency"]}
        t["dram"] = base["dram"]
        r = base["registers"]
        t["registers"] = {
            "area_um2_per_bit": {"value": sig(r["area_um2_per_bit"]["value"] * a), "source": "derived",
                                 "rule": f"nangate45 DFF_X1 4.522 um2 x {af}"},
            "energy_pj_per_bit": {"value": sig(r["energy_pj_per_bit"]["value"] * e), "source": "derived",
                                  "rule": f"horowitz45 registers.energy_pj_per_bit 0.0033 x {ef}"}}
        t["node"] = node_block(spec, a)
        header = (f"# hwsim technology table: {spec['node_nm']} nm, {spec['vdd']} V. GENERATED by tools/gen_tech_nodes.py "
                  f"from horowitz45.yaml;\n# every number names its source or the rule that derived it "
                  f"(tests/power/test_nodes.py re-derives each one).\n")
        (DATA / f"{name}.yaml").write_text(header + yaml.safe_dump(t, sort_keys=False, width=110, allow_unicode=True))
        print(name, "energy", e, "area", a)


if __name__ == "__main__":
    main()
