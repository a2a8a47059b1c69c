"""An independent, deliberately simple reference cache, written for the tests of hwsim.memory.cache.

It shares no code with hwsim. Each set is a plain list. For LRU and FIFO the list is ordered oldest
first. For random and tree-PLRU it is a list of way slots. Addresses are split with // and %, not
with shifts. ``reference_timeline`` applies the CL face's timing rules (hwsim/memory/cache.py module
docstring) with a plain loop and a list of fill times, for a fixed-latency next level.

Policies, as specified in docs/sram_cache.md:

* lru: on a hit, move the line to the newest end. Evict the oldest.
* fifo: hits do not reorder. Evict the oldest fill.
* random: slots are filled lowest-first. When the set is full, evict slot ``rng.randrange(ways)``
  with ``rng = random.Random(seed)``: one stream per cache, one draw per eviction.
* plru: slots are filled lowest-first. A binary tree over the slots holds, at each node, the half to
  evict from next (initially the lower half). A use of a slot points every node on its path at the
  other half. The victim is found by following the pointers from the root.
"""

from __future__ import annotations

import random


class RefCache:
    def __init__(self, sets, ways, line_bytes, policy="lru", write_back=True, seed=0, access_bytes=8):
        self.nsets, self.ways, self.line_bytes = sets, ways, line_bytes
        self.policy, self.write_back, self.access_bytes = policy, write_back, access_bytes
        # LRU/FIFO: set -> list of [line, dirty], oldest first. random/plru: set -> list of slots
        # (None or [line, dirty]).
        if policy in ("lru", "fifo"):
            self.sets = {i: [] for i in range(sets)}
        else:
            self.sets = {i: [None] * ways for i in range(sets)}
        self.rng = random.Random(seed)
        self.tree = {i: {} for i in range(sets)}  # plru: set -> {(lo, hi): "low" | "high"}
        self.c = dict(reads=0, writes=0, hits=0, misses=0, read_misses=0, write_misses=0, evictions=0,
                      writebacks=0, write_throughs=0, bytes_from_next=0, bytes_to_next=0)

    # -- helpers ------------------------------------------------------------------------------
    def _find(self, line):
        entries = self.sets[line % self.nsets]
        for i, e in enumerate(entries):
            if e is not None and e[0] == line:
                return i
        return None

    def contains(self, line):
        return self._find(line) is not None

    def _plru_use(self, s, slot):
        lo, hi = 0, self.ways
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if slot < mid:
                self.tree[s][(lo, hi)] = "high"
                hi = mid
            else:
                self.tree[s][(lo, hi)] = "low"
                lo = mid
        return None

    def _plru_victim(self, s):
        lo, hi = 0, self.ways
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.tree[s].get((lo, hi), "low") == "low":
                hi = mid
            else:
                lo = mid
        return lo

    # -- one access ---------------------------------------------------------------------------
    def access(self, addr, is_write):
        """Returns (hit, evicted line or None)."""
        c = self.c
        c["writes" if is_write else "reads"] += 1
        line = addr // self.line_bytes
        s = line % self.nsets
        entries = self.sets[s]
        i = self._find(line)
        if i is not None:
            c["hits"] += 1
            if self.policy == "lru":
                entries.append(entries.pop(i))
                i = len(entries) - 1
            elif self.policy == "plru":
                self._plru_use(s, i)
            if is_write:
                if self.write_back:
                    entries[i][1] = True
                else:
                    c["write_throughs"] += 1
                    c["bytes_to_next"] += self.access_bytes
            return True, None
        c["misses"] += 1
        c["write_misses" if is_write else "read_misses"] += 1
        if is_write and not self.write_back:
            c["write_throughs"] += 1
            c["bytes_to_next"] += self.access_bytes
            return False, None
        c["bytes_from_next"] += self.line_bytes
        new = [line, is_write and self.write_back]
        victim = None
        if self.policy in ("lru", "fifo"):
            if len(entries) == self.ways:
                victim = entries.pop(0)
            entries.append(new)
        else:
            if None in entries:
                slot = entries.index(None)
            else:
                slot = self.rng.randrange(self.ways) if self.policy == "random" else self._plru_victim(s)
                victim = entries[slot]
            entries[slot] = new
            if self.policy == "plru":
                self._plru_use(s, slot)
        if victim is not None:
            c["evictions"] += 1
            if victim[1]:
                c["writebacks"] += 1
                c["bytes_to_next"] += self.line_bytes
            return False, victim[0]
        return False, None


def reference_counts(trace, **cache_args):
    """Counts of a trace of (addr, is_write) on a fresh RefCache."""
    ref = RefCache(**cache_args)
    for addr, w in trace:
        ref.access(addr, w)
    return ref.c


def reference_timeline(trace, arrivals, *, mshrs, merge, hit_latency, miss_latency, **cache_args):
    """(outcome, lookup cycle, done cycle) of every access, and the counts.

    The front end looks up one request per cycle, in order. A fill at f frees its MSHR and makes the line
    a hit for lookups in cycle f or later. A miss fills at lookup + hit + miss latency.
    """
    ref = RefCache(**cache_args)
    fills = []  # fill cycles of outstanding misses
    pending = {}  # resident line -> its fill cycle
    out = []
    prev = -1
    for (addr, w), arrive in zip(trace, arrivals):
        c = max(arrive, prev + 1)
        line = addr // ref.line_bytes
        while True:
            fills = [f for f in fills if f > c]
            if line in pending and pending[line] <= c:
                del pending[line]
            resident = ref.contains(line)
            if resident and line in pending:
                if not merge:
                    c = pending[line]  # wait for the fill, then look up again
                    continue
                ref.access(addr, w)
                out.append(("merge", c, max(pending[line], c + hit_latency)))
                break
            if resident:
                ref.access(addr, w)
                out.append(("hit", c, c + hit_latency))
                break
            if w and not ref.write_back:
                ref.access(addr, w)
                out.append(("miss", c, c + hit_latency))
                break
            if len(fills) >= mshrs:
                c = min(fills)  # blocked until the first fill frees an MSHR
                continue
            _, evicted = ref.access(addr, w)
            pending.pop(evicted, None)
            f = c + hit_latency + miss_latency
            fills.append(f)
            pending[line] = f
            out.append(("miss", c, f))
            break
        prev = c
    return out, ref.c
