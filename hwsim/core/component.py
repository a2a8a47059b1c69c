"""Component base class: a named block with declared ports, a clock, stats and trace spans."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from hwsim.core.stats import Stats

if TYPE_CHECKING:
    from hwsim.core.channel import Channel
    from hwsim.core.clock import Clock
    from hwsim.core.sim import Simulation


class PortDir(Enum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class PortSpec:
    """A declared port: its name (``a_in``), direction and what travels on it."""

    name: str
    direction: PortDir
    doc: str = ""


class Port:
    """A port instance, bound to a :class:`Channel` by :meth:`Component.connect`."""

    def __init__(self, owner: "Component", spec: PortSpec):
        self.owner = owner
        self.spec = spec
        self.channel: Channel | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def _bound(self) -> "Channel":
        if self.channel is None:
            raise RuntimeError(f"{self.owner.name}.{self.name} is not connected")
        return self.channel

    def get(self):
        """Event yielding the next item (IN ports)."""
        if self.spec.direction is not PortDir.IN:
            raise RuntimeError(f"{self.owner.name}.{self.name} is an output port")
        return self._bound().get()

    def put(self, item, nbytes: int = 0):
        """Generator sending an item (OUT ports); use ``yield from port.put(...)``."""
        return self._out().put(item, nbytes)

    def reserve(self):
        """Event: a credit for one item on the channel (OUT ports), see :meth:`Channel.reserve`."""
        return self._out().reserve()

    def deliver(self, item) -> None:
        """Hand over an item whose credit was reserved (OUT ports)."""
        self._out().deliver(item)

    def _out(self) -> "Channel":
        if self.spec.direction is not PortDir.OUT:
            raise RuntimeError(f"{self.owner.name}.{self.name} is an input port")
        return self._bound()


class Component:
    """Base of every CL model.

    Subclasses declare ``PORTS`` (their interface, read at a glance) and ``STATS`` (counter name ->
    unit) as class attributes and implement :meth:`run`, a SimPy process generator.
    """

    PORTS: ClassVar[tuple[PortSpec, ...]] = ()
    STATS: ClassVar[dict[str, str]] = {}

    def __init__(self, sim: "Simulation", name: str, clock: "Clock"):
        self.sim = sim
        self.env = sim.env
        self.name = name
        self.clock = clock
        self.stats = Stats(name, self.STATS)
        self.ports: dict[str, Port] = {}
        for spec in self.PORTS:
            port = Port(self, spec)
            self.ports[spec.name] = port
            setattr(self, spec.name, port)
        self._process = None
        sim.add(self)

    def connect(self, port_name: str, channel: "Channel") -> None:
        if port_name not in self.ports:
            raise KeyError(f"{self.name} has no port {port_name!r} (ports: {sorted(self.ports)})")
        self.ports[port_name].channel = channel

    def start(self) -> None:
        if self._process is None:
            missing = [p.name for p in self.ports.values() if p.channel is None]
            if missing:
                raise RuntimeError(f"{self.name}: ports not connected: {missing}")
            self._process = self.env.process(self.run())

    def run(self):  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def span(self, kind: str, start_ps: int, end_ps: int, **args) -> None:
        """Record a busy/stall span on this component's trace track."""
        if self.sim.tracer is not None:
            self.sim.tracer.span(self.name, kind, start_ps, end_ps, **args)

    def line_trace(self) -> str:
        """One line describing the component's state (override for detail)."""
        return f"{self.name}@{self.clock.now_cycles}"
