"""Banked scratchpad: config errors, bank mappings by hand, cost face == CL face (hypothesis), the strided
closed form, completion events, energy and area against hand sums from Horowitz's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hwsim.core import Channel, Simulation
from hwsim.errors import ConfigError, format_validation_error
from hwsim.memory.scratchpad import (
    ScratchpadCL, ScratchpadConfig, WordRequest, batch_cycles, pattern_cycles, physical_banks_of, run_scratchpad_cl,
    scratchpad_area_mm2, scratchpad_cost, scratchpad_energy_pj, strided_batch_cycles,
)
from hwsim.power import load_tech


def lines(**kw):
    with pytest.raises(ValidationError) as err:
        ScratchpadConfig(**kw)
    return format_validation_error(err.value, "spad")


# --- config -----------------------------------------------------------------------------------------
def test_config_messages_name_field_and_value():
    assert lines(capacity_bytes=1000, word_bytes=8, banks=4) == [
        "spad.capacity_bytes: must be a multiple of banks x word_bytes = 32 so every bank holds whole words, got 1000"]
    assert lines(capacity_bytes=96, word_bytes=8, banks=4, double_buffered=True) == [
        "spad.capacity_bytes: must be a multiple of 2 buffers x banks x word_bytes = 64 so every bank holds whole "
        "words, got 96"]
    assert lines(capacity_bytes=768, word_bytes=8, banks=6, bank_mapping="xor") == [
        "spad.bank_mapping: 'xor' needs a power-of-two number of banks, got banks=6"]
    assert lines(capacity_bytes=1024, word_bytes=8, banks=4, interleave_words=3) == [
        "spad.interleave_words: words per buffer (128) must be a multiple of interleave_words x banks = 12, got 3"]
    assert lines(capacity_bytes=1024, banks=0) == ["spad.banks: Input should be greater than or equal to 1, got 0"]
    assert lines(capacity_bytes=1024, bank_mapping="hash") == [
        "spad.bank_mapping: Input should be 'interleaved', 'blocked' or 'xor', got 'hash'"]
    assert lines(capacity_bytes=1024, ports=2) == ["spad.ports: unknown key (not a field of this config)"]
    assert lines(banks=4) == ["spad.capacity_bytes: required field is missing"]
    # two problems, two lines
    assert len(lines(capacity_bytes=1000, word_bytes=8, banks=6, bank_mapping="xor")) == 2


def test_parse_raises_config_error():
    with pytest.raises(ConfigError) as err:
        ScratchpadConfig.parse({"capacity_bytes": 0, "read_ports_per_bank": 0})
    assert err.value.problems == ["scratchpad.read_ports_per_bank: Input should be greater than or equal to 1, got 0",
                                  "scratchpad.capacity_bytes: Input should be greater than or equal to 1, got 0"]


def test_addresses_out_of_range_are_config_errors():
    cfg = ScratchpadConfig(capacity_bytes=1024, word_bytes=8, banks=4)
    with pytest.raises(ConfigError, match=r"batches\[1\]\[0\].addr: must be in \[0, 1024\) bytes, got 1024"):
        scratchpad_cost(cfg, [[0], [1024]])
    with pytest.raises(ConfigError, match=r"batches\[0\]\[0\].addr: must be an integer byte address, got 'x'"):
        run_scratchpad_cl(cfg, [["x"]])


def test_derived_sizes():
    cfg = ScratchpadConfig(capacity_bytes=64 * 1024, word_bytes=8, banks=4, double_buffered=True)
    assert (cfg.buffers, cfg.buffer_bytes, cfg.physical_banks, cfg.bank_capacity_bytes) == (2, 32768, 8, 8192)
    assert (cfg.words_per_buffer, cfg.words_per_bank, cfg.buffer_base(1)) == (4096, 1024, 32768)
    with pytest.raises(ConfigError, match=r"buffer: must be in \[0, 2\), got 2"):
        cfg.buffer_base(2)


# --- bank mappings by hand --------------------------------------------------------------------------
def test_bank_mappings_by_hand():
    words = np.arange(10) * 4  # byte addresses of words 0..9, 4-byte words
    base = dict(capacity_bytes=256, word_bytes=4, banks=4)  # 64 words, 16 per bank
    assert physical_banks_of(ScratchpadConfig(**base), words).tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert physical_banks_of(ScratchpadConfig(**base, interleave_words=2), words).tolist() == [
        0, 0, 1, 1, 2, 2, 3, 3, 0, 0]
    blocked = ScratchpadConfig(**base, bank_mapping="blocked")
    assert physical_banks_of(blocked, np.array([0, 60, 64, 128, 255])).tolist() == [0, 0, 1, 2, 3]
    # xor: (w mod 4) ^ ((w // 4) mod 4); words 0, 4, 8, 12 (a stride of 4 = banks) -> banks 0, 1, 2, 3
    xor = ScratchpadConfig(**base, bank_mapping="xor")
    assert physical_banks_of(xor, np.array([0, 4, 8, 12, 5]) * 4).tolist() == [0, 1, 2, 3, 0]
    # double-buffered: buffer 1 (bytes 128..255) has banks 4..7
    db = ScratchpadConfig(**base, double_buffered=True)
    assert physical_banks_of(db, np.array([0, 4, 128, 132])).tolist() == [0, 1, 4, 5]


# --- hand-computed timing ---------------------------------------------------------------------------
def test_bank_conflicts_by_hand():
    cfg = ScratchpadConfig(capacity_bytes=1024, word_bytes=4, banks=4)  # word-interleaved, 1R + 1W port per bank
    # batch 0: words 0, 4, 8 are all in bank 0 -> 3 cycles (2 stall cycles, all bank conflicts)
    # batch 1: a read and a write to bank 1 use different ports -> 1 cycle
    # batch 2: 8 reads, 2 per bank -> 2 cycles, but 4 banks x 1 port can never do 8 reads in 1: no conflict stall
    batches = [[0, 16, 32], [(4, False), (4, True)], list(range(0, 32, 4))]
    cost = scratchpad_cost(cfg, batches, per_request=True)
    assert cost.batch_cycles == [3, 1, 2]
    assert cost.cycles == 6 and cost.done_cycle == 6  # last served in cycle 5, + 1 cycle latency
    assert cost.stats == {"batches": 3, "reads": 12, "writes": 1, "read_bytes": 48, "write_bytes": 4,
                          "busy_cycles": 6, "stall_cycles": 3, "conflict_stall_cycles": 2}
    # served in cycles 0, 1, 2 (batch 0), 3 (batch 1), 4 and 5 (batch 2, words 0-3 then 4-7); done 1 cycle later
    assert cost.request_done_cycles == [[1, 2, 3], [4, 4], [5, 5, 5, 5, 6, 6, 6, 6]]
    cl = run_scratchpad_cl(cfg, batches)
    assert (cl.cycles, cl.done_cycle, cl.stats, cl.request_done_cycles) == (
        cost.cycles, cost.done_cycle, cost.stats, cost.request_done_cycles)


def test_ports_and_latency_by_hand():
    cfg = ScratchpadConfig(capacity_bytes=1024, word_bytes=4, banks=2, read_ports_per_bank=2, write_ports_per_bank=1,
                           access_latency_cycles=3)
    # bank 0 gets 5 reads (2 ports -> 3 cycles) and 2 writes (1 port -> 2 cycles): T = 3
    batch = [(0, False)] * 5 + [(8, True), (16, True)]
    assert batch_cycles(cfg, [a for a, _ in batch], [w for _, w in batch]) == 3
    cost = scratchpad_cost(cfg, [batch], per_request=True)
    assert cost.request_done_cycles == [[3, 3, 4, 4, 5, 3, 4]]
    assert cost.done_cycle == 5


def test_double_buffering_separates_fill_and_read():
    # 4 banks per buffer; the requester reads 4 words of buffer 0 while the DMA writes 4 words of buffer 1 and
    # the compute writes 4 results back into buffer 0: single buffer -> the 8 writes share 4 write ports (2 cycles);
    # double-buffered -> 8 write ports (1 cycle)
    reads = [(4 * i, False) for i in range(4)]
    single = ScratchpadConfig(capacity_bytes=512, word_bytes=4, banks=4)
    double = ScratchpadConfig(capacity_bytes=512, word_bytes=4, banks=4, double_buffered=True)
    writes = [(64 + 4 * i, True) for i in range(4)] + [(256 + 4 * i, True) for i in range(4)]
    assert scratchpad_cost(single, [reads + writes]).cycles == 2
    assert scratchpad_cost(double, [reads + writes]).cycles == 1


def test_empty_batch_takes_one_cycle():
    cfg = ScratchpadConfig(capacity_bytes=1024, word_bytes=4, banks=4)
    cost = scratchpad_cost(cfg, [[], [0], []])
    assert (cost.cycles, cost.done_cycle) == (3, 2)
    cl = run_scratchpad_cl(cfg, [[], [0], []])
    assert (cl.cycles, cl.done_cycle) == (3, 2)
    assert scratchpad_cost(cfg, []).cycles == run_scratchpad_cl(cfg, []).cycles == 0


def test_completion_events_fire_in_the_done_cycle():
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    cfg = ScratchpadConfig(capacity_bytes=1024, word_bytes=4, banks=4, access_latency_cycles=2)
    spad = ScratchpadCL(sim, "spad", clk, cfg)
    ch = Channel(sim.env, clk, "req", capacity=1)
    spad.connect("req_in", ch)
    fired = []
    reqs = [WordRequest(0, done=sim.env.event()), WordRequest(16, done=sim.env.event()), WordRequest(4, True)]

    def requester():
        yield from ch.put(reqs)
        yield sim.env.all_of([r.done for r in reqs if r.done is not None])
        fired.append(sim.env.now)

    for r in reqs[:2]:
        r.done.callbacks.append(lambda ev: fired.append((ev.value, sim.env.now)))
    sim.env.process(requester())
    sim.run()
    # words 0 and 4 (=16 bytes) share bank 0: served in cycles 0 and 1, done 2 and 3
    assert [(r.served_cycle, r.done_cycle) for r in reqs] == [(0, 2), (1, 3), (0, 2)]
    assert fired == [(2, 2000), (3, 3000), 3000]
    assert "0 waiting" in spad.line_trace()


def test_requester_is_back_pressured_while_a_batch_stalls():
    # a 4-way conflict holds the scratchpad 4 cycles; the requester's third put waits until it takes batch 1
    cfg = ScratchpadConfig(capacity_bytes=1024, word_bytes=4, banks=4)
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    spad = ScratchpadCL(sim, "spad", clk, cfg)
    ch = Channel(sim.env, clk, "req", capacity=1)
    spad.connect("req_in", ch)
    sent = []

    def requester():
        for batch in ([0, 16, 32, 48], [4], [8]):
            yield from ch.put([WordRequest(a) for a in batch])
            sent.append(clk.now_cycles)
            yield clk.cycles(1)

    sim.env.process(requester())
    sim.run()
    # batch 0 taken at 0 (busy 0-3); batch 1 put at 1 (waits in the channel), taken at 4; batch 2 put at 4
    assert sent == [0, 1, 4]
    assert spad.stats["busy_cycles"] == 6 and spad.stats["conflict_stall_cycles"] == 3


# --- cost face == CL face -------------------------------------------------------------------------
@st.composite
def spad_case(draw):
    banks = draw(st.sampled_from([1, 2, 3, 4, 8]))
    mapping = draw(st.sampled_from(["interleaved", "blocked"] + (["xor"] if banks in (1, 2, 4, 8) else [])))
    interleave = draw(st.sampled_from([1, 2])) if mapping == "interleaved" else 1
    buffers = draw(st.sampled_from([1, 2]))
    word = draw(st.sampled_from([1, 4, 8]))
    rows = draw(st.sampled_from([2, 4]))  # words per bank = rows x interleave
    cfg = ScratchpadConfig(capacity_bytes=buffers * banks * word * rows * interleave, word_bytes=word, banks=banks,
                           read_ports_per_bank=draw(st.integers(1, 3)), write_ports_per_bank=draw(st.integers(1, 2)),
                           bank_mapping=mapping, interleave_words=interleave,
                           access_latency_cycles=draw(st.integers(1, 4)), double_buffered=buffers == 2)
    access = st.tuples(st.integers(0, cfg.capacity_bytes - 1), st.booleans())
    batches = draw(st.lists(st.lists(access, max_size=12), max_size=6))
    return cfg, batches


@settings(max_examples=300, deadline=None)
@given(spad_case())
def test_cost_face_equals_cl_face_exactly(case):
    cfg, batches = case
    cost = scratchpad_cost(cfg, batches, per_request=True)
    cl = run_scratchpad_cl(cfg, batches)
    assert cost.cycles == cl.cycles
    assert cost.done_cycle == cl.done_cycle
    assert cost.stats == cl.stats
    assert cost.request_done_cycles == cl.request_done_cycles
    # many equal-size batches at once (vectorised over batches)
    lanes = min((len(b) for b in batches), default=0)
    if batches and lanes:
        a = np.array([[x for x, _ in b[:lanes]] for b in batches])
        w = np.array([[y for _, y in b[:lanes]] for b in batches])
        assert pattern_cycles(cfg, a, w).tolist() == [batch_cycles(cfg, r, f) for r, f in zip(a, w)]
    # the documented closed form, per batch: max over banks of ceil(requests to the bank / ports)
    for batch, t in zip(batches, cost.batch_cycles):
        per_bank = {}
        for addr, w in batch:
            key = (int(physical_banks_of(cfg, np.array([addr]))[0]), w)
            per_bank[key] = per_bank.get(key, 0) + 1
        ports = {False: cfg.read_ports_per_bank, True: cfg.write_ports_per_bank}
        assert t == max([1] + [math.ceil(n / ports[w]) for (_, w), n in per_bank.items()])


@settings(max_examples=200, deadline=None)
@given(banks=st.integers(1, 16), ports=st.integers(1, 3), lanes=st.integers(0, 40), stride=st.integers(0, 40),
       is_write=st.booleans())
def test_strided_closed_form(banks, ports, lanes, stride, is_write):
    cfg = ScratchpadConfig(capacity_bytes=banks * 4 * 2048, word_bytes=4, banks=banks, read_ports_per_bank=ports,
                           write_ports_per_bank=ports)
    addrs = [i * stride * 4 for i in range(lanes)]
    assert strided_batch_cycles(cfg, lanes, stride, is_write) == batch_cycles(cfg, addrs, [is_write] * lanes)


def test_strided_closed_form_by_hand_and_errors():
    cfg = ScratchpadConfig(capacity_bytes=32 * 1024, word_bytes=4, banks=32)
    # 32 lanes: stride 1 -> 1 cycle; stride 2 -> 16 banks, 2 each; stride 32 -> all in bank 0; stride 33 -> 1
    assert [strided_batch_cycles(cfg, 32, s) for s in (1, 2, 4, 32, 33)] == [1, 2, 4, 32, 1]
    with pytest.raises(ConfigError, match="bank_mapping: the strided closed form needs 'interleaved'"):
        strided_batch_cycles(ScratchpadConfig(capacity_bytes=1024, banks=4, bank_mapping="xor"), 4, 1)
    with pytest.raises(ConfigError, match="lanes: the last lane's word 8192 lies beyond buffer 0"):
        strided_batch_cycles(cfg, 2, 8192)


# --- energy and area ----------------------------------------------------------------------------------
# Horowitz ISSCC 2014 (45 nm): 64-bit SRAM access 10 pJ at 8 KB, 20 pJ at 32 KB; 6T cell 0.346 um2 (Intel 45 nm),
# array efficiency 0.7 (hwsim assumption), as in horowitz45.yaml.
SRAM_8K_PJ, SRAM_32K_PJ, CELL_UM2, EFFICIENCY = 10.0, 20.0, 0.346, 0.7


def test_energy_uses_the_per_bank_size():
    tech = load_tech("horowitz45")
    cfg = ScratchpadConfig(capacity_bytes=64 * 1024, word_bytes=8, banks=4)  # 16 KiB banks
    # 16 KiB lies on the 8 KB..32 KB segment, exponent log(20/10)/log(4) = 0.5: 10 x 2^0.5 pJ per 64-bit access
    pj_per_access = SRAM_8K_PJ * 2 ** 0.5
    stats = scratchpad_cost(cfg, [[(0, False), (8, False), (16, True)]]).stats  # 3 words of 8 bytes
    assert scratchpad_energy_pj(cfg, stats, tech) == pytest.approx(3 * pj_per_access)
    # a single 64 KiB bank costs more per access; four double-buffered 8 KiB banks less
    one_bank = ScratchpadConfig(capacity_bytes=64 * 1024, word_bytes=8, banks=1)
    slope = math.log(100 / 20) / math.log(32)  # 32 KB -> 1 MB segment: 20 -> 100 pJ
    assert scratchpad_energy_pj(one_bank, stats, tech) == pytest.approx(3 * SRAM_32K_PJ * 2 ** slope)
    db = ScratchpadConfig(capacity_bytes=64 * 1024, word_bytes=8, banks=4, double_buffered=True)
    assert scratchpad_energy_pj(db, stats, tech) == pytest.approx(3 * SRAM_8K_PJ)
    # 4-byte words pay half a 64-bit access; CL stats price the same as cost stats
    narrow = ScratchpadConfig(capacity_bytes=64 * 1024, word_bytes=4, banks=4)
    run = run_scratchpad_cl(narrow, [[0, 4, 8, 12]])
    assert scratchpad_energy_pj(narrow, run.stats, tech) == pytest.approx(4 * 0.5 * pj_per_access)


def test_area_is_banks_times_bank_macro():
    tech = load_tech("horowitz45")
    cfg = ScratchpadConfig(capacity_bytes=64 * 1024, word_bytes=8, banks=4, double_buffered=True)
    want = 8 * (8 * 1024 * 8 * CELL_UM2 / EFFICIENCY * 1e-6)  # 8 banks of 8 KiB
    assert scratchpad_area_mm2(cfg, tech) == pytest.approx(want)
    assert want == pytest.approx(0.259, abs=1e-3)  # the 64 KiB figure of docs/power.md
