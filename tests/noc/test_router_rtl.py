"""The router's RTL blocks (rtl.noc) on Amaranth's simulator against small Python references:
round-robin arbiter (exact grants, fairness), separable switch allocator (exact grants, at most one
grant per input and per output, only requested pairs), crossbar (moves the selected flits)."""

import random

import pytest
from amaranth.sim import Simulator

from hwsim.errors import ConfigError
from rtl.noc import Crossbar, RoundRobinArbiter, RouterCore, SwitchAllocator


# --- references ------------------------------------------------------------------------------------
class ArbiterRef:
    """Round robin: the first requester at or after the pointer (cyclically) wins; on ``advance`` the
    pointer moves just past the winner."""

    def __init__(self, n):
        self.n, self.ptr = n, 0

    def grant(self, req):
        for k in range(self.n):
            i = (self.ptr + k) % self.n
            if req >> i & 1:
                return i
        return None

    def clock(self, req, advance):
        g = self.grant(req)
        if advance and g is not None:
            self.ptr = (g + 1) % self.n
        return g


class AllocatorRef:
    """Input-first separable allocation with the same arbiters (see rtl.noc)."""

    def __init__(self, ports, vcs):
        self.P, self.V = ports, vcs
        self.inp = [ArbiterRef(vcs) for _ in range(ports)]
        self.out = [ArbiterRef(ports) for _ in range(ports)]

    def clock(self, want):
        """``want[p][v]``: requested output or None. Returns ({p: v}, {o: p})."""
        P, V = self.P, self.V
        vc_pick = {}
        for p in range(P):
            mask = sum(1 << v for v in range(V) if want[p][v] is not None)
            g = self.inp[p].grant(mask)
            if g is not None:
                vc_pick[p] = g
        out_win = {}
        for o in range(P):
            mask = sum(1 << p for p, v in vc_pick.items() if want[p][v] == o)
            g = self.out[o].clock(mask, True)
            if g is not None:
                out_win[o] = g
        winners = set(out_win.values())
        for p in range(P):
            mask = sum(1 << v for v in range(V) if want[p][v] is not None)
            self.inp[p].clock(mask, p in winners)
        return {p: vc_pick[p] for p in winners}, out_win


def simulate(dut, steps):
    """Run ``steps(ctx)`` (an async function) as the testbench of ``dut`` on a 1 MHz clock (purely
    combinational designs have no clock domain: benches then step with :func:`step`'s delay)."""
    sim = Simulator(dut)
    sim.add_clock(1e-6, if_exists=True)
    sim.add_testbench(steps)
    sim.run()


async def step(ctx, clocked=True):
    if clocked:
        await ctx.tick()
    else:
        await ctx.delay(1e-6)


def onehot_index(value):
    assert value & (value - 1) == 0, f"not one-hot: {value:b}"
    return value.bit_length() - 1 if value else None


# --- arbiter ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_arbiter_matches_reference(n):
    rng = random.Random(n)
    dut, ref = RoundRobinArbiter(n), ArbiterRef(n)
    bad = []

    async def bench(ctx):
        for cycle in range(200):
            req, adv = rng.getrandbits(n), rng.random() < 0.8
            ctx.set(dut.req, req)
            ctx.set(dut.advance, adv)
            got = onehot_index(ctx.get(dut.grant))
            want = ref.clock(req, adv)
            if got != want:
                bad.append((cycle, f"{req:0{n}b}", got, want))
            await step(ctx, clocked=n > 1)

    simulate(dut, bench)
    assert bad == []


@pytest.mark.parametrize("n", [2, 4, 7])
def test_arbiter_is_fair_under_full_load(n):
    """Everyone requesting every cycle: grants rotate 0, 1, ..., n-1, 0, ... (each exactly once per n)."""
    dut = RoundRobinArbiter(n)
    seq = []

    async def bench(ctx):
        ctx.set(dut.req, (1 << n) - 1)
        ctx.set(dut.advance, 1)
        for _ in range(3 * n):
            seq.append(onehot_index(ctx.get(dut.grant)))
            await ctx.tick()

    simulate(dut, bench)
    assert seq == [i % n for i in range(3 * n)]


def test_arbiter_holds_priority_without_advance():
    dut = RoundRobinArbiter(4)
    seq = []

    async def bench(ctx):
        ctx.set(dut.req, 0b1111)
        ctx.set(dut.advance, 1)
        await ctx.tick()  # 0 granted, pointer -> 1
        ctx.set(dut.advance, 0)
        for _ in range(3):
            seq.append(onehot_index(ctx.get(dut.grant)))
            await ctx.tick()
        ctx.set(dut.req, 0b0001)  # only 0 requests: wraps around past 1..3
        seq.append(onehot_index(ctx.get(dut.grant)))

    simulate(dut, bench)
    assert seq == [1, 1, 1, 0]


# --- switch allocator ------------------------------------------------------------------------------
def encode_req(want, P, V):
    bits = 0
    for p in range(P):
        for v in range(V):
            if want[p][v] is not None:
                bits |= 1 << ((p * V + v) * P + want[p][v])
    return bits


