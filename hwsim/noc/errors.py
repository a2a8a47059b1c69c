"""NoC errors."""

from __future__ import annotations


class DeadlockError(RuntimeError):
    """The CL face's watchdog found virtual channels whose front flit has not moved for ``watchdog_cycles``.

    ``stuck`` lists them (dicts with ``router``, ``port``, ``vc``, ``packet``, ``src``, ``dst``, ``flit``,
    ``waiting_for``); ``cycle`` is when the watchdog fired. The message names the first few. (Constructible
    from its ``args``, as SimPy re-raises a copy of an exception raised inside a process.)
    """

    def __init__(self, message: str, cycle: int = -1, stuck: list[dict] | tuple = ()):
        super().__init__(message, cycle, list(stuck))
        self.message = message
        self.cycle = cycle
        self.stuck = list(stuck)

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_stuck(cls, cycle: int, watchdog_cycles: int, stuck: list[dict], shown: int = 6) -> "DeadlockError":
        lines = [f"{s['router_name']} {s['port']} vc {s['vc']}: packet {s['packet']} ({s['src_name']} -> "
                 f"{s['dst_name']}, flit {s['flit']}) waiting for {s['waiting_for']}" for s in stuck[:shown]]
        more = f"; and {len(stuck) - shown} more" if len(stuck) > shown else ""
        return cls(f"deadlock: {len(stuck)} virtual channel(s) made no progress for more than {watchdog_cycles} "
                   f"cycles (watchdog fired at cycle {cycle}): " + "; ".join(lines) + more, cycle, stuck)
