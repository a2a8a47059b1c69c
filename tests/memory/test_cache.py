"""Cache: config errors, hand-counted traces, functional face vs an independent reference, CL face vs the
functional face and vs a reference timeline, and hand-computed CL timelines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hwsim.core import Simulation
from hwsim.errors import ConfigError, format_validation_error
from hwsim.memory.cache import (
    Cache, CacheCL, CacheConfig, CacheCounts, CacheRequest, CacheTraceDriver, FixedLatencyMemory,
    TransactionSplitter, cache_counts, run_cache_cl,
)

try:  # tests/memory may or may not be a package
    from tests.memory.cache_reference import reference_counts, reference_timeline
except ImportError:  # pragma: no cover
    from cache_reference import reference_counts, reference_timeline

COUNT_KEYS = ("reads", "writes", "hits", "misses", "read_misses", "write_misses", "evictions", "writebacks",
              "write_throughs", "bytes_from_next", "bytes_to_next")
HIT, MISS, MERGE = 0, 1, 2


def lines(**kw):
    with pytest.raises(ValidationError) as err:
        CacheConfig(**kw)
    return format_validation_error(err.value, "cache")


# --- config ---------------------------------------------------------------------------------------
def test_geometry_is_derived_either_way():
    a = CacheConfig(line_bytes=64, ways=4, sets=128)
    b = CacheConfig(line_bytes=64, ways=4, capacity_bytes=32 * 1024)
    assert a.capacity_bytes == 32 * 1024 and b.sets == 128 and a == b
    assert CacheConfig(line_bytes=64, ways=4, sets=128, capacity_bytes=32768).sets == 128
    assert CacheConfig(ways=12, sets=64).capacity_bytes == 12 * 64 * 64  # ways need not be a power of two


def test_config_messages_name_field_and_value():
    assert lines(line_bytes=48, sets=4) == ["cache.line_bytes: must be a power of two, got 48"]
    assert lines(sets=6) == ["cache.sets: must be a power of two, got 6"]
    assert lines(line_bytes=64, ways=4, capacity_bytes=3000) == [
        "cache.capacity_bytes: must be ways x line_bytes x a power-of-two number of sets (4 x 64 x 2^k bytes), "
        "got 3000 (11.7188 sets)"]
    assert lines(line_bytes=64, ways=4, capacity_bytes=3 * 4 * 64) == [
        "cache.capacity_bytes: must be ways x line_bytes x a power-of-two number of sets (4 x 64 x 2^k bytes), "
        "got 768 (3 sets)"]
    assert lines(line_bytes=64, ways=4, sets=8, capacity_bytes=4096) == [
        "cache.capacity_bytes: must equal sets x ways x line_bytes = 8 x 4 x 64 = 2048, got 4096"]
    assert lines() == ["cache.capacity_bytes: required unless sets is given, got None"]
    assert lines(ways=6, sets=4, replacement="plru") == [
        "cache.replacement: tree pseudo-LRU ('plru') needs a power-of-two number of ways, got ways=6"]
    assert lines(line_bytes=16, sets=4, access_bytes=32) == ["cache.access_bytes: must be <= line_bytes (16), got 32"]
    assert lines(sets=4, replacement="mru") == [
        "cache.replacement: Input should be 'lru', 'fifo', 'random' or 'plru', got 'mru'"]
    assert lines(sets=4, colour="red") == ["cache.colour: unknown key (not a field of this config)"]
    assert lines(sets=4, mshrs=0) == ["cache.mshrs: Input should be greater than or equal to 1, got 0"]


def test_parse_raises_config_error_with_one_line_per_problem():
    with pytest.raises(ConfigError) as err:
        CacheConfig.parse({"line_bytes": 48, "sets": 6, "mshrs": 0}, root="l1")
    assert err.value.problems == ["l1.line_bytes: must be a power of two, got 48",
                                  "l1.sets: must be a power of two, got 6",
                                  "l1.mshrs: Input should be greater than or equal to 1, got 0"]


def test_bad_trace_input_is_a_config_error():
    cfg = CacheConfig(sets=4)
    with pytest.raises(ConfigError, match=r"addrs\[1\]: must be a byte address >= 0, got -8"):
        cache_counts(cfg, [0, -8])
    with pytest.raises(ConfigError, match="is_write: must have one flag per address"):
        cache_counts(cfg, [0, 8], [True])
    with pytest.raises(ConfigError, match="addr: must be an integer byte address"):
        Cache(cfg).access(-1)
    with pytest.raises(ConfigError, match=r"issue_cycles\[2\]: must be >= 0 and >= the one before, got 1"):
        run_cache_cl(cfg, [0, 8, 16], issue_cycles=[0, 5, 1])


# --- hand-counted traces --------------------------------------------------------------------------
L = 16  # line bytes in the hand examples
A, B, C, D, E = (i * L for i in range(5))  # five lines; with sets=1 they all map to the one set


def counts(cfg, trace):
    return cache_counts(cfg, [a for a, _ in trace], [w for _, w in trace]).as_dict()


def ref(cfg, trace):
    return reference_counts(trace, sets=cfg.sets, ways=cfg.ways, line_bytes=cfg.line_bytes, policy=cfg.replacement,
                            write_back=cfg.write_policy == "write_back", seed=cfg.seed, access_bytes=cfg.access_bytes)


@pytest.mark.parametrize("policy", ["lru", "fifo", "plru", "random"])
def test_lru_thrashing_ways_plus_one_lines_in_one_set(policy):
    # 2 ways, 3 lines (A, B, C) cycled 4 times through one set. LRU and FIFO always evict the line needed
    # next, so all 12 accesses miss: 3 compulsory + 9 conflict misses, and every miss after the first
    # two evicts (10 evictions). 2-way tree-PLRU is exact LRU.
    cfg = CacheConfig(line_bytes=L, ways=2, sets=1, replacement=policy, seed=3)
    trace = [(x, False) for x in [A, B, C] * 4]
    got = counts(cfg, trace)
    assert got == {k: v for k, v in ref(cfg, trace).items()} | {"merges": 0}
    if policy != "random":
        assert (got["hits"], got["misses"], got["evictions"]) == (0, 12, 10)
    assert got["bytes_from_next"] == got["misses"] * L


def test_lru_fifo_and_plru_differ_by_hand():
    # 2 ways, trace A B A C B:
    #   LRU : A miss, B miss, A hit, C miss evicts B (least recent), B miss evicts A -> 1 hit, 4 misses, 2 evictions
    #   FIFO: A miss, B miss, A hit, C miss evicts A (first in),    B hit            -> 2 hits, 3 misses, 1 eviction
    trace = [(x, False) for x in (A, B, A, C, B)]
    lru = counts(CacheConfig(line_bytes=L, ways=2, sets=1), trace)
    fifo = counts(CacheConfig(line_bytes=L, ways=2, sets=1, replacement="fifo"), trace)
    assert (lru["hits"], lru["misses"], lru["evictions"]) == (1, 4, 2)
    assert (fifo["hits"], fifo["misses"], fifo["evictions"]) == (2, 3, 1)
    # 4 ways, trace A B C D A E B. Fills touch ways 0..3; tree bits (root, lower pair, upper pair) all end
    # pointing low; the hit on A (way 0) points root and lower pair high. E: root -> upper pair -> low -> way 2
    # (C) is evicted, while LRU evicts B. Then B: PLRU hit; LRU miss evicting C.
    #   LRU : misses A B C D E B = 6, hit A = 1, evictions 2
    #   PLRU: misses A B C D E = 5, hits A B = 2, evictions 1
    trace = [(x, False) for x in (A, B, C, D, A, E, B)]
    lru4 = counts(CacheConfig(line_bytes=L, ways=4, sets=1), trace)
    plru4 = counts(CacheConfig(line_bytes=L, ways=4, sets=1, replacement="plru"), trace)
    assert (lru4["hits"], lru4["misses"], lru4["evictions"]) == (1, 6, 2)
    assert (plru4["hits"], plru4["misses"], plru4["evictions"]) == (2, 5, 1)
    for cfg, got in ((CacheConfig(line_bytes=L, ways=4, sets=1), lru4),
                     (CacheConfig(line_bytes=L, ways=4, sets=1, replacement="plru"), plru4)):
        assert got == ref(cfg, trace) | {"merges": 0}


def test_write_back_and_write_through_by_hand():
    # Direct-mapped (1 way, 1 set), 16-byte lines, 8-byte stores; trace W A, R B, W B, R A, R B.
    trace = [(A, True), (B, False), (B, True), (A, False), (B, False)]
    # write-back + allocate: W A miss (fill, dirty); R B miss evicts dirty A (writeback); W B hit (dirty);
    # R A miss evicts dirty B (writeback); R B miss evicts clean A.
    wb = counts(CacheConfig(line_bytes=L, ways=1, sets=1), trace)
    assert wb == dict(reads=3, writes=2, hits=1, misses=4, read_misses=3, write_misses=1, merges=0, evictions=3,
                      writebacks=2, write_throughs=0, bytes_from_next=4 * L, bytes_to_next=2 * L)
    # write-through + no-allocate: W A miss (forwarded, not allocated); R B miss (fill); W B hit (forwarded);
    # R A miss evicts clean B; R B miss evicts clean A.
    wt = counts(CacheConfig(line_bytes=L, ways=1, sets=1, write_policy="write_through"), trace)
    assert wt == dict(reads=3, writes=2, hits=1, misses=4, read_misses=3, write_misses=1, merges=0, evictions=2,
                      writebacks=0, write_throughs=2, bytes_from_next=3 * L, bytes_to_next=2 * 8)


def test_access_returns_hit_or_miss_and_counts_accumulate():
    c = Cache(CacheConfig(line_bytes=L, ways=2, sets=2))
    assert [c.access(a) for a in (0, 4, 16, 32, 0)] == [False, True, False, False, True]
    assert c.counts.hits == 2 and c.counts.misses == 3
    assert c.run([16]).hits == 3  # counts carry on across calls
    assert c.counts.hit_rate == 0.5


def test_set_index_uses_the_line_address():
    cfg = CacheConfig(line_bytes=L, ways=1, sets=4)
    # lines 0..3 go to sets 0..3 (no conflicts); line 4 goes back to set 0 and evicts line 0
    got = cache_counts(cfg, [0, 16, 32, 48, 0, 64, 0])
    assert (got.hits, got.misses, got.evictions) == (1, 6, 2)


# --- functional face vs the independent reference ----------------------------------------------------
@st.composite
def cache_case(draw, max_len=120):
    policy = draw(st.sampled_from(["lru", "fifo", "random", "plru"]))
    ways = draw(st.sampled_from([1, 2, 4] if policy == "plru" else [1, 2, 3, 4]))
    cfg = CacheConfig(line_bytes=draw(st.sampled_from([4, 8, 16])), ways=ways, sets=draw(st.sampled_from([1, 2, 4])),
                      replacement=policy, seed=draw(st.integers(0, 2**32)),
                      write_policy=draw(st.sampled_from(["write_back", "write_through"])), access_bytes=4)
    # addresses in 1 to 3x as many lines as the cache holds (plus one), so that sets fill and lines get evicted
    n_lines = cfg.sets * cfg.ways * draw(st.integers(1, 3)) + 1
    access = st.tuples(st.integers(0, n_lines - 1), st.integers(0, cfg.line_bytes - 1), st.booleans())
    trace = draw(st.lists(access, min_size=max_len // 4, max_size=max_len))
    return cfg, [(line * cfg.line_bytes + offset, w) for line, offset, w in trace]


@settings(max_examples=200, deadline=None)
@given(cache_case())
def test_functional_face_matches_reference(case):
    cfg, trace = case
    got = counts(cfg, trace)
    want = ref(cfg, trace)
    assert {k: got[k] for k in COUNT_KEYS} == want
    assert got["merges"] == 0
    assert got["hits"] + got["misses"] == len(trace)


# --- CL face vs functional face and reference timeline -------------------------------------------------
@st.composite
def timed_case(draw):
    cfg, trace = draw(cache_case(max_len=60))
    cfg = cfg.model_copy(update=dict(mshrs=draw(st.integers(1, 3)), mshr_merge=draw(st.booleans()),
                                     hit_latency_cycles=draw(st.integers(1, 3)),
                                     miss_latency_cycles=draw(st.integers(0, 12))))
    gaps = draw(st.lists(st.sampled_from([0, 0, 0, 1, 1, 2, 5, 20]), min_size=len(trace), max_size=len(trace)))
    issue, t = [], 0
    for g in gaps:
        t += g
        issue.append(t)
    return CacheConfig.model_validate(cfg.model_dump()), trace, issue, draw(st.booleans())


@settings(max_examples=200, deadline=None)
@given(timed_case())
def test_cl_counts_equal_functional_and_timeline_equals_reference(case):
    cfg, trace, issue, burst = case  # burst: the trace handed over as one item, or request by request
    addrs, writes = [a for a, _ in trace], [w for _, w in trace]
    run = run_cache_cl(cfg, addrs, writes, issue_cycles=issue, burst=burst)
    fl = cache_counts(cfg, addrs, writes).as_dict()
    cl = run.counts.as_dict()
    # identical except that the CL face calls a functional hit on a line being filled a merge
    assert {k: cl[k] for k in COUNT_KEYS if k != "hits"} == {k: fl[k] for k in COUNT_KEYS if k != "hits"}
    assert cl["hits"] + cl["merges"] == fl["hits"]
    if not cfg.mshr_merge:
        assert cl["merges"] == 0 and cl["hits"] == fl["hits"]

    timeline, ref_counts = reference_timeline(
        trace, issue, mshrs=cfg.mshrs, merge=cfg.mshr_merge, hit_latency=cfg.hit_latency_cycles,
        miss_latency=cfg.miss_latency_cycles, sets=cfg.sets, ways=cfg.ways, line_bytes=cfg.line_bytes,
        policy=cfg.replacement, write_back=cfg.write_policy == "write_back", seed=cfg.seed,
        access_bytes=cfg.access_bytes)
    names = {"hit": HIT, "miss": MISS, "merge": MERGE}
    assert [(names[o], a, d) for o, a, d in timeline] == list(
        zip(run.outcome.tolist(), run.accept_cycle.tolist(), run.done_cycle.tolist()))
    assert {k: fl[k] for k in COUNT_KEYS} == ref_counts


@settings(max_examples=60, deadline=None)
@given(cache_case(max_len=80))
def test_cl_counts_equal_functional_when_merging_is_irrelevant(case):
    # one request every 50 cycles: every fill (<= 1 + 12 cycles) lands before the next lookup, so nothing
    # merges and no MSHR ever blocks; hits are then identical too
    cfg, trace = case
    cfg = CacheConfig.model_validate(cfg.model_dump() | dict(mshrs=1, miss_latency_cycles=12))
    addrs, writes = [a for a, _ in trace], [w for _, w in trace]
    run = run_cache_cl(cfg, addrs, writes, issue_cycles=[50 * i for i in range(len(trace))])
    assert run.counts == cache_counts(cfg, addrs, writes)
    assert run.mshr_stall_cycles == 0 and run.counts.merges == 0


# --- hand-computed CL timelines (hit latency 1, miss latency 10: a miss completes 11 cycles after lookup) ---
def timed(cfg, addrs, issue, writes=None):
    run = run_cache_cl(cfg, addrs, writes, issue_cycles=issue)
    return list(zip(run.outcome.tolist(), run.accept_cycle.tolist(), run.done_cycle.tolist())), run


def test_hits_after_misses():
    cfg = CacheConfig(line_bytes=L, ways=2, sets=2, mshrs=2, hit_latency_cycles=1, miss_latency_cycles=10)
    # A@0 miss: fills at 0+1+10 = 11. B (other set)@1 miss: fills at 12. A@11: the fill landed this cycle -> hit,
    # done 12. A+4 (same line)@12 hit, done 13. B@20 hit, done 21.
    got, run = timed(cfg, [A, B, A, A + 4, B], [0, 1, 11, 12, 20])
    assert got == [(MISS, 0, 11), (MISS, 1, 12), (HIT, 11, 12), (HIT, 12, 13), (HIT, 20, 21)]
    assert run.cycles == 21 and run.mshr_stall_cycles == 0


def test_mshr_merge():
    cfg = CacheConfig(line_bytes=L, ways=2, sets=2, mshrs=2, hit_latency_cycles=1, miss_latency_cycles=10)
    # A@0 miss (fill 11); A+8@1 and A@2 merge into its MSHR and complete with the fill at 11; B@3 miss, the
    # second MSHR (fill 14); A@10 still merges (fill at 11 > 10), done at max(11, 10 + 1) = 11; A@11 hit.
    got, run = timed(cfg, [A, A + 8, A, B, A, A], [0, 1, 2, 3, 10, 11])
    assert got == [(MISS, 0, 11), (MERGE, 1, 11), (MERGE, 2, 11), (MISS, 3, 14), (MERGE, 10, 11), (HIT, 11, 12)]
    assert (run.counts.misses, run.counts.merges, run.counts.hits) == (2, 3, 1)
    assert run.counts.bytes_from_next == 2 * L


def test_mshr_merge_respects_hit_latency():
    # hit latency 3, miss latency 0: A@0 miss fills at 3; A@1 merges; done at max(3, 1 + 3) = 4
    cfg = CacheConfig(line_bytes=L, ways=1, sets=1, mshrs=1, hit_latency_cycles=3, miss_latency_cycles=0)
    assert timed(cfg, [A, A], [0, 1])[0] == [(MISS, 0, 3), (MERGE, 1, 4)]


def test_mshr_full_blocks_the_front_end():
    cfg = CacheConfig(line_bytes=L, ways=2, sets=2, mshrs=1, hit_latency_cycles=1, miss_latency_cycles=10)
    # warm-up: C (set 0) misses at 0 and fills at 11. A@20 miss takes the only MSHR (fill 31). B@21 miss finds it
    # busy: the front end blocks until the fill at 31, looks B up at 31 (fill 42). C@22 is a hit but waits
    # behind B: looked up at 32, done 33. A@23 arrives after: looked up at 33, a hit (filled at 31), done 34.
    got, run = timed(cfg, [C, A, B, C, A], [0, 20, 21, 22, 23])
    assert got == [(MISS, 0, 11), (MISS, 20, 31), (MISS, 31, 42), (HIT, 32, 33), (HIT, 33, 34)]
    assert run.mshr_stall_cycles == 31 - 21


def test_merge_disabled_waits_for_the_fill():
    cfg = CacheConfig(line_bytes=L, ways=2, sets=2, mshrs=2, mshr_merge=False, hit_latency_cycles=1,
                      miss_latency_cycles=10)
    # A@0 miss (fill 11); A@1 waits for the fill, is looked up at 11 as a hit, done 12; B@2 waits behind it:
    # looked up at 12, a miss, fill at 23
    got, run = timed(cfg, [A, A, B], [0, 1, 2])
    assert got == [(MISS, 0, 11), (HIT, 11, 12), (MISS, 12, 23)]
    assert run.merge_stall_cycles == 10 and run.counts.merges == 0


def test_write_through_stores_are_posted():
    cfg = CacheConfig(line_bytes=L, ways=1, sets=1, mshrs=1, write_policy="write_through",
                      hit_latency_cycles=2, miss_latency_cycles=10)
    # W A@0: write miss, no allocate, no MSHR, done 2. R B@1: miss, fill 13. W C@2: write miss; needs no MSHR
    # so it does not block although the only MSHR is busy: done 4.
    got, run = timed(cfg, [A, B, C], [0, 1, 2], writes=[True, False, True])
    assert got == [(MISS, 0, 2), (MISS, 1, 13), (MISS, 2, 4)]
    assert run.counts.write_throughs == 2 and run.counts.bytes_to_next == 2 * 8


def test_evicting_a_line_being_filled():
    cfg = CacheConfig(line_bytes=L, ways=1, sets=1, mshrs=2, hit_latency_cycles=1, miss_latency_cycles=10)
    # A@0 miss (fill 11). B@1 miss evicts A although its fill is pending (fill 12). A@2: A is not resident, so
    # it is a miss again, but A's old MSHR stays busy until its fill: both MSHRs are busy, the front end waits
    # for the fill at 11 and A misses then (fill 22), evicting B. Three misses and two evictions, as the
    # functional face counts.
    got, run = timed(cfg, [A, B, A], [0, 1, 2])
    assert got == [(MISS, 0, 11), (MISS, 1, 12), (MISS, 11, 22)]
    assert run.counts == cache_counts(cfg, [A, B, A])


# --- done events and pluggable next levels ----------------------------------------------------------
def test_done_events_fire_at_the_done_cycle():
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    cfg = CacheConfig(line_bytes=L, ways=2, sets=2, hit_latency_cycles=2, miss_latency_cycles=5)
    cache = CacheCL(sim, "l1", clk, cfg)
    reqs = [CacheRequest(A, issue_cycle=0, done=sim.env.event()), CacheRequest(A, issue_cycle=1, done=sim.env.event()),
            CacheRequest(A, issue_cycle=9, done=sim.env.event())]
    fired = []
    for r in reqs:
        r.done.callbacks.append(lambda ev: fired.append((ev.value, sim.env.now)))
    driver = CacheTraceDriver(sim, "cpu", clk, reqs)
    driver.connect("req_out", cache.ports["req_in"].channel)
    sim.run()
    assert [(r.outcome, r.done_cycle) for r in reqs] == [("miss", 7), ("merge", 7), ("hit", 11)]
    assert sorted(fired) == [(7, 7000), (7, 7000), (11, 11000)]
    assert "MSHRs 0/4" in cache.line_trace()


def test_two_level_hierarchy_by_hand():
    # L1 (hit 1) misses into an L2 CacheCL (hit 3), which misses into a fixed 20-cycle memory.
    # A@0: L1 miss, asks L2 at 1; L2 looks up at 1, misses, asks memory at 4, line back at 24 -> L2 fill 24,
    #      L1 fill 24. A@30: L1 hit, done 31.
    # B@31 (same L1 set as A, L1 is direct-mapped with 1 set) evicts A from L1: L1 miss, L2 miss -> 31+1+3+20 = 55.
    # A@60: L1 miss (evicted), L2 hit: L2 looks up at 61, done 64 -> L1 fill 64.
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    memory = FixedLatencyMemory(sim.env, clk, 20)
    l2 = CacheCL(sim, "l2", clk, CacheConfig(line_bytes=L, ways=4, sets=4, hit_latency_cycles=3), next_level=memory)
    l1 = CacheCL(sim, "l1", clk, CacheConfig(line_bytes=L, ways=1, sets=1, hit_latency_cycles=1), next_level=l2)
    reqs = [CacheRequest(a, issue_cycle=c) for a, c in ((A, 0), (A, 30), (B, 31), (A, 60))]
    driver = CacheTraceDriver(sim, "cpu", clk, reqs)
    driver.connect("req_out", l1.ports["req_in"].channel)
    sim.run()
    assert [(r.outcome, r.accept_cycle, r.done_cycle) for r in reqs] == [
        ("miss", 0, 24), ("hit", 30, 31), ("miss", 31, 55), ("miss", 60, 64)]
    assert (l2.stats["hits"], l2.stats["misses"]) == (1, 2)
    assert (memory.reads, memory.read_bytes) == (2, 2 * L)


def test_callable_next_level_and_line_split():
    # a bare callable as next level; an L1 line of 32 bytes spans two 16-byte lines of an L2
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    calls = []

    def memory(addr, nbytes, is_write):
        calls.append((addr, nbytes, is_write))
        return sim.env.timeout(7 * 1000)

    l2 = CacheCL(sim, "l2", clk, CacheConfig(line_bytes=16, ways=2, sets=2, hit_latency_cycles=1), next_level=memory)
    l1 = CacheCL(sim, "l1", clk, CacheConfig(line_bytes=32, ways=1, sets=1, hit_latency_cycles=1), next_level=l2)
    reqs = [CacheRequest(0, issue_cycle=0)]
    driver = CacheTraceDriver(sim, "cpu", clk, reqs)
    driver.connect("req_out", l1.ports["req_in"].channel)
    sim.run()
    # L1 asks L2 at 1 for bytes 0-31: two L2 requests, looked up at 1 and 2, each asks memory 1 cycle later
    # (at 2 and 3) -> back at 9 and 10; the L1 fill waits for both: done 10.
    assert calls == [(0, 16, False), (16, 16, False)]
    assert reqs[0].done_cycle == 10
    with pytest.raises(ConfigError, match="next_level: must have request"):
        CacheCL(sim, "bad", clk, CacheConfig(sets=1), next_level=42)


def test_counts_from_cl_stats_round_trip():
    cfg = CacheConfig(line_bytes=L, ways=2, sets=2)
    run = run_cache_cl(cfg, [0, 16, 0], [True, False, True])
    assert CacheCounts.from_mapping(run.stats) == run.counts



def test_fill_is_seen_in_its_own_cycle_whatever_the_event_order():
    # A next level whose response passes through many zero-delay SimPy events at cycle 13 (as a chain of
    # models handing the line on would). A@13 is looked up after every event of cycle 13, so it sees the fill:
    # a hit, done 14, not a merge.
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    env = sim.env

    def slow_handoff(addr, nbytes, is_write):
        done = env.event()

        def chain():
            yield env.timeout(12 * 1000)  # asked at 1, answered at 13
            for _ in range(20):
                yield env.timeout(0)
            done.succeed()

        env.process(chain())
        return done

    l1 = CacheCL(sim, "l1", clk, CacheConfig(line_bytes=L, ways=1, sets=1), next_level=slow_handoff)
    reqs = [CacheRequest(A, issue_cycle=0), CacheRequest(A, issue_cycle=13)]
    driver = CacheTraceDriver(sim, "cpu", clk, reqs)
    driver.connect("req_out", l1.ports["req_in"].channel)
    sim.run()
    assert [(r.outcome, r.accept_cycle, r.done_cycle) for r in reqs] == [("miss", 0, 13), ("hit", 13, 14)]


def test_fill_through_three_levels_is_seen_in_its_own_cycle():
    # L1 -> L2 -> L3 -> memory (10 cycles), every cache hit latency 1, all direct-mapped. A@0 misses everywhere:
    # L2 asked at 1, L3 at 2, memory at 3, line back at 13 and passed up the chain in the same cycle. A@13 is
    # looked up after the fills of cycle 13 (whatever order SimPy processes them in): a hit, done 14.
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    memory = FixedLatencyMemory(sim.env, clk, 10)
    level = memory
    caches = []
    for name in ("l3", "l2", "l1"):
        level = CacheCL(sim, name, clk, CacheConfig(line_bytes=L, ways=1, sets=1), next_level=level)
        caches.append(level)
    reqs = [CacheRequest(A, issue_cycle=0), CacheRequest(A, issue_cycle=13)]
    driver = CacheTraceDriver(sim, "cpu", clk, reqs)
    driver.connect("req_out", caches[-1].ports["req_in"].channel)
    sim.run()
    assert [(r.outcome, r.accept_cycle, r.done_cycle) for r in reqs] == [("miss", 0, 13), ("hit", 13, 14)]


def test_transaction_memory_behind_a_splitter():
    # a memory of 32-byte transactions (like a DRAM pseudo channel) that answers each after 5 + 3 x (its index
    # among those in flight) cycles. A 64-byte line is two transactions, issued at once at lookup + hit latency.
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    log = []

    class Transactions:
        transaction_bytes = 32

        def request(self, addr, is_write):
            log.append((sim.env.now // 1000, addr, is_write))
            return sim.env.timeout((5 + 3 * (len(log) - 1)) * 1000)

    mem = TransactionSplitter(Transactions())
    cache = CacheCL(sim, "l2", clk, CacheConfig(line_bytes=64, ways=1, sets=1, hit_latency_cycles=2), next_level=mem)
    reqs = [CacheRequest(0x40, is_write=True, issue_cycle=0), CacheRequest(0x80, issue_cycle=1)]
    driver = CacheTraceDriver(sim, "cpu", clk, reqs)
    driver.connect("req_out", cache.ports["req_in"].channel)
    sim.run()
    # 0x40@0: transactions 0x40, 0x60 asked at 2, back at 7 and 10 -> done 10. 0x80@1 evicts the dirty 0x40 line:
    # its writeback (2 transactions) and its fill (2 transactions) are all issued at 3.
    assert log == [(2, 0x40, False), (2, 0x60, False), (3, 0x40, True), (3, 0x60, True), (3, 0x80, False),
                   (3, 0xA0, False)]
    assert [r.done_cycle for r in reqs] == [10, 3 + 5 + 3 * 5]
    assert mem.transactions == 6
    with pytest.raises(ConfigError, match="memory: must have request"):
        TransactionSplitter(object())
