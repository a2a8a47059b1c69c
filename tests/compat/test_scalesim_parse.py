"""Parsing of SCALE-Sim 3.0.0 inputs: .cfg, conv and GEMM topologies, and their error messages.

Expected values are computed by hand from SCALE-Sim's rules (topology_utils.py): ofmap =
ceil((ifmap - filter + stride) / stride), M = ofmap_h * ofmap_w, N = filters, K = fh * fw * channels.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.compat.scalesim import (
    Layer, read_scalesim_cfg, read_topology, run_scalesim_inputs, scalesim_sram_counts,
)
from hwsim.errors import ConfigError
from hwsim.pe.config import PEConfig
from hwsim.systolic.config import SystolicConfig

WORKLOADS = Path(__file__).resolve().parents[2] / "workloads" / "scalesim"

CFG = """\
[general]
run_name = my_run

[architecture_presets]
ArrayHeight:    16
ArrayWidth:     8
IfmapSramSzkB:   6
FilterSramSzkB:  7
OfmapSramSzkB:   8
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False

[sparsity]
SparsitySupport : false

[run_presets]
InterfaceBandwidth: CALC
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(excinfo: pytest.ExceptionInfo) -> list[str]:
    return excinfo.value.problems


# --- cfg ------------------------------------------------------------------------------------------
def test_cfg_fields_and_systolic_config(tmp_path: Path) -> None:
    sc = read_scalesim_cfg(write(tmp_path, "a.cfg", CFG))
    assert (sc.run_name, sc.rows, sc.cols, sc.dataflow) == ("my_run", 16, 8, "os")
    assert (sc.ifmap_sram_kib, sc.filter_sram_kib, sc.ofmap_sram_kib) == (6, 7, 8)
    assert sc.warnings == ()
    cfg = sc.to_systolic_config()
    assert (cfg.rows, cfg.cols, cfg.dataflow, cfg.memory_port) == (16, 8, "os", None)
    assert (cfg.sram.a_kib, cfg.sram.b_kib, cfg.sram.c_kib) == (6, 7, 8)
    assert cfg.pe == PEConfig()
    assert cfg.pe.input == "int8"
    fp = sc.to_systolic_config(pe=PEConfig(input="bf16", accumulator="fp32"))
    assert fp.pe.input == "bf16"


def test_cfg_keys_case_insensitive_and_spaces(tmp_path: Path) -> None:
    text = CFG.replace("ArrayHeight:    16", "ARRAYHEIGHT   =   12   ").replace("Dataflow : os", "dataflow:ws  ")
    sc = read_scalesim_cfg(write(tmp_path, "b.cfg", text))
    assert (sc.rows, sc.dataflow) == (12, "ws")


def test_cfg_shipped_example() -> None:
    sc = read_scalesim_cfg(WORKLOADS / "scale.cfg")
    assert (sc.rows, sc.cols, sc.dataflow) == (32, 32, "ws")


def test_cfg_warns_on_sparsity_and_user_bandwidth(tmp_path: Path) -> None:
    text = CFG.replace("SparsitySupport : false", "SparsitySupport : True").replace(
        "InterfaceBandwidth: CALC", "InterfaceBandwidth: USER")
    sc = read_scalesim_cfg(write(tmp_path, "w.cfg", text))
    assert len(sc.warnings) == 2
    assert "SparsitySupport" in sc.warnings[0] and "InterfaceBandwidth" in sc.warnings[1]


def test_cfg_error_messages_pinned(tmp_path: Path) -> None:
    text = (CFG.replace("ArrayHeight:    16", "ArrayHeight: 16.5").replace("Dataflow : os", "Dataflow : rs")
            .replace("OfmapSramSzkB:   8\n", "").replace("MemoryBanks:   1", "MemoryBanksX: 1"))
    path = write(tmp_path, "bad.cfg", text)
    with pytest.raises(ConfigError) as excinfo:
        read_scalesim_cfg(path)
    assert problems(excinfo) == [
        f"{path}: [architecture_presets] memorybanksx: unknown key (known: ArrayHeight, ArrayWidth, IfmapSramSzkB, "
        "FilterSramSzkB, OfmapSramSzkB, Dataflow, IfmapOffset, FilterOffset, OfmapOffset, Bandwidth, MemoryBanks, "
        "ReadRequestBuffer, WriteRequestBuffer)",
        f"{path}: [architecture_presets] ArrayHeight: must be an integer from 1 to 4096, got '16.5'",
        f"{path}: [architecture_presets] OfmapSramSzkB: required key is missing",
        f"{path}: [architecture_presets] Dataflow: must be one of os, ws, is, got 'rs'",
    ]


