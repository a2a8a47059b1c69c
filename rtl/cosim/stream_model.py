"""Cycle-level reference models of the stream FIFO and the credit link (their specifications, written
independently of the RTL), and a seeded random traffic generator for the benches."""

from __future__ import annotations

from collections import deque

import numpy as np


class FifoModel:
    """``StreamFIFO`` spec: accepted in cycle n -> can leave from n+1; ready iff fewer than depth held."""

    def __init__(self, depth: int):
        self.depth = depth
        self.q: deque = deque()  # (payload, first cycle it may leave)

    def outputs(self, cycle: int) -> tuple[bool, int | None, bool]:
        """(i.ready, o.payload if o.valid else None) before this cycle's transfers."""
        ready = len(self.q) < self.depth
        head = self.q[0][0] if self.q and self.q[0][1] <= cycle else None
        return ready, head

    def clock(self, cycle: int, in_valid: bool, payload: int, out_ready: bool) -> tuple[bool, int | None]:
        """Apply one cycle; returns (accepted, payload that left or None)."""
        ready, head = self.outputs(cycle)
        left = None
        if head is not None and out_ready:
            left = self.q.popleft()[0]
        accepted = in_valid and ready
        if accepted:
            self.q.append((payload, cycle + 1))
        return accepted, left


class CreditLinkModel:
    """``CreditLink`` spec (see rtl.stream)."""

    def __init__(self, latency: int, credits: int, credit_latency: int | None = None):
        self.latency = latency
        self.credit_latency = latency if credit_latency is None else credit_latency
        self.credits = credits
        self.rx = FifoModel(credits)
        self.wire: deque = deque()  # (payload, cycle it is written into rx)
        self.returns: deque = deque()  # cycle in which a credit is added back (at the end of)

    def outputs(self, cycle: int):
        _, head = self.rx.outputs(cycle)
        return self.credits > 0, head

    def clock(self, cycle: int, in_valid: bool, payload: int, out_ready: bool) -> tuple[bool, int | None]:
        ready, head = self.outputs(cycle)
        left = None
        if head is not None and out_ready:
            left = self.rx.q.popleft()[0]
            self.returns.append(cycle + self.credit_latency)
        while self.wire and self.wire[0][1] == cycle:
            self.rx.q.append((self.wire.popleft()[0], cycle + 1))
        sent = in_valid and ready
        if sent:
            self.wire.append((payload, cycle + self.latency))
            self.credits -= 1
        while self.returns and self.returns[0] == cycle:
            self.returns.popleft()
            self.credits += 1
        return sent, left


def traffic(seed: int, cycles: int, width: int, p_valid: float, p_ready: float):
    """Seeded (in_valid, payload, out_ready) per cycle."""
    rng = np.random.default_rng(seed)
    valid = rng.random(cycles) < p_valid
    ready = rng.random(cycles) < p_ready
    payload = rng.integers(0, 1 << width, cycles)
    return [(bool(v), int(p), bool(r)) for v, p, r in zip(valid, payload, ready)]
