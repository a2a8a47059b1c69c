"""Stream FIFO and credit link vs their reference models on Amaranth's simulator, and the credit
link's throughput against its closed form min(1, credits / (latency + credit_latency + 2))."""

from amaranth.sim import Simulator
from hypothesis import given, settings
from hypothesis import strategies as st

from rtl.cosim.stream_model import CreditLinkModel, FifoModel, traffic
from rtl.stream import CreditLink, StreamFIFO


def run(dut, model, pattern):
    mismatches, out = [], 0

    async def bench(ctx):
        nonlocal out
        for cycle, (v, p, r) in enumerate(pattern):
            ctx.set(dut.i.valid, v)
            ctx.set(dut.i.payload, p)
            ctx.set(dut.o.ready, r)
            got = (bool(ctx.get(dut.i.ready)), ctx.get(dut.o.payload) if ctx.get(dut.o.valid) else None)
            if got != model.outputs(cycle):
                mismatches.append((cycle, got, model.outputs(cycle)))
            _, left = model.clock(cycle, v, p, r)
            out += left is not None
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return mismatches, out


@settings(max_examples=15, deadline=None, derandomize=True)
@given(depth=st.integers(1, 5), seed=st.integers(0, 1000), pv=st.floats(0.2, 1.0), pr=st.floats(0.2, 1.0))
def test_fifo_matches_reference(depth, seed, pv, pr):
    mism, _ = run(StreamFIFO(6, depth), FifoModel(depth), traffic(seed, 300, 6, pv, pr))
    assert mism == []


@settings(max_examples=15, deadline=None, derandomize=True)
@given(latency=st.integers(1, 4), credits=st.integers(1, 5), credit_latency=st.integers(1, 4),
       seed=st.integers(0, 1000), pv=st.floats(0.2, 1.0), pr=st.floats(0.2, 1.0))
def test_credit_link_matches_reference(latency, credits, credit_latency, seed, pv, pr):
    mism, _ = run(CreditLink(6, latency, credits, credit_latency), CreditLinkModel(latency, credits, credit_latency),
                  traffic(seed, 300, 6, pv, pr))
    assert mism == []


def test_credit_link_throughput_closed_form():
    for latency, credits, credit_latency in [(1, 1, 1), (2, 3, 2), (3, 16, 3), (4, 5, 1)]:
        cycles = 600
        pattern = [(True, i % 64, True) for i in range(cycles)]
        _, out = run(CreditLink(6, latency, credits, credit_latency), CreditLinkModel(latency, credits, credit_latency),
                     pattern)
        rate = min(1.0, credits / (latency + credit_latency + 2))
        first = latency + 1  # cycles before the first item can leave
        assert abs(out - rate * (cycles - first)) <= credits + 1