def test_cfg_upper_case_dataflow_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "up.cfg", CFG.replace("Dataflow : os", "Dataflow : WS"))
    with pytest.raises(ConfigError) as excinfo:
        read_scalesim_cfg(path)
    assert problems(excinfo) == [
        f"{path}: [architecture_presets] Dataflow: must be one of os, ws, is (lower case: SCALE-Sim 3.0.0 runs "
        "any other spelling as os), got 'WS'"]


def test_cfg_missing_file_and_section(tmp_path: Path) -> None:
    missing = tmp_path / "nope.cfg"
    with pytest.raises(ConfigError) as excinfo:
        read_scalesim_cfg(missing)
    assert problems(excinfo) == [f"{missing}: SCALE-Sim config file not found"]
    path = write(tmp_path, "nosec.cfg", "[general]\nrun_name = x\n[Extra]\na = 1\n")
    with pytest.raises(ConfigError) as excinfo:
        read_scalesim_cfg(path)
    assert problems(excinfo) == [
        f"{path}: [Extra]: unknown section (SCALE-Sim 3.0.0 sections: general, architecture_presets, "
        "network_presets, layout, sparsity, run_presets; names are case-sensitive)",
        f"{path}: [architecture_presets]: required section is missing",
    ]


def test_cfg_not_ini(tmp_path: Path) -> None:
    path = write(tmp_path, "x.cfg", "ArrayHeight: 8\n")
    with pytest.raises(ConfigError) as excinfo:
        read_scalesim_cfg(path)
    assert len(problems(excinfo)) == 1
    assert problems(excinfo)[0].startswith(f"{path}: not a valid SCALE-Sim .cfg (INI) file: ")
    assert "\n" not in problems(excinfo)[0]


# --- topologies -----------------------------------------------------------------------------------
CONV = """\
Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1     ,224         ,224        ,11           ,11          ,3       ,96        ,4      ,

Conv2, 27, 27, 5, 5, 96, 256, 1,
Rect, 10, 7, 3, 2, 4, 6, 2,
Sparse, 5, 5, 1, 1, 2, 3, 1, 2:4,
DwDP, 6, 6, 3, 3, 2, 1, 1,
"""


def test_conv_to_gemm_by_hand(tmp_path: Path) -> None:
    layers = read_topology(write(tmp_path, "conv.csv", CONV))
    assert [lay.name for lay in layers] == ["Conv1", "Conv2", "Rect", "Sparse", "DwDPChannel_0", "DwDPChannel_1"]
    c1 = layers[0]
    # ceil((224 - 11 + 4) / 4) = ceil(54.25) = 55 (no padding)
    assert (c1.ofmap_h, c1.ofmap_w) == (55, 55)
    assert (c1.m, c1.n, c1.k) == (55 * 55, 96, 11 * 11 * 3)
    assert c1.kind == "conv" and c1.stride == 4 and c1.channels == 3
    assert (layers[1].m, layers[1].n, layers[1].k) == (23 * 23, 256, 5 * 5 * 96)
    rect = layers[2]  # h: ceil((10-3+2)/2) = 5, w: ceil((7-2+2)/2) = 4
    assert (rect.ofmap_h, rect.ofmap_w, rect.m, rect.n, rect.k) == (5, 4, 20, 6, 3 * 2 * 4)
    assert (layers[3].m, layers[3].n, layers[3].k) == (25, 3, 2)  # sparsity column read and ignored
    assert layers[0].macs == 55 * 55 * 96 * 363


def test_depthwise_split(tmp_path: Path) -> None:
    layers = read_topology(write(tmp_path, "dw.csv", CONV), kind="conv")[-2:]
    # one layer per channel, channels = 1, Num Filter kept (as SCALE-Sim does)
    assert layers == [
        Layer("DwDPChannel_0", 16, 1, 9, 6, 6, 3, 3, 1, 1, 1),
        Layer("DwDPChannel_1", 16, 1, 9, 6, 6, 3, 3, 1, 1, 1),
    ]
    # only the upper-case "DP" marks depthwise, as in SCALE-Sim
    plain = read_topology(write(tmp_path, "dw2.csv", CONV.replace("DwDP", "Conv_dp")))
    assert plain[-1].name == "Conv_dp" and plain[-1].channels == 2 and plain[-1].k == 18


