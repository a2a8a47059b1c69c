"""On-chip network: mesh, torus and ring topologies of input-queued wormhole routers with virtual channels and
credit flow control; XY and turn-model adaptive routing; synthetic traffic and traces.

Faces: CL (:class:`~hwsim.noc.cl.NocCL`, one SimPy process, numpy-vectorised routers) and cost (channel loads
from the routing function, zero-load latency in closed form, M/D/1-style contention). See docs/noc.md.
"""

from hwsim.noc.cl import NocCL, NocEngine, run_synthetic_batch_cl, run_synthetic_cl, run_trace_cl
from hwsim.noc.config import NocConfig, TrafficConfig
from hwsim.noc.cost import flow_loads, noc_cost, saturation_rate, trace_cost, zero_load_latency
from hwsim.noc.errors import DeadlockError
from hwsim.noc.result import NOC_STATS, NocResult, TraceResult
from hwsim.noc.routing import ROUTINGS, dateline_class
from hwsim.noc.sweep import Saturation, SweepResult, run_trace, saturation_throughput, simulate, sweep
from hwsim.noc.topology import Topology
from hwsim.noc.traffic import PATTERNS, Trace, as_trace, synthetic_trace, traffic_matrix

__all__ = [
    "NOC_STATS", "PATTERNS", "ROUTINGS", "DeadlockError", "NocCL", "NocConfig", "NocEngine", "NocResult",
    "Saturation", "SweepResult", "Topology", "Trace", "TraceResult", "TrafficConfig", "as_trace", "dateline_class",
    "flow_loads", "noc_cost", "run_synthetic_batch_cl", "run_synthetic_cl", "run_trace", "run_trace_cl",
    "saturation_rate", "saturation_throughput", "simulate", "sweep", "synthetic_trace", "trace_cost",
    "traffic_matrix", "zero_load_latency",
]
