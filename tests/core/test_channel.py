"""Channel latency, bandwidth and back-pressure against hand-computed timelines (1 cycle = 1000 ps)."""

import pytest

from hwsim.core import Channel, Link, Simulation
from hwsim.errors import ConfigError

P = 1000  # ps per cycle


def make(capacity=None, latency=0, bpc=None):
    sim = Simulation()
    clk = sim.clock("clk", P)
    return sim, clk, Channel(sim.env, clk, "ch", capacity=capacity, latency_cycles=latency, bytes_per_cycle=bpc)


def test_single_transfer_serialisation_plus_latency():
    # 8 bytes at 4 B/cycle: link busy cycles 0-1; usable 3 cycles later -> cycle 5
    sim, clk, ch = make(latency=3, bpc=4)
    got, sent = [], []

    def producer():
        yield from ch.put("x", 8)
        sent.append(clk.now_cycles)

    def consumer():
        item = yield ch.get()
        got.append((item, clk.now_cycles))

    sim.env.process(producer())
    sim.env.process(consumer())
    sim.env.run()
    assert sent == [2]
    assert got == [("x", 5)]


def test_partial_last_beat_rounds_up():
    # 10 bytes at 4 B/cycle = 3 cycles (ceil)
    sim, clk, ch = make(latency=0, bpc=4)
    assert ch.link.serialisation_cycles(10) == 3
    arrivals = []

    def producer():
        yield from ch.put("x", 10)

    def consumer():
        yield ch.get()
        arrivals.append(clk.now_cycles)

    sim.env.process(producer())
    sim.env.process(consumer())
    sim.env.run()
    assert arrivals == [3]


def test_back_to_back_pipelined_bandwidth():
    # three 8-byte items, 4 B/cycle, latency 3, unbounded FIFO: sends 0-2, 2-4, 4-6 -> arrive 5, 7, 9
    sim, clk, ch = make(latency=3, bpc=4)
    arrivals = []

    def producer():
        for i in range(3):
            yield from ch.put(i, 8)

    def consumer():
        for _ in range(3):
            item = yield ch.get()
            arrivals.append((item, clk.now_cycles))

    sim.env.process(producer())
    sim.env.process(consumer())
    sim.env.run()
    assert arrivals == [(0, 5), (1, 7), (2, 9)]
    assert ch.link.bytes_sent == 24 and ch.link.busy_cycles == 6


def test_back_pressure_when_full():
    # capacity 1: the next send may start only when the consumer has taken the previous item.
    # consumer takes an item, then works 10 cycles before asking again.
    # item0: send 0-2, usable 5, taken 5 | item1: credit at 5, send 5-7, usable 10, asked 15, taken 15
    # item2: credit at 15, send 15-17, usable 20, asked 25, taken 25
    sim, clk, ch = make(capacity=1, latency=3, bpc=4)
    sent, taken = [], []

    def producer():
        for i in range(3):
            yield from ch.put(i, 8)
            sent.append(clk.now_cycles)

    def consumer():
        for _ in range(3):
            item = yield ch.get()
            taken.append((item, clk.now_cycles))
            yield clk.cycles(10)

    sim.env.process(producer())
    sim.env.process(consumer())
    sim.env.run()
    assert sent == [2, 7, 17]
    assert taken == [(0, 5), (1, 15), (2, 25)]


def test_capacity_two_lets_sender_run_ahead():
    # capacity 2, consumer never reads: two items get sent, the third waits forever for a credit
    sim, clk, ch = make(capacity=2, latency=1, bpc=8)
    sent = []

    def producer():
        for i in range(3):
            yield from ch.put(i, 8)
            sent.append(clk.now_cycles)

    sim.env.process(producer())
    sim.env.run(until=100 * P)
    assert sent == [1, 2]
    assert ch.occupancy == 2


def test_unlimited_bandwidth_is_pure_latency():
    sim, clk, ch = make(latency=7)
    arrivals = []

    def producer():
        for i in range(3):
            yield from ch.put(i, 10_000)

    def consumer():
        for _ in range(3):
            yield ch.get()
            arrivals.append(clk.now_cycles)

    sim.env.process(producer())
    sim.env.process(consumer())
    sim.env.run()
    assert arrivals == [7, 7, 7]


def test_shared_link_serialises_two_channels():
    # one 2 B/cycle link feeding two FIFOs: x (4 B) sends 0-2, y (6 B) waits then sends 2-5
    sim = Simulation()
    clk = sim.clock("clk", P)
    link = Link(sim.env, clk, "port", bytes_per_cycle=2, latency_cycles=1)
    cx = Channel(sim.env, clk, "x", capacity=1, link=link)
    cy = Channel(sim.env, clk, "y", capacity=1, link=link)
    seen = {}

    def send(ch, name, n):
        yield from ch.put(name, n)

    def recv(ch):
        item = yield ch.get()
        seen[item] = clk.now_cycles

    sim.env.process(send(cx, "x", 4))
    sim.env.process(send(cy, "y", 6))
    sim.env.process(recv(cx))
    sim.env.process(recv(cy))
    sim.env.run()
    assert seen == {"x": 3, "y": 6}


@pytest.mark.parametrize("kwargs, message", [
    ({"capacity": 0}, "ch.capacity: must be an integer >= 1 or None (unbounded), got 0"),
    ({"bytes_per_cycle": 0}, "ch.bytes_per_cycle: must be an integer >= 1 or None (unlimited), got 0"),
    ({"latency_cycles": -1}, "ch.latency_cycles: must be an integer >= 0, got -1"),
])
def test_bad_parameters_name_the_field(kwargs, message):
    sim = Simulation()
    clk = sim.clock("clk", P)
    with pytest.raises(ConfigError) as err:
        Channel(sim.env, clk, "ch", **kwargs)
    assert str(err.value) == message
