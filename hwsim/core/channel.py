"""Channels: bounded FIFOs with a latency in cycles and a bandwidth in bytes per cycle.

A :class:`Link` is the wire: it serialises payloads at ``bytes_per_cycle`` (one payload at a time)
and delivers each ``latency_cycles`` after its last byte was sent. A :class:`Channel` is a link plus
a receive FIFO of ``capacity`` items. Flow control is credit based: a sender takes a credit before
it starts sending, the receiver returns it when it takes the item, so a full FIFO back-pressures
the sender. Several channels may share one link (e.g. two operand buffers fed by one memory port).

Timeline of one ``put`` of ``n`` bytes started at cycle ``t`` on a free link with a free slot:
the link is busy during cycles ``[t, t + ceil(n / bytes_per_cycle))`` and the item can be taken at
``t + ceil(n / bytes_per_cycle) + latency_cycles``.
"""

from __future__ import annotations

import simpy

from hwsim.core.clock import Clock
from hwsim.errors import ConfigError
from hwsim.memory.port import serialisation_cycles


class Link:
    """A serialising wire: ``bytes_per_cycle`` (None = unlimited) and ``latency_cycles``."""

    def __init__(self, env: simpy.Environment, clock: Clock, name: str,
                 bytes_per_cycle: int | None = None, latency_cycles: int = 0):
        if bytes_per_cycle is not None and (isinstance(bytes_per_cycle, bool) or not isinstance(bytes_per_cycle, int)
                                            or bytes_per_cycle < 1):
            raise ConfigError(f"{name}.bytes_per_cycle: must be an integer >= 1 or None (unlimited), got {bytes_per_cycle!r}")
        if isinstance(latency_cycles, bool) or not isinstance(latency_cycles, int) or latency_cycles < 0:
            raise ConfigError(f"{name}.latency_cycles: must be an integer >= 0, got {latency_cycles!r}")
        self.env = env
        self.clock = clock
        self.name = name
        self.bytes_per_cycle = bytes_per_cycle
        self.latency_cycles = latency_cycles
        self._wire = simpy.Resource(env, capacity=1)
        self.bytes_sent = 0
        self.busy_cycles = 0

    def serialisation_cycles(self, nbytes: int) -> int:
        """Cycles the wire is busy sending ``nbytes``."""
        return serialisation_cycles(nbytes, self.bytes_per_cycle)

    def send(self, nbytes: int):
        """Generator: hold the wire while ``nbytes`` are serialised (FIFO order among senders)."""
        with self._wire.request() as req:
            yield req
            cycles = self.serialisation_cycles(nbytes)
            if cycles:
                yield self.clock.cycles(cycles)
            self.bytes_sent += nbytes
            self.busy_cycles += cycles


class Channel:
    """Bounded FIFO over a :class:`Link` with credit-based back-pressure.

    ``capacity`` counts items in flight plus items waiting at the receiver (None = unbounded).
    """

    def __init__(self, env: simpy.Environment, clock: Clock, name: str, capacity: int | None = 1,
                 latency_cycles: int = 0, bytes_per_cycle: int | None = None, link: Link | None = None):
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1):
            raise ConfigError(f"{name}.capacity: must be an integer >= 1 or None (unbounded), got {capacity!r}")
        self.env = env
        self.clock = clock
        self.name = name
        self.capacity = capacity
        self.link = link if link is not None else Link(env, clock, name, bytes_per_cycle, latency_cycles)
        self._ready = simpy.Store(env)
        self._credits = None if capacity is None else simpy.Container(env, capacity=capacity, init=capacity)
        self.items_put = 0
        self.items_got = 0

    @property
    def occupancy(self) -> int:
        """Items holding a credit (in flight or waiting)."""
        if self._credits is None:
            return self.items_put - self.items_got
        return self.capacity - int(self._credits.level)

    def put(self, item, nbytes: int = 0):
        """Generator: wait for a credit, serialise on the link, deliver after the latency.

        Returns (to ``yield from``) when the link is free again; the item arrives later.
        """
        yield self.reserve()
        yield from self.link.send(nbytes)
        latency = self.link.latency_cycles
        if latency:
            arrival = self.clock.cycles(latency)
            arrival.callbacks.append(lambda _ev, item=item: self.deliver(item))
        else:
            self.deliver(item)

    def reserve(self) -> simpy.Event:
        """Event that fires when the sender holds a credit (a free slot) for one item. For senders that
        move the data by other means (e.g. a DMA engine) and then :meth:`deliver` it."""
        if self._credits is None:
            return self.env.event().succeed()
        return self._credits.get(1)

    def deliver(self, item) -> None:
        """Make an item (whose credit the sender holds) available to the receiver now."""
        self.items_put += 1
        self._ready.put(item)

    def get(self) -> simpy.Event:
        """Event that fires with the next item; taking it returns the sender's credit."""
        ev = self._ready.get()
        ev.callbacks.append(self._on_get)
        return ev

    def _on_get(self, _ev) -> None:
        self.items_got += 1
        if self._credits is not None:
            self._credits.put(1)
