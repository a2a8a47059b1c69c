"""CL face, per channel: an event-driven FR-FCFS memory controller with per-bank state machines.

One :class:`ChannelController` drives the command bus of one channel and the banks of its pseudo
channels (HBM) or of its single rank (DDR4, LPDDR5). Time is in integer controller cycles; a command
issued at cycle ``t`` happens at ``t * period_ps`` ps.

**State.** Every timing constraint is kept as an "earliest allowed cycle" that an issued command
raises (the DRAMsim3 / Ramulator approach): per bank ``act_ok`` (tRC, tRP, tRFC), ``pre_ok`` (tRAS,
tRTP, tWR) and ``col_ok`` (tRCD); per bank group the ACT (tRRD_L) and RD/WR (tCCD_L, tWTR_L) limits;
per pseudo channel the ACT (tRRD_S, tFAW over the last four ACTs) and RD/WR (tCCD_S, burst length on
the data bus, tWTR_S, tRTW) limits; per channel the command bus(es). A command's earliest cycle is
the maximum of the limits that apply to it, so every command lands on an integer cycle that respects
all of them.

**Scheduling (FR-FCFS).** Requests wait in a queue of ``queue_depth`` entries per pseudo channel,
kept per bank in arrival order. At a decision cycle ``t`` each bank with queued requests offers one
candidate: the RD/WR of its oldest request that hits the open row; else a PRE (open row, no queued
hit) or an ACT (closed bank) for its oldest request. Among candidates ready at ``t``, row hits
(column commands) go first, oldest first; then ACT/PRE, oldest first. With separate row and column
command buses (HBM) one column and one row command may issue in the same cycle; otherwise one command
per cycle. A pending refresh has priority over every other command of its pseudo channel.

**Closed page.** A RD/WR is issued with auto-precharge (RDA/WRA) unless another queued request hits
the same row; the bank then precharges itself at ``max(ACT + tRAS, RD + tRTP)`` or
``WR + tCWL + burst + tWR``, with no command-bus slot.

**Refresh.** All-bank refresh per pseudo channel on a fixed grid: due at ``k * tREFI`` (all pseudo
channels at the same times). When due, the pseudo channel stops issuing RD/WR/ACT, closes its open
banks with one PREA (when their tRAS/tRTP/tWR allow), issues REF tRP later (after tRC from the last
ACT) and is blocked for tRFC.

**Event-driven.** The controller wakes only at cycles where something can happen: the earliest
cycle any candidate becomes ready, a refresh due time, or a request arrival (seen at the first
clock edge at or after it). It never ticks idle cycles. An idle controller (no queued requests)
schedules nothing, so ``sim.run()`` ends; the refreshes it skipped are replayed at their exact
cycles when the next request arrives.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy
from simpy.events import NORMAL

if TYPE_CHECKING:
    from hwsim.memory.dram.system import DramSystem

INF = 1 << 62
OTHER_DIRECTION = 1 << 48  # priority offset of row commands prepared for the other read/write direction


class Completion(simpy.Event):
    """The event returned by ``DramSystem.request``: succeeds with the completion time in ps."""

    __slots__ = ()

    def finish_at(self, value_ps: int, delay_ps: int) -> None:
        """Trigger at ``now + delay_ps`` with value ``value_ps`` (as a Timeout does)."""
        self._ok = True
        self._value = value_ps
        self.env.schedule(self, NORMAL, delay_ps)


class Request:
    """One queued transaction. ``kind``: 0 row hit, 1 miss (needed an ACT), 2 conflict (needed PRE + ACT)."""

    __slots__ = ("seq", "addr", "is_write", "bank", "row", "arrival_ps", "event", "kind")

    def __init__(self, seq: int, addr: int, is_write: bool, bank: int, row: int, arrival_ps: int,
                 event: Completion):
        self.seq = seq
        self.addr = addr
        self.is_write = is_write
        self.bank = bank
        self.row = row
        self.arrival_ps = arrival_ps
        self.event = event
        self.kind = 0


class PseudoChannelState:
    """Banks, timing limits and the request queue of one pseudo channel (or rank)."""

    __slots__ = ("index", "open_row", "act_ok", "pre_ok", "col_ok", "bg_act_ok", "bg_rd_ok", "bg_wr_ok",
                 "act_any_ok", "rd_ok", "wr_ok", "acts", "bank_q", "active", "queued", "waiting", "ref_due",
                 "reads_q", "writes_q", "write_mode")

    def __init__(self, index: int, banks: int, bank_groups: int, first_refresh: int):
        self.index = index
        self.open_row = [-1] * banks
        self.act_ok = [0] * banks
        self.pre_ok = [0] * banks
        self.col_ok = [0] * banks
        self.bg_act_ok = [0] * bank_groups
        self.bg_rd_ok = [0] * bank_groups
        self.bg_wr_ok = [0] * bank_groups
        self.act_any_ok = 0
        self.rd_ok = 0
        self.wr_ok = 0
        self.acts: deque[int] = deque(maxlen=4)  # cycles of the last four ACTs (tFAW)
        self.bank_q: list[list[Request]] = [[] for _ in range(banks)]
        self.active: dict[int, None] = {}  # banks with queued requests (insertion-ordered set)
        self.queued = 0
        self.reads_q = 0  # queued reads / writes (back-pressured ones excluded)
        self.writes_q = 0
        self.write_mode = False  # draining writes (see ChannelController._next_mode)
        self.waiting: deque[Request] = deque()  # back-pressured requests (queue full), in arrival order
        self.ref_due = first_refresh


class ChannelController:
    """The FR-FCFS controller of one channel (see the module docstring)."""

    def __init__(self, system: "DramSystem", index: int, pcs: list[PseudoChannelState]):
        cfg = system.cfg
        c = system.timing
        self.system = system
        self.env = system.env
        self.index = index
        self.pcs = pcs
        self.period = cfg.period_ps
        self.depth = cfg.queue_depth
        self.closed_page = cfg.page_policy == "closed"
        self.separate_buses = cfg.separate_row_column_bus
        self.refresh = cfg.refresh
        self.bank_bg = [b // cfg.banks_per_group for b in range(cfg.banks)]
        self.write_high = max(1, (3 * cfg.queue_depth + 3) // 4)  # enter write drain at 3/4 of the queue
        self.write_low = cfg.queue_depth // 4  # leave it at 1/4
        self.c = c
        self.ccd_s = max(c.CCD_S, c.burst)  # the data bus holds one burst at a time
        # earliest gap from one RD/WR to the next RD/WR of the same pseudo channel
        self.min_col_gap = max(1, min(self.ccd_s, c.RTW, c.CWL + c.burst + c.WTR_S))
        self.row_bus = 0  # earliest cycle the row-command bus (or the single bus) is free
        self.col_bus = 0
        self.pending = 0  # queued + back-pressured requests of this channel
        self._wake_at: int | None = None  # cycle of this controller's scheduled decision
        # idle: replay decisions from this cycle on the next arrival (an idle controller schedules nothing)
        self._resume: int | None = min(pc.ref_due for pc in pcs) if cfg.refresh else None
        self.rec = system.commands  # list to append commands to, or None
        # counters (summed by DramSystem.stats)
        self.n = {k: 0 for k in ("reads", "writes", "activates", "precharges", "refreshes", "row_hits",
                                 "row_misses", "row_conflicts", "latency_sum_ps", "read_latency_sum_ps",
                                 "write_latency_sum_ps")}

    # --- arrivals and wake-ups -------------------------------------------------------------------
    def enqueue(self, pc: PseudoChannelState, req: Request) -> None:
        now = self.env.now
        cyc = -(-now // self.period)
        was_idle = self.pending == 0
        if was_idle:
            self.catch_up(cyc)
        self.pending += 1
        if pc.queued < self.depth:
            self._admit(pc, req)
        else:
            pc.waiting.append(req)  # admitted by a RD/WR issue, inside a decision
            return
        if not was_idle:  # an active controller has a wake-up planned (refreshes included)
            cyc = self._earliest(pc, req, cyc)
        if self._wake_at is None or cyc < self._wake_at:
            self._wake_at = cyc
            self.system._wake(cyc, self)

    def _earliest(self, pc: PseudoChannelState, req: Request, t: int) -> int:
        """A lower bound of the cycle at which the new request's next command may issue (>= ``t``)."""
        if t >= pc.ref_due:
            return t
        mode = self._next_mode(pc)
        if mode != pc.write_mode:
            return t  # the arrival switches the read/write direction: decide now
        b = req.bank
        r_open = pc.open_row[b]
        if r_open == req.row:
            g = self.bank_bg[b]
            if req.is_write:
                ready = max(pc.col_ok[b], pc.bg_wr_ok[g], pc.wr_ok, self.col_bus)
            else:
                ready = max(pc.col_ok[b], pc.bg_rd_ok[g], pc.rd_ok, self.col_bus)
        elif r_open >= 0:
            ready = max(pc.pre_ok[b], self.row_bus)
        else:
            g = self.bank_bg[b]
            ready = max(pc.act_ok[b], pc.bg_act_ok[g], pc.act_any_ok, self.row_bus)
            if len(pc.acts) == 4 and pc.acts[0] + self.c.FAW > ready:
                ready = pc.acts[0] + self.c.FAW
        return ready if ready > t else t

    def catch_up(self, cycle: int) -> None:
        """Idle controller: replay the decisions (refreshes only) it skipped before ``cycle``."""
        if self.pending == 0 and self._resume is not None:
            t = self._resume
            while t < cycle:
                t = self._decide(t)
            self._resume = t if t < INF else None

    def _admit(self, pc: PseudoChannelState, req: Request) -> None:
        b = req.bank
        q = pc.bank_q[b]
        if not q:
            pc.active[b] = None
        q.append(req)
        pc.queued += 1
        if req.is_write:
            pc.writes_q += 1
        else:
            pc.reads_q += 1

    def _next_mode(self, pc: PseudoChannelState) -> bool:
        """Read/write batching: the direction (True = writes) the pseudo channel serves next.

        Reads are served until ``write_high`` writes are queued (or no read is queued); writes are then
        drained until at most ``write_low`` remain while reads wait (or none remain).
        """
        w = pc.writes_q
        if pc.write_mode:
            return not (w == 0 or (w <= self.write_low and pc.reads_q > 0))
        return w >= self.write_high or (pc.reads_q == 0 and w > 0)

    def wake(self, t: int) -> None:
        """Called by the system timer at cycle ``t`` (when this is the controller's latest wake-up)."""
        self._wake_at = None
        nxt = self._decide(t)
        if self.pending:
            self._wake_at = nxt
            self.system._wake(nxt, self)
        else:
            self._resume = nxt if nxt < INF else None

    # --- the scheduler ---------------------------------------------------------------------------
    def _decide(self, t: int) -> int:
        """Issue what FR-FCFS picks at cycle ``t`` (at most one command per bus); return the next
        decision cycle.

        The returned cycle is a lower bound of when the next command can issue (exact when nothing
        was issued): candidates that were not ready keep their ready cycle (constraints only grow),
        ready ones that lost arbitration get the earliest cycle the issued commands allow them, and
        the banks that issued are re-evaluated. Waking early is harmless; waking late never happens.
        """
        bank_bg = self.bank_bg
        faw = self.c.FAW
        best_col = best_row = None
        col_seq = row_seq = INF
        ready_now: list = []  # per pseudo channel with ready candidates: (pc, columns, ACTs, other row cmds)
        nxt = INF
        col_bus, row_bus = self.col_bus, self.row_bus
        for pc in self.pcs:
            if t >= pc.ref_due:  # refresh pending: PREA, then REF
                open_banks = [b for b, r in enumerate(pc.open_row) if r >= 0]
                if open_banks:
                    ready = max(max(pc.pre_ok[b] for b in open_banks), row_bus)
                    cand = ("PREA", pc, open_banks, None)
                else:
                    ready = max(max(pc.act_ok), row_bus)
                    cand = ("REF", pc, None, None)
                if ready <= t:
                    ready_now.append((pc, 0, 0, 1))
                    if row_seq > -1:
                        best_row, row_seq = cand, -1
                elif ready < nxt:
                    nxt = ready
                continue
            if pc.ref_due < nxt:
                nxt = pc.ref_due
            open_row = pc.open_row
            bank_q = pc.bank_q
            col_ok = pc.col_ok
            bg_rd_ok = pc.bg_rd_ok
            bg_wr_ok = pc.bg_wr_ok
            n_col = n_act = n_row = 0
            rd_min = pc.rd_ok if pc.rd_ok > col_bus else col_bus
            wr_min = pc.wr_ok if pc.wr_ok > col_bus else col_bus
            want_w = pc.write_mode = self._next_mode(pc)
            for b in pc.active:
                q = bank_q[b]
                r_open = open_row[b]
                r = q[0]
                if r.row == r_open and r.is_write == want_w:
                    i = 0
                    is_w = want_w
                else:  # the oldest row hit (current direction first); else a row command
                    i = -1
                    cur = None  # oldest request of the current direction
                    oth = -1  # index of the oldest row hit of the other direction
                    for j in range(len(q)):
                        rj = q[j]
                        if rj.row == r_open:
                            if rj.is_write == want_w:
                                i = j
                                r = rj
                                break
                            if oth < 0:
                                oth = j
                        elif cur is None and rj.is_write == want_w:
                            cur = rj
                    is_w = want_w
                    if i < 0 and oth >= 0:  # a hit of the other direction: issued when the current has none ready
                        i = oth
                        r = q[oth]
                        is_w = not want_w
                if i >= 0:  # column command (row hits first)
                    ready = col_ok[b]
                    if is_w:
                        lim = bg_wr_ok[bank_bg[b]]
                        if lim < wr_min:
                            lim = wr_min
                    else:
                        lim = bg_rd_ok[bank_bg[b]]
                        if lim < rd_min:
                            lim = rd_min
                    if lim > ready:
                        ready = lim
                    if ready <= t:
                        n_col += 1
                        prio = r.seq if is_w == want_w else r.seq + OTHER_DIRECTION
                        if prio < col_seq:
                            best_col, col_seq = (pc, b, i, r), prio
                    elif ready < nxt:
                        nxt = ready
                    continue
                # row command for the oldest request of the current direction, else for the oldest
                # request (preparing the other direction's rows, at a lower priority)
                if cur is None:
                    oldest, prio = q[0], q[0].seq + OTHER_DIRECTION
                else:
                    oldest, prio = cur, cur.seq
                if r_open >= 0:  # (no queued request hits the open row)
                    ready = pc.pre_ok[b]
                    if ready < row_bus:
                        ready = row_bus
                    kind = "PRE"
                else:
                    ready = pc.act_ok[b]
                    g = bank_bg[b]
                    if pc.bg_act_ok[g] > ready:
                        ready = pc.bg_act_ok[g]
                    if pc.act_any_ok > ready:
                        ready = pc.act_any_ok
                    if row_bus > ready:
                        ready = row_bus
                    acts = pc.acts
                    if len(acts) == 4 and acts[0] + faw > ready:
                        ready = acts[0] + faw
                    kind = "ACT"
                if ready <= t:
                    if kind == "ACT":
                        n_act += 1
                    else:
                        n_row += 1
                    if prio < row_seq:
                        best_row, row_seq = (kind, pc, b, oldest), prio
                elif ready < nxt:
                    nxt = ready
            if n_col or n_act or n_row:
                ready_now.append((pc, n_col, n_act, n_row))
        if not ready_now:
            return nxt
        # issue
        col_pc = row_pc = None
        row_kind = None
        recheck: list = []  # (pc, bank) whose candidate changed
        if best_col is not None:
            col_pc = best_col[0]
            admitted = self._column(t, *best_col)
            if admitted is not None and admitted.bank != best_col[1]:
                recheck.append((col_pc, admitted.bank))  # a back-pressured request entered the queue
            recheck.append((col_pc, best_col[1]))
            if self._next_mode(col_pc) != col_pc.write_mode:
                nxt = t + 1  # the read/write direction switches: its candidates are decided next cycle
            if not self.separate_buses:
                best_row = None  # a row command lost the single bus
        if best_row is not None:
            row_kind, row_pc = best_row[0], best_row[1]
            self._row(t, *best_row)
            if row_kind in ("ACT", "PRE"):
                recheck.append((row_pc, best_row[2]))
            else:
                nxt = t + 1  # PREA/REF: re-decide next cycle
        # lower bounds for the candidates that were ready but did not issue
        t1 = t + 1
        for pc, n_col, n_act, n_row in ready_now:
            if pc is col_pc:
                n_col -= 1
                if n_col:
                    lb = t + self.min_col_gap
                    if lb < nxt:
                        nxt = lb
            elif n_col:
                nxt = t1
            if pc is row_pc:
                if row_kind == "ACT":
                    n_act -= 1
                else:
                    n_row -= 1
            if n_row or n_act and not (pc is row_pc and row_kind == "ACT"):
                nxt = t1
            elif n_act:  # ACTs of the pseudo channel that just activated wait tRRD_S at least
                lb = t + self.c.RRD_S
                if lb < nxt:
                    nxt = lb
        for pc, b in recheck:  # exact next cycle of the banks that changed (the issued ones excluded above)
            lb = self._bank_ready(pc, b, t)
            if lb < nxt:
                nxt = lb
        return nxt if nxt > t else t1

    def _bank_ready(self, pc: PseudoChannelState, b: int, t: int) -> int:
        """Ready cycle of bank ``b``'s candidate in the current direction; INF if it has none."""
        if t >= pc.ref_due:
            return t + 1
        want_w = pc.write_mode
        q = pc.bank_q[b]
        if not q:
            return INF
        r_open = pc.open_row[b]
        if r_open >= 0:
            hit = None
            for r in q:
                if r.row == r_open:
                    if r.is_write == want_w:
                        hit = r
                        break
                    if hit is None:
                        hit = r
            if hit is not None:
                g = self.bank_bg[b]
                if hit.is_write:
                    return max(pc.col_ok[b], pc.bg_wr_ok[g], pc.wr_ok, self.col_bus)
                return max(pc.col_ok[b], pc.bg_rd_ok[g], pc.rd_ok, self.col_bus)
            return max(pc.pre_ok[b], self.row_bus)
        g = self.bank_bg[b]
        ready = max(pc.act_ok[b], pc.bg_act_ok[g], pc.act_any_ok, self.row_bus)
        if len(pc.acts) == 4 and pc.acts[0] + self.c.FAW > ready:
            ready = pc.acts[0] + self.c.FAW
        return ready

    # --- command issue ---------------------------------------------------------------------------
    def _column(self, t: int, pc: PseudoChannelState, b: int, i: int, req: Request) -> Request | None:
        c = self.c
        g = self.bank_bg[b]
        q = pc.bank_q[b]
        del q[i]
        auto_pre = False
        if self.closed_page:
            auto_pre = True
            for r in q:
                if r.row == req.row:
                    auto_pre = False
                    break
        n = self.n
        if req.is_write:
            end = t + c.CWL + c.burst
            if pc.pre_ok[b] < end + c.WR:
                pc.pre_ok[b] = end + c.WR
            if pc.bg_wr_ok[g] < t + c.CCD_L:
                pc.bg_wr_ok[g] = t + c.CCD_L
            if pc.wr_ok < t + self.ccd_s:
                pc.wr_ok = t + self.ccd_s
            if pc.bg_rd_ok[g] < end + c.WTR_L:
                pc.bg_rd_ok[g] = end + c.WTR_L
            if pc.rd_ok < end + c.WTR_S:
                pc.rd_ok = end + c.WTR_S
            done = end
            n["writes"] += 1
            cmd = "WRA" if auto_pre else "WR"
        else:
            if pc.pre_ok[b] < t + c.RTP:
                pc.pre_ok[b] = t + c.RTP
            if pc.bg_rd_ok[g] < t + c.CCD_L:
                pc.bg_rd_ok[g] = t + c.CCD_L
            if pc.rd_ok < t + self.ccd_s:
                pc.rd_ok = t + self.ccd_s
            if pc.wr_ok < t + c.RTW:
                pc.wr_ok = t + c.RTW
            done = t + c.CL + c.burst
            n["reads"] += 1
            cmd = "RDA" if auto_pre else "RD"
        if auto_pre:  # the bank precharges itself as soon as tRAS/tRTP/tWR allow
            pc.open_row[b] = -1
            if pc.act_ok[b] < pc.pre_ok[b] + c.RP:
                pc.act_ok[b] = pc.pre_ok[b] + c.RP
            n["precharges"] += 1
        self.col_bus = t + 1
        if not self.separate_buses:
            self.row_bus = t + 1
        if not q:
            del pc.active[b]
        pc.queued -= 1
        if req.is_write:
            pc.writes_q -= 1
        else:
            pc.reads_q -= 1
        self.pending -= 1
        admitted = None
        if pc.waiting:
            admitted = pc.waiting.popleft()
            self._admit(pc, admitted)
        kind = req.kind
        if kind == 0:
            n["row_hits"] += 1
        elif kind == 1:
            n["row_misses"] += 1
        else:
            n["row_conflicts"] += 1
        done_ps = done * self.period
        lat = done_ps - req.arrival_ps
        n["latency_sum_ps"] += lat
        n["write_latency_sum_ps" if req.is_write else "read_latency_sum_ps"] += lat
        if self.rec is not None:
            self.rec.append((t, cmd, pc.index, b, req.row))
        req.event.finish_at(done_ps, done_ps - self.env.now)
        return admitted

    def _row(self, t: int, kind: str, pc: PseudoChannelState, b, req: Request | None) -> None:
        c = self.c
        n = self.n
        rec = self.rec
        if kind == "ACT":
            g = self.bank_bg[b]
            pc.open_row[b] = req.row
            pc.col_ok[b] = t + c.RCD
            if pc.pre_ok[b] < t + c.RAS:
                pc.pre_ok[b] = t + c.RAS
            if pc.act_ok[b] < t + c.RC:
                pc.act_ok[b] = t + c.RC
            pc.bg_act_ok[g] = t + c.RRD_L
            pc.act_any_ok = t + c.RRD_S
            pc.acts.append(t)
            if req.kind == 0:
                req.kind = 1
            n["activates"] += 1
            if rec is not None:
                rec.append((t, "ACT", pc.index, b, req.row))
        elif kind == "PRE":
            pc.open_row[b] = -1
            if pc.act_ok[b] < t + c.RP:
                pc.act_ok[b] = t + c.RP
            req.kind = 2
            n["precharges"] += 1
            if rec is not None:
                rec.append((t, "PRE", pc.index, b, -1))
        elif kind == "PREA":
            for bank in b:
                pc.open_row[bank] = -1
                if pc.act_ok[bank] < t + c.RP:
                    pc.act_ok[bank] = t + c.RP
            n["precharges"] += len(b)
            if rec is not None:
                rec.append((t, "PREA", pc.index, -1, -1))
        else:  # REF
            done = t + c.RFC
            act_ok = pc.act_ok
            for bank in range(len(act_ok)):
                if act_ok[bank] < done:
                    act_ok[bank] = done
            pc.ref_due += c.REFI
            n["refreshes"] += 1
            if rec is not None:
                rec.append((t, "REF", pc.index, -1, -1))
        self.row_bus = t + 1
        if not self.separate_buses:
            self.col_bus = t + 1
