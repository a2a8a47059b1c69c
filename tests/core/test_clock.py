"""Integer-picosecond clocks: several domains in one simulation stay exact."""

import pytest

from hwsim.core import Clock, Simulation
from hwsim.errors import ConfigError

N = 1_000_000


def test_two_clock_domains_exact_over_a_million_cycles():
    sim = Simulation()
    fast = sim.clock("core", 1000)  # 1 GHz
    slow = sim.clock("noc", 1250)  # 800 MHz
    ends = {}

    def ticker(clk):
        for _ in range(N):
            yield clk.cycles(1)
        ends[clk.name] = sim.env.now

    sim.env.process(ticker(fast))
    sim.env.process(ticker(slow))
    sim.env.run()
    assert ends == {"core": 1_000_000_000, "noc": 1_250_000_000}
    assert type(ends["core"]) is int and type(ends["noc"]) is int
    # at the core's millionth edge exactly 800 000 noc edges have passed, none partial
    assert 1_000_000_000 // slow.period_ps == 800_000
    assert slow.to_cycles(1_000_000_000) == 800_000
    # a float accumulation of the same period drifts; the integer kernel does not
    t = 0.0
    for _ in range(N):
        t += 0.8e-9
    assert t != 800e-6 * 1  # the float sum is not exact ...
    assert sim.env.now == 1_250 * N  # ... while the integer time is


def test_edges_align_at_common_multiple():
    sim = Simulation()
    a = sim.clock("a", 1000)
    b = sim.clock("b", 1250)
    seen = []

    def proc():
        for _ in range(10):
            yield a.cycles(1)
            if sim.env.now % b.period_ps == 0:
                seen.append(a.now_cycles)

    sim.env.process(proc())
    sim.env.run()
    assert seen == [5, 10]  # lcm(1000, 1250) = 5000 ps


def test_next_edge_and_conversions():
    sim = Simulation()
    clk = sim.clock("c", 1250)
    times = []

    def proc():
        yield sim.env.timeout(100)
        yield clk.next_edge()
        times.append(sim.env.now)
        yield clk.next_edge()
        times.append(sim.env.now)

    sim.env.process(proc())
    sim.env.run()
    assert times == [1250, 2500]
    assert Clock.period_from_mhz(800) == 1250
    assert Clock.period_from_mhz(1000) == 1000
    with pytest.raises(ValueError):
        clk.to_cycles(1000)


def test_bad_period_is_a_config_error():
    sim = Simulation()
    with pytest.raises(ConfigError, match=r"clock x.period_ps: must be a positive integer \(picoseconds\), got 1.5"):
        Clock(sim.env, 1.5, "x")
    with pytest.raises(ConfigError, match="freq_mhz: must be > 0, got 0"):
        Clock.period_from_mhz(0)
