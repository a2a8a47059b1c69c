"""Number formats of PE operands and accumulators, with bit-accurate numpy conversions.

Integers are held in ``int64`` arrays (two's complement semantics at the format's width);
fp16 in ``float16``; bf16 and fp32 in ``float32`` (a bf16 value is a float32 whose low 16 bits are 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.errors import ConfigError


@dataclass(frozen=True)
class NumberFormat:
    name: str
    kind: str  # "int" or "float"
    bits: int
    signed: bool = True

    @property
    def is_int(self) -> bool:
        return self.kind == "int"

    @property
    def min_int(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype that holds values of this format exactly."""
        if self.is_int:
            return np.dtype(np.int64)
        return np.dtype(np.float16) if self.name == "fp16" else np.dtype(np.float32)

    def storage_bytes(self, count: int) -> int:
        """Bytes to store ``count`` values packed (int4 packs two per byte)."""
        return -(-count * self.bits // 8)

    def wrap(self, values: np.ndarray) -> np.ndarray:
        """Reduce integers modulo 2**bits into the format's range (two's complement wrap-around)."""
        if not self.is_int:
            raise TypeError(f"{self.name} is not an integer format")
        if self.bits >= 64:
            return values.astype(np.int64, copy=False)
        mask = (1 << self.bits) - 1
        v = values.astype(np.int64, copy=False) & mask
        if self.signed:
            half = 1 << (self.bits - 1)
            v = np.where(v >= half, v - (1 << self.bits), v)
        return v

    def check(self, values: np.ndarray, what: str) -> np.ndarray:
        """Return ``values`` as this format's dtype, or raise if a value is not representable."""
        arr = np.asarray(values)
        if self.is_int:
            if arr.dtype.kind not in "iub":
                if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                    arr = arr.astype(np.int64)
                else:
                    raise ConfigError(f"{what}: {self.name} operands must be integers, got dtype {arr.dtype}")
            arr = arr.astype(np.int64)
            if arr.size and (arr.min() < self.min_int or arr.max() > self.max_int):
                raise ConfigError(
                    f"{what}: values must lie in [{self.min_int}, {self.max_int}] for {self.name}, "
                    f"got range [{arr.min()}, {arr.max()}]")
            return arr
        if self.name == "fp16":
            conv = arr.astype(np.float16)
        elif self.name == "bf16":
            conv = to_bf16(arr.astype(np.float32))
        else:
            conv = arr.astype(np.float32)
        with np.errstate(invalid="ignore"):
            same = (conv.astype(np.float64) == arr.astype(np.float64)) | (np.isnan(conv) & np.isnan(arr))
        if not np.all(same):
            raise ConfigError(f"{what}: values are not exactly representable in {self.name}; "
                              f"quantise them first (hwsim.pe.formats.quantize)")
        return conv

    def quantize(self, values: np.ndarray) -> np.ndarray:
        """Round (float) or round-and-saturate (int) arbitrary values into this format."""
        arr = np.asarray(values)
        if self.is_int:
            return np.clip(np.rint(arr), self.min_int, self.max_int).astype(np.int64)
        if self.name == "fp16":
            return arr.astype(np.float16)
        if self.name == "bf16":
            return to_bf16(arr.astype(np.float32))
        return arr.astype(np.float32)


def to_bf16(x: np.ndarray) -> np.ndarray:
    """Round float32 values to bfloat16 (round to nearest, ties to even), returned as float32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    nan = np.isnan(x)
    lsb = (bits >> 16) & 1
    rounded = ((bits + 0x7FFF + lsb) >> 16) << 16
    out = (rounded & 0xFFFFFFFF).astype(np.uint32).view(np.float32).copy()
    out[nan] = np.float32(np.nan)
    return out


FORMATS: dict[str, NumberFormat] = {
    f.name: f
    for f in (
        NumberFormat("int4", "int", 4, True),
        NumberFormat("int8", "int", 8, True),
        NumberFormat("int16", "int", 16, True),
        NumberFormat("uint4", "int", 4, False),
        NumberFormat("uint8", "int", 8, False),
        NumberFormat("uint16", "int", 16, False),
        NumberFormat("int32", "int", 32, True),
        NumberFormat("int48", "int", 48, True),
        NumberFormat("int64", "int", 64, True),
        NumberFormat("fp16", "float", 16),
        NumberFormat("bf16", "float", 16),
        NumberFormat("fp32", "float", 32),
    )
}

INPUT_FORMATS = ("int4", "int8", "int16", "uint4", "uint8", "uint16", "fp16", "bf16")
ACC_FORMATS = ("int32", "int48", "int64", "fp32")


def get_format(name: str) -> NumberFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(f"number format: unknown {name!r}; allowed: {', '.join(FORMATS)}") from None