def test_gemm_topology(tmp_path: Path) -> None:
    text = "Layer, M, N, K,\nQKT, 1024, 1024, 64,\ndecode ,1, 4096, 4096 ,\n\nsp, 8, 8, 8, 2:4,\nnocomma,3,5,7\n"
    layers = read_topology(write(tmp_path, "g.csv", text))
    assert [(lay.name, lay.m, lay.n, lay.k) for lay in layers] == [
        ("QKT", 1024, 1024, 64), ("decode", 1, 4096, 4096), ("sp", 8, 8, 8), ("nocomma", 3, 5, 7)]
    assert all(lay.kind == "gemm" and lay.ifmap_h is None for lay in layers)
    assert read_topology(write(tmp_path, "g2.csv", text), kind="gemm") == layers


def test_auto_detection_by_header(tmp_path: Path) -> None:
    # a 5-column header with M, N, K names is GEMM; an 8-column one is conv
    assert read_topology(write(tmp_path, "a.csv", "Layer,M,N,K,Sparsity,\nx,2,3,4,\n"))[0].kind == "gemm"
    assert read_topology(write(tmp_path, "b.csv", CONV))[0].kind == "conv"


def test_shipped_workloads() -> None:
    conv = read_topology(WORKLOADS / "conv_small.csv")
    assert [(lay.m, lay.n, lay.k) for lay in conv[:4]] == [(49, 8, 27), (49, 12, 72), (49, 20, 12), (16, 5, 24)]
    assert len(conv) == 7
    gemm = read_topology(WORKLOADS / "gemm_small.csv")
    assert (gemm[0].m, gemm[0].n, gemm[0].k) == (1, 40, 24)
    alex = read_topology(WORKLOADS / "alexnet.csv")
    assert (alex[0].m, alex[0].n, alex[0].k) == (3025, 96, 363)
    assert [(lay.ofmap_h, lay.ofmap_w) for lay in alex] == [(55, 55), (27, 27), (13, 13), (13, 13), (13, 13)]
    assert len(read_topology(WORKLOADS / "bert_base_s128.csv")) == 6


def test_topology_error_messages_pinned(tmp_path: Path) -> None:
    text = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
            "ok, 8, 8, 3, 3, 1, 1, 1,\n"
            "bad, 8, x8, 3, 3, 0, 1, 1,\n"
            "short, 8, 8, 3,\n"
            "big, 4, 8, 5, 3, 1, 1, 1,\n"
            "sp, 8, 8, 3, 3, 1, 1, 1, half,\n")
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(ConfigError) as excinfo:
        read_topology(path, kind="conv")
    assert problems(excinfo) == [
        f"{path}, line 3, column 3 (IFMAP Width): must be an integer >= 1, got 'x8'",
        f"{path}, line 3, column 6 (Channels): must be an integer >= 1, got '0'",
        f"{path}, line 4: a conv layer has 8 columns (Layer name, IFMAP Height, IFMAP Width, Filter Height, "
        "Filter Width, Channels, Num Filter, Strides) and an optional sparsity N:M, got 4 in 'short, 8, 8, 3,'",
        f"{path}, line 5, column 4 (Filter Height): must be <= IFMAP Height (4), got 5",
        f"{path}, line 6, column 9 (sparsity N:M): must look like N:M with integers N and M, got 'half'",
    ]


def test_topology_header_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "nohdr.csv", "L0, 4, 4, 4,\n")
    with pytest.raises(ConfigError) as excinfo:
        read_topology(path)
    assert problems(excinfo) == [
        f"{path}, line 1: the first row must be a header (SCALE-Sim always skips it), got the layer row 'L0, 4, 4, 4,'"]
    path = write(tmp_path, "amb.csv", "a, b, c,\nx, 1, 2,\n")
    with pytest.raises(ConfigError) as excinfo:
        read_topology(path)
    assert problems(excinfo)[0].startswith(f"{path}, line 1: cannot tell a conv from a GEMM topology")
    path = write(tmp_path, "hdr.csv", "Layer, M, N, K,\n\n")
    with pytest.raises(ConfigError) as excinfo:
        read_topology(path)
    assert problems(excinfo) == [f"{path}: no layers (only a header row)"]
    with pytest.raises(ConfigError) as excinfo:
        read_topology(path, kind="matmul")
    assert problems(excinfo) == ["kind: must be one of auto, conv, gemm, got 'matmul'"]
    with pytest.raises(ConfigError) as excinfo:
        read_topology(tmp_path / "missing.csv")
    assert problems(excinfo) == [f"{tmp_path / 'missing.csv'}: SCALE-Sim topology file not found"]


