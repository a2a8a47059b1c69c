"""CL face: the whole network advanced cycle by cycle by one SimPy process, with numpy-vectorised router state.

Why one process: at saturation an 8x8 mesh moves ~150 flits per cycle through ~600 virtual
channels. One SimPy process per router (or per flit) would schedule thousands of events per cycle;
here :class:`NocCL` is a single :class:`~hwsim.core.Component` on one clock whose ``run()`` calls
:meth:`NocEngine.step` once per cycle (and jumps over cycles in which nothing can change). The
step works on whole arrays (every input VC of every router at once), so its cost per cycle is a
fixed number of numpy calls, whatever the load. See docs/noc.md for the measured speed.

Router model (every router, every cycle ``t``, in this order):

1. credits due in ``t`` return to their upstream counters; flits due in ``t`` are written into their input
   VC buffers (a flit written in ``t`` is *ready* from ``t + router_cycles``);
2. each network interface injects at most one flit: a new packet first takes a free VC of the local input
   port (the one holding the fewest flits, lowest index on ties), then its flits are written one per
   cycle while that VC has credits;
3. route computation + VC allocation: every ready head flit without an output VC asks for one. Adaptive
   algorithms pick among their candidate ports the one with more free downstream VCs (then more
   credits; ties: the x port). On torus/ring the VC must be of the packet's dateline class. Free VCs go
   to the requesters oldest-first (packet number = age);
4. switch allocation (separable, input first): among ready flits that hold an output VC with a credit
   (or go to the ejection port), each input port picks its oldest, then each output port picks the oldest
   of those. Oldest-first arbitration is deterministic and starvation-free;
5. switch + link traversal: winners leave their buffer (its credit returns upstream ``link_cycles``
   later) and arrive downstream ``link_cycles`` later; a tail frees its output VC (a VC can then be
   re-allocated although the previous packet's tail may still sit in the downstream buffer).

Flow control is wormhole with credits: a VC buffer holds ``vc_buffer_flits`` flits; an upstream router
sends only with a credit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hwsim.core import Clock, Component, Simulation, Tracer
from hwsim.errors import ConfigError
from hwsim.noc.config import NocConfig, TrafficConfig
from hwsim.noc.errors import DeadlockError
from hwsim.noc.result import NOC_STATS, NocResult, TraceResult, percentiles
from hwsim.noc.routing import ROUTINGS, dateline_class
from hwsim.noc.topology import LOCAL, OPPOSITE, Topology
from hwsim.noc.traffic import Trace, active_sources, build_trace, synthetic_trace

__all__ = ["NocCL", "NocEngine", "run_synthetic_batch_cl", "run_synthetic_cl", "run_trace_cl"]


_INF = np.iinfo(np.int64).max // 4
#: a point is saturated when a source's average latency exceeds this multiple of its zero-load latency (or its
#: measured packets do not all get out, or the accepted throughput falls 5 % short of the offered load)
SATURATION_LATENCY_FACTOR = 3.0
_TABLE_NODES = 256  # precompute deterministic route and dateline tables up to this many nodes


def _group_firsts(group: np.ndarray, key: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Boolean mask: the element with the smallest ``key`` of each ``group`` (keys distinct within a group).
    ``scratch`` is a buffer of _INF covering every group id; it is left as it was found."""
    np.minimum.at(scratch, group, key)
    first = key == scratch[group]
    scratch[group] = _INF
    return first


