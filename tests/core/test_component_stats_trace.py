"""Component ports, Stats counters and the Perfetto trace export."""

import json

import pytest

from hwsim.core import Channel, Component, PortDir, PortSpec, Simulation, Stats


class Producer(Component):
    PORTS = (PortSpec("out", PortDir.OUT, "items"),)
    STATS = {"sent": "items"}

    def run(self):
        for i in range(3):
            t0 = self.env.now
            yield from self.out.put(i, 4)
            self.stats.add("sent")
            self.span("busy", t0, self.env.now)


class Consumer(Component):
    PORTS = (PortSpec("inp", PortDir.IN, "items"),)
    STATS = {"got": "items"}

    def run(self):
        while True:
            t0 = self.env.now
            yield self.inp.get()
            self.span("stall", t0, self.env.now)
            self.stats.add("got")
            t1 = self.env.now
            yield self.clock.cycles(2)
            self.span("busy", t1, self.env.now)


def build(trace=False):
    sim = Simulation(trace=trace)
    clk = sim.clock("clk", 1000)
    ch = Channel(sim.env, clk, "ch", capacity=1, latency_cycles=1, bytes_per_cycle=2)
    p, c = Producer(sim, "producer", clk), Consumer(sim, "consumer", clk)
    p.connect("out", ch)
    c.connect("inp", ch)
    return sim, p, c


def test_declared_ports_become_attributes():
    sim, p, c = build()
    assert p.out.spec.direction is PortDir.OUT and c.inp.spec.direction is PortDir.IN
    assert set(p.ports) == {"out"}
    with pytest.raises(RuntimeError, match="is an input port"):
        next(c.inp.put(1))
    with pytest.raises(KeyError, match="has no port 'nope'"):
        p.connect("nope", None)


def test_unconnected_port_refuses_to_start():
    sim = Simulation()
    clk = sim.clock("clk", 1000)
    Producer(sim, "lonely", clk)
    with pytest.raises(RuntimeError, match=r"lonely: ports not connected: \['out'\]"):
        sim.run()


def test_stats_are_declared_counters():
    s = Stats("pe", {"mac": "ops", "sram_read_bytes": "bytes"})
    s.add("mac", 5)
    s.add("mac")
    assert s["mac"] == 6 and s.unit("sram_read_bytes") == "bytes"
    assert s.as_dict() == {"mac": 6, "sram_read_bytes": 0}
    with pytest.raises(KeyError, match="counter 'macs' is not declared"):
        s.add("macs")


def test_trace_is_chrome_trace_event_json(tmp_path):
    sim, p, c = build(trace=True)
    sim.run()
    assert p.stats["sent"] == 3 and c.stats["got"] == 3
    path = sim.tracer.write(tmp_path / "t.json")
    data = json.loads(path.read_text())
    events = data["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {"producer", "consumer"}
    spans = [e for e in events if e["ph"] == "X"]
    assert spans and all(e["dur"] > 0 and e["ts"] >= 0 for e in spans)
    assert all({"pid", "tid", "ts", "dur", "name"} <= set(e) for e in spans)
    # producer sends 0-2 (usable 3); consumer waits 0-3 then is busy 3-5 (in microseconds: 1 cycle = 1 ns)
    first_stall = next(e for e in spans if e["name"] == "stall")
    assert (first_stall["ts"], first_stall["dur"]) == (0.0, 0.003)
    assert not list(tmp_path.glob(".t.json.*"))  # written atomically, no temp file left
