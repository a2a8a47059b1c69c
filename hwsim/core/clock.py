"""Clock domains with an integer period in picoseconds.

Simulation time is an integer number of picoseconds, so several clock domains can share one SimPy
environment without float drift: a cycle count converts to time by an exact integer product.
"""

from __future__ import annotations

import simpy

from hwsim.errors import ConfigError


class Clock:
    """One clock domain.

    ``period_ps`` is the integer clock period in picoseconds (1 GHz = 1000 ps).
    """

    def __init__(self, env: simpy.Environment, period_ps: int, name: str = "clk"):
        if isinstance(period_ps, bool) or not isinstance(period_ps, int) or period_ps < 1:
            raise ConfigError(f"clock {name}.period_ps: must be a positive integer (picoseconds), got {period_ps!r}")
        self.env = env
        self.period_ps = period_ps
        self.name = name

    @staticmethod
    def period_from_mhz(freq_mhz: float) -> int:
        """Integer period in ps nearest to ``freq_mhz`` (e.g. 1000 MHz -> 1000 ps, 800 MHz -> 1250 ps)."""
        if not freq_mhz > 0:
            raise ConfigError(f"freq_mhz: must be > 0, got {freq_mhz!r}")
        return max(1, round(1_000_000 / freq_mhz))

    @classmethod
    def from_mhz(cls, env: simpy.Environment, freq_mhz: float, name: str = "clk") -> "Clock":
        return cls(env, cls.period_from_mhz(freq_mhz), name)

    @property
    def freq_mhz(self) -> float:
        """Actual frequency of the integer period, in MHz."""
        return 1_000_000 / self.period_ps

    @property
    def now_cycles(self) -> int:
        """Whole cycles of this clock elapsed since time 0 (rising edges passed, edge at 0 not counted)."""
        return int(self.env.now) // self.period_ps

    def to_ps(self, cycles: int) -> int:
        return cycles * self.period_ps

    def to_cycles(self, ps: int) -> int:
        """Exact cycle count of a duration; it must be a whole number of cycles."""
        cycles, rest = divmod(int(ps), self.period_ps)
        if rest:
            raise ValueError(f"{ps} ps is not a whole number of {self.name} cycles ({self.period_ps} ps)")
        return cycles

    def cycles(self, n: int) -> simpy.Timeout:
        """A timeout of ``n`` cycles of this clock."""
        return self.env.timeout(n * self.period_ps)

    def sync(self) -> simpy.Timeout:
        """A timeout to this clock's next rising edge, or of zero if now is on an edge: how a value
        arriving from another clock domain is registered (one synchronising edge, no extra stages)."""
        rest = int(self.env.now) % self.period_ps
        return self.env.timeout(self.period_ps - rest if rest else 0)

    def next_edge(self) -> simpy.Timeout:
        """A timeout to the next rising edge (a full period if now is on an edge)."""
        rest = int(self.env.now) % self.period_ps
        return self.env.timeout(self.period_ps - rest)


LATE = 2  # SimPy priority after NORMAL (1)


def late_timeout(env: simpy.Environment, delay_ps: int) -> simpy.Event:
    """A timeout processed after every normal-priority event of its instant (built like SimPy's
    Timeout, at a lower priority): for a stage that must see everything else that happens in a cycle
    first, e.g. a cache lookup seeing a fill that lands in the same cycle."""
    ev = simpy.Event(env)
    ev._ok = True  # SimPy has no public way to schedule at a custom priority
    ev._value = None
    env.schedule(ev, LATE, delay_ps)
    return ev