class NocEngine:
    """The state of every router, interface and link of one network, and the per-cycle update.

    Input VC ``iv = (router * ports + port) * vcs + vc``. Per-VC arrays are indexed by ``iv``; a VC's credit
    counter and its "owned" flag live at its upstream router but are indexed by the (downstream) ``iv`` too.
    Buffers are circular, flattened to ``iv * vc_buffer_flits + slot``; the front flit of every VC is mirrored
    in ``front_*`` arrays (``front_ready`` is "infinite" for an empty VC), so a cycle scans one array.
    """

    def __init__(self, cfg: NocConfig, trace: Trace, record_ejections: bool = False, copies: int = 1):
        self.cfg = cfg
        self.topo = topo = Topology.of(cfg)
        self.routing = ROUTINGS[cfg.routing]
        self.copies = copies
        self.N1 = topo.nodes  # routers per copy
        n, p, v, b = topo.nodes * copies, topo.ports, cfg.vcs, cfg.vc_buffer_flits
        self.N, self.P, self.V, self.B = n, p, v, b
        self.R, self.L = cfg.router_cycles, cfg.link_cycles
        niv = n * p * v
        iv = np.arange(niv)
        self.iv_router = iv // (p * v)
        self.iv_inport = iv // v
        # downstream input-VC base of each output (router * ports + port); -1 for the local port / no link.
        # Copies are independent networks side by side: router r of copy c is c * N1 + r.
        offset = (np.arange(copies) * topo.nodes)[:, None, None]
        nb = np.where(topo.neighbour[None] >= 0, topo.neighbour[None] + offset, -1).reshape(n, p)
        opp = np.asarray(OPPOSITE[:p])
        base = np.where(nb >= 0, (nb * p + opp[None, :]) * v, -1)
        base[:, LOCAL] = -1
        self.down_base = base.reshape(-1)
        self.vc_range = np.arange(v)
        self.classes = cfg.dateline_classes
        vc_class = (self.vc_range >= v // 2) if self.classes == 2 else np.zeros(v, bool)
        self.class_mask = np.stack([~vc_class, vc_class])  # class -> which VCs belong to it
        self._tables()
        # packets (numbered by age)
        m = len(trace)
        self.trace = trace
        self.pkt_src, self.pkt_dst, self.pkt_flits, self.pkt_create = trace.src, trace.dst, trace.flits, trace.cycle
        self.pkt_last = trace.flits - 1
        self.pkt_inject = np.full(m, -1, np.int64)
        self.pkt_eject = np.full(m, -1, np.int64)
        self.pkt_next = np.zeros(m, np.int64)
        # source queues: per node, its packets in creation order
        self.q_pkts = np.argsort(trace.src, kind="stable")
        counts = np.bincount(trace.src, minlength=n) if m else np.zeros(n, np.int64)
        self.q_end = np.cumsum(counts)
        self.q_ptr = self.q_end - counts
        self.ni_next = np.full(n, _INF, np.int64)  # creation cycle of each node's next queued packet
        has = counts > 0
        self.ni_next[has] = self.pkt_create[self.q_pkts[self.q_ptr[has]]]
        self.ni_pkt = np.full(n, -1, np.int64)
        self.ni_seq = np.zeros(n, np.int64)
        self.ni_vc = np.full(n, -1, np.int64)
        self.ni_busy = 0
        self.local_vcs = (np.arange(n) * p * v)[:, None] + self.vc_range[None, :]
        # input buffers
        self.buf_pkt = np.zeros(niv * b, np.int64)
        self.buf_seq = np.zeros(niv * b, np.int64)
        self.buf_ready = np.zeros(niv * b, np.int64)
        self.q_head = np.zeros(niv, np.int64)
        self.q_count = np.zeros(niv, np.int64)
        self.front_pkt = np.zeros(niv, np.int64)
        self.front_seq = np.zeros(niv, np.int64)
        self.front_ready = np.full(niv, _INF, np.int64)
        self.front_since = np.zeros(niv, np.int64)
        self.out_port = np.full(niv, -1, np.int64)
        self.out_vc = np.full(niv, -1, np.int64)
        self.owned = np.zeros(niv, bool)
        self.credits = np.full(niv, b, np.int64)
        self.scratch = np.full(max(n * p * 2, n), _INF, np.int64)
        # delay lines: cycle -> what arrives then
        self.arrivals: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.credit_returns: dict[int, np.ndarray] = {}
        # counters
        self.link_flits = np.zeros(n * p, np.int64)  # per output port; port 0 = ejection channel
        self.counts = dict.fromkeys(NOC_STATS, 0)
        self.in_network = 0  # flits injected and not yet ejected
        self.active = False  # did anything move or get allocated in the last step
        self.last_cycle = -1
        self.next_watchdog = cfg.watchdog_cycles
        self.record = record_ejections
        self._log: list[np.ndarray] = []
        # measurement window [win_start, win_end): flits ejected and per-link flits inside it
        self.win_start, self.win_end = -1, -1
        self.win_flits_ejected = 0
        self.win_link_flits = np.zeros(n * p, np.int64)
        self.win_src_flits = np.zeros(n, np.int64)  # flits ejected in the window, by source node
        self.ni_flits = np.zeros(n, np.int64)  # flits injected by each interface
        # packets whose delivery a run waits for: copy number (or -1) per packet, and how many are left per copy
        self.watch: np.ndarray | None = None
        self.watch_left = np.zeros(copies, np.int64)
        self.mandatory: list[int] = []  # cycles that are always stepped (window ends), ascending
        self.va_router = np.zeros(n, np.int64)  # VC allocations per router

    def _tables(self) -> None:
        """Deterministic routing: output port per (current, destination[, source parities on a torus/ring]) and,
        on torus/ring, the dateline class per (current, port, source), precomputed up to 256 nodes per copy."""
        topo, n = self.topo, self.N1
        self.port_table = self.class_table = None
        self.parity = topo.kind != "mesh"  # only a ring dimension has ties, broken by the source's parity
        if self.routing.adaptive or n > _TABLE_NODES:
            return
        par = np.arange(4) if self.parity else np.zeros(1, np.int64)
        cur, dst, par = np.meshgrid(np.arange(n), np.arange(n), par, indexing="ij")
        # a source with the given x and y parities (only the parity of the entry coordinate breaks ties)
        src = np.minimum(par >> 1, topo.cols - 1) + np.minimum(par & 1, topo.rows - 1) * topo.cols
        self.port_table = self.routing.candidates(topo, cur.reshape(-1), src.reshape(-1), dst.reshape(-1))[:, 0]
        if self.classes == 2:
            cur, port, src = np.meshgrid(np.arange(n), np.arange(self.P), np.arange(n), indexing="ij")
            self.class_table = dateline_class(topo, cur.reshape(-1), port.reshape(-1), src.reshape(-1))

    def _local(self, *nodes: np.ndarray) -> tuple[np.ndarray, ...]:
        """Router ids within their copy."""
        return nodes if self.copies == 1 else tuple(x % self.N1 for x in nodes)

    def _ports(self, cur: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Output port of each head (global router ids in, adaptive selection by the global state)."""
        lc, ls, ld = self._local(cur, src, dst)
        if self.port_table is not None:
            if not self.parity:
                return self.port_table[lc * self.N1 + ld]
            c = self.topo.cols
            return self.port_table[((lc * self.N1 + ld) << 2) + (((ls % c) & 1) << 1) + ((ls // c) & 1)]
        cand = self.routing.candidates(self.topo, lc, ls, ld)
        return self._select(cur, cand) if self.routing.adaptive else cand[:, 0]

    def _classes(self, cur: np.ndarray, port: np.ndarray, src: np.ndarray) -> np.ndarray:
        lc, ls = self._local(cur, src)
        if self.class_table is not None:
            return self.class_table[(lc * self.P + port) * self.N1 + ls]
        return dateline_class(self.topo, lc, port, ls)

    # --- the cycle ------------------------------------------------------------------------------------
    def step(self, t: int) -> None:
        """Advance every router by cycle ``t`` (cycles must be increasing; see :meth:`next_cycle` for skipping)."""
        self.active = False
        credits = self.credit_returns.pop(t, None)
        if credits is not None:
            self.credits[credits] += 1
        arriving = self.arrivals.pop(t, None)
        injected = self._inject(t)
        if injected is not None:
            arriving = injected if arriving is None else tuple(np.concatenate(pair) for pair in zip(arriving, injected))
        if arriving is not None:
            self._write(t, *arriving)
        if self.in_network:
            self._route(t)
            if t >= self.next_watchdog:
                self._watchdog(t)
        self.last_cycle = t

    def _write(self, t: int, ivs: np.ndarray, pkts: np.ndarray, seqs: np.ndarray) -> None:
        """Write one flit into each of ``ivs`` (distinct) in cycle ``t``; it is ready from ``t + router_cycles``."""
        count = self.q_count[ivs]
        at = ivs * self.B + (self.q_head[ivs] + count) % self.B
        self.buf_pkt[at] = pkts
        self.buf_seq[at] = seqs
        ready = t + self.R
        self.buf_ready[at] = ready
        self.q_count[ivs] = count + 1
        empty = count == 0
        if np.count_nonzero(empty):
            e = ivs[empty]
            self.front_pkt[e] = pkts[empty]
            self.front_seq[e] = seqs[empty]
            self.front_ready[e] = ready
            self.front_since[e] = t
        self.counts["buffer_writes"] += ivs.size

    def _inject(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Network interfaces: start due packets, send one flit each where the VC has a credit. Returns the
        flits to write into the local input buffers this cycle."""
        ni_pkt = self.ni_pkt
        if self.ni_busy < self.N:
            idle = np.nonzero(self.ni_next <= t)[0]
            if idle.size:
                idle = idle[ni_pkt[idle] < 0]
            if idle.size:
                lv = self.local_vcs[idle]
                free = ~self.owned[lv]
                has = free.any(axis=1)
                if np.count_nonzero(has) < idle.size:
                    idle, lv, free = idle[has], lv[has], free[has]
                # the free local VC holding the fewest flits (lowest index on ties)
                vc = lv[np.arange(idle.size), np.where(free, self.q_count[lv], self.B + 1).argmin(axis=1)]
                ptr = self.q_ptr[idle]
                ni_pkt[idle] = self.q_pkts[ptr]
                self.owned[vc] = True
                self.ni_seq[idle] = 0
                self.ni_vc[idle] = vc
                ptr += 1
                self.q_ptr[idle] = ptr
                more = ptr < self.q_end[idle]
                self.ni_next[idle] = _INF
                self.ni_next[idle[more]] = self.pkt_create[self.q_pkts[ptr[more]]]
                self.ni_busy += idle.size
                self.active = True
        if not self.ni_busy:
            return None
        act = np.nonzero(ni_pkt >= 0)[0]
        vc = self.ni_vc[act]
        ok = self.credits[vc] > 0
        if np.count_nonzero(ok) < act.size:
            act, vc = act[ok], vc[ok]
            if not act.size:
                return None
        self.active = True
        pk = ni_pkt[act]
        seq = self.ni_seq[act]
        self.credits[vc] -= 1
        self.ni_flits[act] += 1
        c = self.counts
        c["flits_injected"] += act.size
        c["link_traversals"] += act.size
        self.in_network += act.size
        head = seq == 0
        nhead = np.count_nonzero(head)
        if nhead:
            self.pkt_inject[pk[head]] = t
            c["packets_injected"] += nhead
        self.ni_seq[act] = seq + 1
        done = seq == self.pkt_last[pk]
        ndone = np.count_nonzero(done)
        if ndone:
            self.owned[vc[done]] = False
            ni_pkt[act[done]] = -1
            self.ni_busy -= ndone
        return vc, pk, seq

    def _route(self, t: int) -> None:
        ne = np.nonzero(self.front_ready <= t)[0]
        if not ne.size:
            return
        pk = self.front_pkt[ne]
        op = self.out_port[ne]
        need = op < 0
        if np.count_nonzero(need):
            if self._allocate(ne[need], pk[need]):
                self.active = True
            op = self.out_port[ne]
        # switch allocation candidates: hold an output VC with a credit, or eject
        ok = op == LOCAL
        net = op > 0
        ok[net] = self.credits[self.out_vc[ne[net]]] > 0
        cand = ne[ok]
        if not cand.size:
            return
        self.active = True
        cpk, cop = pk[ok], op[ok]
        # input first: the oldest flit of each input port, then the oldest of those per output port
        w1 = np.nonzero(_group_firsts(self.iv_inport[cand], cpk, self.scratch))[0]
        outp = self.iv_router[cand[w1]] * self.P + cop[w1]
        w2 = _group_firsts(outp, cpk[w1], self.scratch)
        win = w1[w2]
        self._traverse(t, cand[win], cpk[win], cop[win], outp[w2])

    def _allocate(self, req: np.ndarray, pk: np.ndarray) -> int:
        """Route computation and VC allocation for the ready heads at the front of VCs ``req``; returns how many
        heads got an output (VC or ejection port)."""
        cur = self.iv_router[req]
        src = self.pkt_src[pk]
        port = self._ports(cur, src, self.pkt_dst[pk])
        ej = port == LOCAL
        nej = np.count_nonzero(ej)
        if nej:
            self.out_port[req[ej]] = LOCAL
            if nej == req.size:
                return nej
            net = ~ej
            req, pk, cur, port, src = req[net], pk[net], cur[net], port[net], src[net]
        op = cur * self.P + port
        if self.classes == 2:
            cls = self._classes(cur, port, src)
            group = op * 2 + cls
            mask = self.class_mask[cls]
        else:
            group = op
            mask = None
        vcs = self.down_base[op][:, None] + self.vc_range
        won = 0
        while True:  # rounds: the oldest requester of each (output, class) takes its lowest free VC
            free = ~self.owned[vcs]
            if mask is not None:
                free &= mask
            has = free.any(axis=1)
            if not np.count_nonzero(has):
                break
            if np.count_nonzero(has) < req.size:
                req, pk, port, group, vcs, free = req[has], pk[has], port[has], group[has], vcs[has], free[has]
                if mask is not None:
                    mask = mask[has]
            first = _group_firsts(group, pk, self.scratch)
            vc = vcs[first, free[first].argmax(axis=1)]
            r = req[first]
            np.add.at(self.va_router, self.iv_router[r], 1)
            self.owned[vc] = True
            self.out_port[r] = port[first]
            self.out_vc[r] = vc
            won += r.size
            if r.size == req.size:
                break
            rest = ~first
            req, pk, port, group, vcs = req[rest], pk[rest], port[rest], group[rest], vcs[rest]
            if mask is not None:
                mask = mask[rest]
        self.counts["vc_allocations"] += won
        return won + nej

    def _select(self, cur: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Adaptive selection: the candidate port with more free downstream VCs, then more credits in them."""
        first = cand[:, 0]
        second = cand[:, 1]
        two = np.nonzero(second >= 0)[0]
        if not two.size:
            return first
        scores = []
        for col in (first, second):
            vcs = self.down_base[cur[two] * self.P + col[two]][:, None] + self.vc_range
            free = ~self.owned[vcs]
            scores.append(free.sum(axis=1) * (self.V * self.B + 1) + (self.credits[vcs] * free).sum(axis=1))
        port = first.copy()
        port[two] = np.where(scores[1] > scores[0], second[two], first[two])
        return port

    def _traverse(self, t: int, ivs: np.ndarray, pk: np.ndarray, op: np.ndarray, outp: np.ndarray) -> None:
        """Winners ``ivs`` send their front flit through the switch in cycle ``t``."""
        seq = self.front_seq[ivs]
        head = (self.q_head[ivs] + 1) % self.B
        self.q_head[ivs] = head
        left = self.q_count[ivs] - 1
        self.q_count[ivs] = left
        self.front_ready[ivs] = _INF
        more = left > 0
        if np.count_nonzero(more):
            m = ivs[more]
            at = m * self.B + head[more]
            self.front_pkt[m] = self.buf_pkt[at]
            self.front_seq[m] = self.buf_seq[at]
            self.front_ready[m] = np.maximum(self.buf_ready[at], t + 1)
            self.front_since[m] = t
        due = t + self.L
        self.credit_returns[due] = ivs
        self.link_flits[outp] += 1
        if self.win_start <= t < self.win_end:
            self.win_link_flits[outp] += 1
        ov = self.out_vc[ivs]
        tail = seq == self.pkt_last[pk]
        net = op != LOCAL
        c = self.counts
        n = ivs.size
        c["buffer_reads"] += n
        c["router_traversals"] += n
        c["link_traversals"] += n
        nnet = np.count_nonzero(net)
        c["flit_hops"] += nnet
        if nnet:
            nov = ov[net]
            self.credits[nov] -= 1
            self.arrivals[due] = (nov, pk[net], seq[net])
            tn = tail & net
            if np.count_nonzero(tn):
                self.owned[ov[tn]] = False
        if np.count_nonzero(tail):
            self.out_port[ivs[tail]] = -1
            self.out_vc[ivs[tail]] = -1
        if nnet < n:
            ej = ~net
            self._eject(t, pk[ej], seq[ej], self.iv_router[ivs[ej]])

    def _eject(self, t: int, pk: np.ndarray, seq: np.ndarray, node: np.ndarray) -> None:
        if np.count_nonzero(self.pkt_next[pk] != seq) or np.count_nonzero(self.pkt_dst[pk] != node):  # pragma: no cover
            raise RuntimeError(f"cycle {t}: flit ejected out of order or at the wrong node: packets {pk.tolist()}, "
                               f"flits {seq.tolist()}, expected {self.pkt_next[pk].tolist()}")
        self.pkt_next[pk] = seq + 1
        tail = seq == self.pkt_last[pk]
        c = self.counts
        c["flits_ejected"] += pk.size
        self.in_network -= pk.size
        ntail = np.count_nonzero(tail)
        if ntail:
            done = pk[tail]
            self.pkt_eject[done] = t
            c["packets_ejected"] += ntail
            if self.watch is not None:
                copy = self.watch[done]
                np.add.at(self.watch_left, copy[copy >= 0], -1)
        if self.win_start <= t < self.win_end:
            self.win_flits_ejected += pk.size
            np.add.at(self.win_src_flits, self.pkt_src[pk], 1)
        if self.record:
            self._log.append(np.stack([np.full(pk.size, t), pk, seq, node], axis=1))

    # --- watchdog -------------------------------------------------------------------------------------
    def _watchdog(self, t: int) -> None:
        limit = self.cfg.watchdog_cycles
        self.next_watchdog = t + max(1, limit // 4)
        stuck = np.nonzero((self.q_count > 0) & (t - self.front_since > limit + self.R))[0]
        if stuck.size:
            raise DeadlockError.from_stuck(t, limit, self.describe(stuck))

    def describe(self, ivs: np.ndarray) -> list[dict]:
        """What the front flit of each VC in ``ivs`` is and what it waits for."""
        topo, out = self.topo, []
        for iv in ivs.tolist():
            r, rest = divmod(iv, self.P * self.V)
            port, vc = divmod(rest, self.V)
            copy, r = divmod(r, self.N1)
            pk, seq = int(self.front_pkt[iv]), int(self.front_seq[iv])
            op, ov = int(self.out_port[iv]), int(self.out_vc[iv])
            src, dst = int(self.pkt_src[pk]) % self.N1, int(self.pkt_dst[pk]) % self.N1
            if op < 0:
                cand = self.routing.candidates(topo, np.array([r]), np.array([src]), np.array([dst]))[0]
                ports = " or ".join(topo.port_name(int(c)) for c in cand if c >= 0)
                waiting = f"a free VC at output {ports}"
            elif op == LOCAL:
                waiting = "the ejection port"
            else:
                waiting = f"a credit of output {topo.port_name(op)} vc {ov % self.V} ({int(self.credits[ov])} credits)"
            where = f" of copy {copy}" if self.copies > 1 else ""
            out.append({"router": r, "router_name": f"router {topo.name(r)}{where}", "copy": copy,
                        "port": f"in-port {topo.port_name(port)}", "vc": vc, "packet": pk, "src": src, "dst": dst,
                        "src_name": topo.name(src), "dst_name": topo.name(dst),
                        "flit": f"{seq + 1}/{int(self.pkt_flits[pk])}", "waiting_for": waiting})
        return out

    # --- scheduling -----------------------------------------------------------------------------------
    @property
    def packets_left(self) -> int:
        return len(self.trace) - self.counts["packets_ejected"]

    def next_cycle(self, t: int) -> int | None:
        """The next cycle in which the state can change (or a cycle in ``mandatory``); None when every packet has
        been delivered.

        ``t + 1`` after a cycle in which anything moved or was allocated. Otherwise nothing changes until
        the next scheduled event: a flit or credit arriving, a buffered flit becoming ready, or an idle
        interface's next packet being created (a blocked flit can only be unblocked by one of these), so
        the cycles in between are skipped. If flits are stuck with nothing scheduled, the next watchdog
        check is the next cycle."""
        if self.active:
            return t + 1
        nxt = _INF
        if self.arrivals:
            nxt = min(self.arrivals)
        if self.credit_returns:
            nxt = min(nxt, min(self.credit_returns))
        if self.in_network:
            fr = self.front_ready
            later = fr[fr > t]
            if later.size:
                nxt = min(nxt, int(later.min()))
        idle_next = int(np.where(self.ni_pkt < 0, self.ni_next, _INF).min())
        nxt = min(nxt, idle_next)
        if nxt >= _INF:
            if not self.in_network:
                return None
            nxt = self.next_watchdog
        for m in self.mandatory:
            if m > t:
                nxt = min(nxt, m)
                break
        return max(t + 1, int(nxt))

    def ejection_log(self) -> np.ndarray:
        """Rows ``(cycle, packet, flit, node)`` of every ejected flit (``record_ejections=True``)."""
        if not self._log:
            return np.zeros((0, 4), np.int64)
        return np.concatenate(self._log)


class NocCL(Component):
    """The network as one component: a single SimPy process steps :class:`NocEngine` once per cycle of ``clock``.

    It runs until every packet of ``trace`` has been delivered, or until ``stop(engine, cycle)`` returns True
    (checked after every step). ``cycles`` is then the number of cycles simulated (last cycle + 1).
    ``copies > 1`` simulates that many independent copies of the network side by side in the same arrays
    (router ``r`` of copy ``c`` is ``c * nodes + r``; the trace's node ids must be offset the same way): a
    sweep runs all its operating points in one pass, each bit-identical to running it alone.
    """

    STATS = NOC_STATS

    def __init__(self, sim: Simulation, name: str, clock: Clock, cfg: NocConfig, trace: Trace,
                 stop: Callable[[NocEngine, int], bool] | None = None, record_ejections: bool = False,
                 copies: int = 1):
        super().__init__(sim, name, clock)
        self.cfg = cfg
        self.engine = NocEngine(cfg, trace, record_ejections, copies)
        self.stop = stop
        self.cycles = 0

    def run(self):
        engine, clock = self.engine, self.clock
        t = engine.next_cycle(-1)
        if t is not None:
            yield clock.cycles(t)
        start_ps = self.env.now
        while t is not None:
            engine.step(t)
            if self.stop is not None and self.stop(engine, t):
                break
            nxt = engine.next_cycle(t)
            if nxt is None:
                break
            yield clock.cycles(nxt - t)
            t = nxt
        self.cycles = engine.last_cycle + 1
        for k, v in engine.counts.items():
            self.stats.add(k, v)
        self.span("busy", start_ps, self.env.now + clock.period_ps,
                  packets=int(engine.counts["packets_ejected"]))

    def line_trace(self) -> str:
        e = self.engine
        return (f"{self.name}@{self.clock.now_cycles}: {e.in_network} flits in network, "
                f"{int((e.q_count > 0).sum())} busy VCs, {e.counts['packets_ejected']}/{len(e.trace)} packets out")


def run_trace_cl(cfg: NocConfig, trace: Trace, record_ejections: bool = False,
                 trace_file: str | Path | Tracer | None = None) -> TraceResult:
    """Simulate a validated :class:`~hwsim.noc.traffic.Trace` until every packet is delivered (CL face)."""
    sim = Simulation(trace=trace_file if isinstance(trace_file, Tracer) else trace_file is not None, name="noc")
    clock = sim.clock("noc", cfg.period_ps)
    noc = NocCL(sim, "noc", clock, cfg, trace, record_ejections=record_ejections)
    wall0 = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - wall0
    if trace_file is not None and not isinstance(trace_file, Tracer):
        sim.tracer.write(trace_file)
    e = noc.engine
    topo = e.topo
    inv = np.empty(len(trace), np.int64)
    inv[trace.order] = np.arange(len(trace))  # record index -> packet number
    hops = topo.hops(trace.src, trace.dst)
    zero = hops * (cfg.router_cycles + cfg.link_cycles) + cfg.router_cycles + trace.flits - 1
    log = None
    if record_ejections:
        log = e.ejection_log().copy()
        log[:, 1] = trace.order[log[:, 1]] if log.size else log[:, 1]
    return TraceResult(
        face="cl", latency_cycles=(e.pkt_eject - trace.cycle)[inv], zero_load_latency_cycles=zero[inv],
        hops=hops[inv], link_flits=e.link_flits.copy(), link_names=topo.output_names(),
        stats=noc.stats.as_dict(), cycles=int(e.pkt_eject.max()) + 1 if len(trace) else 0,
        inject_cycle=e.pkt_inject[inv], eject_cycle=e.pkt_eject[inv], ejections=log, wall_s=wall)


def _check_windows(warmup_cycles, measure_cycles, drain_cycles) -> None:
    problems = [f"{name}: must be an integer >= {lo}, got {v!r}" for name, v, lo in (
        ("warmup_cycles", warmup_cycles, 0), ("measure_cycles", measure_cycles, 1),
        ("drain_cycles", 0 if drain_cycles is None else drain_cycles, 0))
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo]
    if problems:
        raise ConfigError(problems)


def run_synthetic_cl(cfg: NocConfig, traffic: TrafficConfig, warmup_cycles: int = 1000, measure_cycles: int = 2000,
                     drain_cycles: int | None = None, drain: bool = True) -> NocResult:
    """One operating point of synthetic traffic on the CL face.

    Packets are created (Bernoulli, seeded) from cycle 0. Those created in the measurement window
    ``[warmup_cycles, warmup_cycles + measure_cycles)`` are measured: their latencies give the average and
    percentiles; the flits ejected during the window give the accepted throughput (per active node per
    cycle) and the per-link utilisation. With ``drain``, traffic keeps being offered after the window
    until every measured packet has been delivered or ``drain_cycles`` (default: warmup + measure) more
    cycles have passed; without it the run stops at the end of the window (for saturation throughput,
    where latencies are meaningless).
    """
    return run_synthetic_batch_cl(cfg, [traffic], warmup_cycles, measure_cycles, drain_cycles, [drain])[0]


def run_synthetic_batch_cl(cfg: NocConfig, traffics: list[TrafficConfig], warmup_cycles: int = 1000,
                           measure_cycles: int = 2000, drain_cycles: int | None = None,
                           drain: bool | list[bool] = True) -> list[NocResult]:
    """Several operating points on the same network in one simulation (:func:`run_synthetic_cl` for each; one
    copy of the network per point, so the results equal separate runs bit for bit). The run lasts until
    every draining point is done; ``drain`` may be given per point."""
    _check_windows(warmup_cycles, measure_cycles, drain_cycles)
    k = len(traffics)
    drains = [drain] * k if isinstance(drain, bool) else list(drain)
    if len(drains) != k or not k:
        raise ConfigError(f"drain: give one flag per operating point ({k}), got {len(drains)}")
    w, m = int(warmup_cycles), int(measure_cycles)
    d = w + m if drain_cycles is None else int(drain_cycles)
    horizons = [w + m + (d if dr else 0) for dr in drains]
    n1 = Topology.of(cfg).nodes
    parts = [synthetic_trace(cfg, tr, h) for tr, h in zip(traffics, horizons)]
    trace = build_trace(np.concatenate([p.cycle for p in parts]),
                   np.concatenate([p.src + c * n1 for c, p in enumerate(parts)]),
                   np.concatenate([p.dst + c * n1 for c, p in enumerate(parts)]),
                   np.concatenate([p.flits for p in parts]))
    copy_of = trace.src // n1
    lo, hi = (int(x) for x in np.searchsorted(trace.cycle, [w, w + m]))
    results: list[NocResult | None] = [None] * k
    wall0 = time.perf_counter()

    def stop(engine: NocEngine, t: int) -> bool:
        if t < w + m - 1:
            return False
        for c in range(k):  # a point is done where its own run would stop; its results are taken then
            if results[c] is None and (not drains[c] or engine.watch_left[c] == 0 or t >= horizons[c] - 1):
                results[c] = _point(cfg, traffics[c], engine, trace, c, lo, hi, w, m, t + 1,
                                    (time.perf_counter() - wall0) / k)
        return all(r is not None for r in results)

    sim = Simulation(name="noc")
    clock = sim.clock("noc", cfg.period_ps)
    noc = NocCL(sim, "noc", clock, cfg, trace, stop=stop, copies=k)
    e = noc.engine
    e.win_start, e.win_end = w, w + m
    watch = np.full(len(trace), -1, np.int64)
    measured = np.arange(lo, hi)
    awaited = measured[np.asarray(drains)[copy_of[lo:hi]]]
    watch[awaited] = copy_of[awaited]
    e.watch = watch
    e.watch_left = np.bincount(copy_of[awaited], minlength=k).astype(np.int64)
    e.mandatory = sorted({w + m - 1, *(h - 1 for h in horizons)})
    sim.run()
    return results


def _point(cfg, traffic, e: NocEngine, trace: Trace, c: int, lo: int, hi: int, w: int, m: int, cycles: int,
           wall: float) -> NocResult:
    """The results of copy ``c`` of a batched synthetic run."""
    n1, p = e.N1, e.P
    nodes = slice(c * n1, (c + 1) * n1)
    links = slice(c * n1 * p, (c + 1) * n1 * p)
    copy_of = trace.src // n1
    sel = np.flatnonzero(copy_of[lo:hi] == c) + lo
    created = trace.cycle[sel]
    eject = e.pkt_eject[sel]
    done = eject >= 0
    lat = (eject - created)[done]
    pct = percentiles(lat)
    src, dst = trace.src[sel] - c * n1, trace.dst[sel] - c * n1
    hops = e.topo.hops(src, dst)
    zero = hops * (cfg.router_cycles + cfg.link_cycles) + cfg.router_cycles + trace.flits[sel] - 1
    active = active_sources(cfg, traffic)
    sources = active.size
    offered = trace.flits[sel].sum() / (sources * m)
    accepted = e.win_src_flits[nodes].sum() / (sources * m)
    per_source = e.win_src_flits[nodes][active] / m
    own = np.bincount(src, weights=np.where(done, eject - created, np.inf), minlength=n1)
    base = np.bincount(src, weights=zero, minlength=n1)
    sent = base > 0
    worst = float((own[sent] / base[sent]).max()) if sent.any() else 0.0
    return NocResult(
        face="cl", injection_rate=traffic.injection_rate, accepted_throughput=float(accepted),
        min_accepted_throughput=float(per_source.min()) if per_source.size else 0.0,
        avg_latency_cycles=pct["avg"], p50_latency_cycles=pct["p50"], p95_latency_cycles=pct["p95"],
        p99_latency_cycles=pct["p99"], zero_load_latency_cycles=float(zero.mean()) if zero.size else 0.0,
        avg_hops=float(hops.mean()) if hops.size else 0.0, worst_source_latency_ratio=worst,
        saturated=bool(not done.all() or accepted < 0.95 * offered or worst > SATURATION_LATENCY_FACTOR),
        link_utilisation=e.win_link_flits[links] / m, link_names=e.topo.output_names(), stats=_copy_stats(e, trace, c),
        packets_measured=int(sel.size), packets_delivered=int(done.sum()), cycles=cycles, wall_s=wall)


def _copy_stats(e: NocEngine, trace: Trace, c: int) -> dict[str, int]:
    """Action counters of copy ``c`` of a batched run, from per-link, per-interface and per-packet records."""
    n1, p = e.N1, e.P
    link = e.link_flits[c * n1 * p:(c + 1) * n1 * p].reshape(n1, p)
    injected = int(e.ni_flits[c * n1:(c + 1) * n1].sum())
    hops = int(link[:, 1:].sum())
    traversals = int(link.sum())
    in_flight = sum(int((((ivs // (p * e.V)) // n1) == c).sum()) for ivs, _, _ in e.arrivals.values())
    mine = trace.src // n1 == c
    return {"packets_injected": int((e.pkt_inject[mine] >= 0).sum()),
            "packets_ejected": int((e.pkt_eject[mine] >= 0).sum()), "flits_injected": injected,
            "flits_ejected": int(link[:, LOCAL].sum()), "flit_hops": hops, "link_traversals": injected + traversals,
            "router_traversals": traversals, "buffer_writes": injected + hops - in_flight, "buffer_reads": traversals,
            "vc_allocations": int(e.va_router[c * n1:(c + 1) * n1].sum())}