@pytest.mark.parametrize("P, V, load", [(3, 2, 0.6), (5, 2, 0.7), (5, 4, 0.9), (2, 1, 1.0)])
def test_allocator_matches_reference_and_is_a_matching(P, V, load):
    rng = random.Random(P * 100 + V)
    dut, ref = SwitchAllocator(P, V), AllocatorRef(P, V)
    bad, grants = [], 0

    async def bench(ctx):
        nonlocal grants
        for cycle in range(150):
            want = [[rng.randrange(P) if rng.random() < load else None for _ in range(V)] for _ in range(P)]
            ctx.set(dut.req, encode_req(want, P, V))
            vc_grant, out_grant = ctx.get(dut.vc_grant), ctx.get(dut.out_grant)
            got_vc = {p: onehot_index(vc_grant >> (p * V) & ((1 << V) - 1)) for p in range(P)}
            got_vc = {p: v for p, v in got_vc.items() if v is not None}
            got_out = {o: onehot_index(out_grant >> (o * P) & ((1 << P) - 1)) for o in range(P)}
            got_out = {o: p for o, p in got_out.items() if p is not None}
            # a matching: every input at most once over the outputs, and only requested (input VC, output) pairs
            assert len(set(got_out.values())) == len(got_out)
            assert sorted(got_out.values()) == sorted(got_vc)
            for o, p in got_out.items():
                assert want[p][got_vc[p]] == o
            grants += len(got_out)
            exp_vc, exp_out = ref.clock(want)
            if (got_vc, got_out) != (exp_vc, exp_out):
                bad.append((cycle, want, got_vc, got_out, exp_vc, exp_out))
            await ctx.tick()

    simulate(dut, bench)
    assert bad == []
    assert grants > 0


def test_allocator_serves_competing_inputs_in_turn():
    """All inputs want output 0 on every VC: output 0 grants inputs 0, 1, 2, 0, ...; each input's VCs take
    turns only when that input wins."""
    P, V = 3, 2
    dut = SwitchAllocator(P, V)
    seen = []

    async def bench(ctx):
        ctx.set(dut.req, encode_req([[0] * V for _ in range(P)], P, V))
        for _ in range(12):
            out0 = onehot_index(ctx.get(dut.out_grant) & 0b111)
            vc = onehot_index(ctx.get(dut.vc_grant) >> (out0 * V) & 0b11)
            seen.append((out0, vc))
            await ctx.tick()

    simulate(dut, bench)
    assert [p for p, _ in seen] == [i % P for i in range(12)]
    assert [v for _, v in seen] == [0, 0, 0, 1, 1, 1] * 2


# --- crossbar --------------------------------------------------------------------------------------
@pytest.mark.parametrize("P, W", [(3, 8), (5, 16)])
def test_crossbar_moves_selected_flits(P, W):
    rng = random.Random(W)
    dut = Crossbar(P, W)
    bad = []

    async def bench(ctx):
        for _ in range(100):
            flits = [rng.getrandbits(W) for _ in range(P)]
            src = [rng.randrange(P) if rng.random() < 0.8 else None for _ in range(P)]  # output o <- input src[o]
            ctx.set(dut.inp, sum(f << (p * W) for p, f in enumerate(flits)))
            ctx.set(dut.sel, sum(1 << (o * P + s) for o, s in enumerate(src) if s is not None))
            out, valid = ctx.get(dut.out), ctx.get(dut.out_valid)
            for o, s in enumerate(src):
                got = out >> (o * W) & ((1 << W) - 1)
                want = flits[s] if s is not None else 0
                if got != want or bool(valid >> o & 1) != (s is not None):
                    bad.append((o, s, got, want))
            await step(ctx, clocked=False)

    simulate(dut, bench)
    assert bad == []


def test_router_core_routes_the_winning_flit():
    P, V, W = 3, 2, 8
    dut = RouterCore(P, V, W)
    res = {}

    async def bench(ctx):
        want = [[2, None], [None, 0], [None, None]]  # input 0 VC 0 -> out 2, input 1 VC 1 -> out 0
        ctx.set(dut.req, encode_req(want, P, V))
        ctx.set(dut.inp, 0xA1 | 0xB2 << W | 0xC3 << (2 * W))
        res["out"], res["valid"], res["vc"] = ctx.get(dut.out), ctx.get(dut.out_valid), ctx.get(dut.vc_grant)

    simulate(dut, bench)
    assert res["valid"] == 0b101
    assert res["out"] == 0xB2 | 0xA1 << (2 * W)
    assert res["vc"] == 0b1 | 0b10 << V


@pytest.mark.parametrize("make, field", [(lambda: RoundRobinArbiter(0), "n"), (lambda: SwitchAllocator(1, 2), "ports"),
                                         (lambda: SwitchAllocator(5, 0), "vcs"), (lambda: Crossbar(5, True), "width")])
def test_bad_parameters_name_the_field(make, field):
    with pytest.raises(ConfigError, match=f"^{field}:"):
        make()