# --- costing --------------------------------------------------------------------------------------
def test_run_scalesim_inputs(tmp_path: Path) -> None:
    cfg = write(tmp_path, "a.cfg", CFG)  # 16 x 8, os
    topo = write(tmp_path, "g.csv", "Layer, M, N, K,\nA, 20, 10, 30,\n")
    (row,) = run_scalesim_inputs(cfg, topo, "gemm")
    # by hand: folds = ceil(20/16) * ceil(10/8) = 4; per fold K + R + C - 2 = 52; minus 1 per layer
    assert row["cycles"] == 4 * 52 - 1
    assert (row["name"], row["m"], row["n"], row["k"], row["kind"]) == ("A", 20, 10, 30, "gemm")
    assert row["utilization"] == pytest.approx(100 * 20 * 10 * 30 / (16 * 8 * 207))
    assert row["mapping_efficiency"] == pytest.approx(100 * 200 / (4 * 128))
    assert row["sram_reads"] == {"a": 20 * 30 * 2, "b": 10 * 30 * 2, "c": 0}
    assert row["sram_writes"]["c"] == 200
    assert row["scalesim_sram"] == {"ifmap_reads": 1200, "filter_reads": 600, "ofmap_writes": 200 + 4 * 24}
    (hw,) = run_scalesim_inputs(cfg, topo, "gemm", accounting="hwsim")
    # cycle-true OS fold: K + r + c - 2 + R; folds (r, c) = (16,8), (4,8), (16,2), (4,2)
    assert hw["cycles"] == sum(30 + r + c - 2 + 16 for r in (16, 4) for c in (8, 2))


def test_run_scalesim_inputs_cl_face_agrees_with_cost(tmp_path: Path) -> None:
    cfg = write(tmp_path, "a.cfg", CFG.replace("ArrayHeight:    16", "ArrayHeight: 4").replace(
        "ArrayWidth:     8", "ArrayWidth: 4"))
    topo = write(tmp_path, "g.csv", "Layer, M, N, K,\nA, 5, 6, 7,\n")
    (cl,) = run_scalesim_inputs(cfg, topo, "gemm", accounting="hwsim", face="cl")
    (cost,) = run_scalesim_inputs(cfg, topo, "gemm", accounting="hwsim")
    assert cl["cycles"] == cost["cycles"] and cl["sram_reads"] == cost["sram_reads"]


def test_run_scalesim_inputs_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        run_scalesim_inputs(tmp_path / "x.cfg", tmp_path / "t.csv", "gemm", accounting="exact", face="rtl")
    assert problems(excinfo) == ["accounting: must be one of hwsim, scalesim, got 'exact'",
                                 "face: must be one of cost, cl, got 'rtl'"]
    with pytest.raises(ConfigError) as excinfo:
        run_scalesim_inputs(tmp_path / "x.cfg", tmp_path / "t.csv", "gemm", face="cl")
    assert len(problems(excinfo)) == 1 and problems(excinfo)[0].startswith("face: 'cl' is cycle-true")


def test_scalesim_sram_counts_ws_has_no_quirk() -> None:
    cfg = SystolicConfig(rows=8, cols=8, dataflow="ws")
    assert scalesim_sram_counts(cfg, 20, 10, 30) == {"ifmap_reads": 1200, "filter_reads": 300, "ofmap_writes": 800}


def test_docs_example_alexnet_conv1() -> None:
    # docs/scalesim.md, 32x32 WS: ceil(K/32) * ceil(N/32) folds of 2R + C + M - 2 cycles, minus 1
    rows = run_scalesim_inputs(WORKLOADS / "scale.cfg", WORKLOADS / "alexnet.csv", "conv")
    assert [row["cycles"] for row in rows] == [
        12 * 3 * (64 + 32 + 3025 - 2) - 1,  # Conv1: M 3025, N 96, K 363
        75 * 8 * (64 + 32 + 729 - 2) - 1,  # Conv2: M 729, N 256, K 2400
        72 * 12 * (64 + 32 + 169 - 2) - 1,  # Conv3: M 169, N 384, K 2304
        108 * 12 * (64 + 32 + 169 - 2) - 1,  # Conv4: K 3456
        108 * 8 * (64 + 32 + 169 - 2) - 1,  # Conv5: N 256
    ]
    assert rows[0]["mapping_efficiency"] == pytest.approx(100 * 363 * 96 / (36 * 32 * 32))
