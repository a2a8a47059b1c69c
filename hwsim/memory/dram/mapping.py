"""Address mapping: a byte address -> (stack, channel, pseudo channel, bank group, bank, row, column).

The mapping is an order of fields from MSB to LSB, e.g. ``ro-ba-co-bg-st-pc-ch`` (the default). Below
the LSB field sit the byte offset bits of one transaction (``transaction_bytes``), which must be
zero: requests are whole, aligned transactions. ``co`` indexes column *blocks* of one burst
(``columns / burst_length`` per row). Field sizes need not be powers of two (mixed radix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.errors import ConfigError
from hwsim.memory.dram.config import MAPPING_FIELDS, DramConfig


class DramAddressError(ConfigError, ValueError):
    """A request address that is misaligned or outside the memory (a ConfigError and a ValueError)."""


@dataclass(frozen=True)
class DecodedAddress:
    stack: int
    channel: int
    pseudo_channel: int
    bank_group: int
    bank: int  # bank within its group
    row: int
    column_block: int


class AddressMapping:
    """Decodes and encodes byte addresses for one :class:`DramConfig`."""

    def __init__(self, cfg: DramConfig):
        self.cfg = cfg
        self.transaction_bytes = cfg.transaction_bytes
        self.capacity_bytes = cfg.capacity_bytes
        order = cfg.address_mapping.split("-")
        # fields absent from the mapping have count 1 (checked by the config)
        self.lsb_first: list[tuple[str, int]] = [(f, cfg.field_count(f)) for f in reversed(order)]
        self._names = list(MAPPING_FIELDS)
        self._pos = {f: i for i, f in enumerate(self._names)}
        tb = self.transaction_bytes
        self._shift = tb.bit_length() - 1 if tb & (tb - 1) == 0 else None
        # per-field (index into decode tuple, radix), LSB first
        self._radices = [(self._pos[f], n) for f, n in self.lsb_first]
        self._pcs = cfg.pseudo_channels
        self._chs = cfg.channels
        self._bpg = cfg.banks_per_group
        # fast path when every radix (and the transaction size) is a power of two: shifts and masks
        self._bits = None
        if self._shift is not None and all(n & (n - 1) == 0 for _, n in self.lsb_first):
            pos, bits = self._shift, {}
            for f, n in self.lsb_first:
                bits[f] = (pos, n - 1)
                pos += n.bit_length() - 1
            self._bits = bits
            (self._st_s, self._st_m), (self._ch_s, self._ch_m), (self._pc_s, self._pc_m) = (
                bits.get(f, (0, 0)) for f in ("st", "ch", "pc"))
            (self._bg_s, self._bg_m), (self._ba_s, self._ba_m), (self._ro_s, self._ro_m), (self._co_s, self._co_m) = (
                bits.get(f, (0, 0)) for f in ("bg", "ba", "ro", "co"))

    def check(self, addr: object) -> int:
        """The transaction index of ``addr``; raises :class:`DramAddressError` if it is not an aligned
        in-range byte address."""
        if isinstance(addr, bool) or not isinstance(addr, int):
            raise DramAddressError(f"address: must be an integer byte address, got {addr!r}")
        if not 0 <= addr < self.capacity_bytes:
            raise DramAddressError(f"address: must be in [0, {self.capacity_bytes}) (the memory's capacity in "
                                   f"bytes), got {addr:#x}")
        tb = self.transaction_bytes
        if addr % tb:
            raise DramAddressError(f"address: must be aligned to the {tb}-byte transaction, got {addr:#x}")
        return addr // tb

    def fields(self, addr: int) -> list[int]:
        """Field values in MAPPING_FIELDS order (st, ch, pc, bg, ba, ro, co) of a checked address."""
        x = addr >> self._shift if self._shift is not None else addr // self.transaction_bytes
        out = [0] * 7
        for idx, n in self._radices:
            x, out[idx] = divmod(x, n)
        return out

    def decode(self, addr: int) -> DecodedAddress:
        self.check(addr)
        st, ch, pc, bg, ba, ro, co = self.fields(addr)
        return DecodedAddress(st, ch, pc, bg, ba, ro, co)

    def locate(self, addr: int) -> tuple[int, int, int, int]:
        """(global pseudo channel index, bank index within it, row, column block) of a checked address.

        The global pseudo channel is ``(stack * channels + channel) * pseudo_channels + pc``; the
        bank index is ``bank_group * banks_per_group + bank``.
        """
        if self._bits is not None:
            a = addr
            return ((((a >> self._st_s) & self._st_m) * self._chs + ((a >> self._ch_s) & self._ch_m)) * self._pcs
                    + ((a >> self._pc_s) & self._pc_m),
                    ((a >> self._bg_s) & self._bg_m) * self._bpg + ((a >> self._ba_s) & self._ba_m),
                    (a >> self._ro_s) & self._ro_m, (a >> self._co_s) & self._co_m)
        st, ch, pc, bg, ba, ro, co = self.fields(addr)
        return ((st * self._chs + ch) * self._pcs + pc, bg * self._bpg + ba, ro, co)

    def locate_array(self, addrs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised :meth:`locate` of aligned in-range byte addresses (int64 arrays)."""
        x = np.asarray(addrs, dtype=np.int64) // self.transaction_bytes
        out = [np.zeros_like(x) for _ in range(7)]
        for idx, n in self._radices:
            x, out[idx] = np.divmod(x, n)
        st, ch, pc, bg, ba, ro, co = out
        return (st * self._chs + ch) * self._pcs + pc, bg * self._bpg + ba, ro, co

    def encode(self, stack: int = 0, channel: int = 0, pseudo_channel: int = 0, bank_group: int = 0,
               bank: int = 0, row: int = 0, column_block: int = 0) -> int:
        """The byte address of a transaction at the given coordinates."""
        values = dict(zip(self._names, (stack, channel, pseudo_channel, bank_group, bank, row, column_block)))
        x = 0
        for f, n in reversed(self.lsb_first):  # MSB first
            v = values[f]
            if not 0 <= v < n:
                raise DramAddressError(f"{MAPPING_FIELDS[f]}: must be in [0, {n}), got {v}")
            x = x * n + v
        for f in self._names:
            if f not in dict(self.lsb_first) and values[f] != 0:
                raise DramAddressError(f"{MAPPING_FIELDS[f]}: the mapping has no field {f}, so it must be 0, "
                                       f"got {values[f]}")
        return x * self.transaction_bytes
