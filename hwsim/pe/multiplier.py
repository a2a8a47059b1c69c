"""Multiplier strategy objects: how a PE forms the product of two operands.

The array never knows which multiplier it has: it calls ``multiply(a, b)`` on whole numpy arrays
(``a`` always from the A operand, ``b`` from B, so asymmetric designs keep their operand roles).
Approximate designs register themselves with :func:`register_multiplier` and are chosen by name in
a config (``multiplier: {kind: exact}``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hwsim.pe.formats import NumberFormat


class Multiplier(ABC):
    """Bit-accurate product of operand arrays (broadcasting like numpy).

    Integer products are returned as ``int64`` at full precision; float products (fp16/bf16 inputs)
    as ``float32``. ``fmt_a``/``fmt_b`` are the operand formats.
    """

    name: str = "abstract"

    def __init__(self, fmt_a: NumberFormat, fmt_b: NumberFormat, **params: Any):
        self.fmt_a = fmt_a
        self.fmt_b = fmt_b
        self.params = params

    @abstractmethod
    def multiply(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...

    @property
    def is_exact(self) -> bool:
        return False


class ExactMultiplier(Multiplier):
    """The exact product: int64 for integers, float32 for fp16/bf16 (exact: 11x11 and 8x8-bit
    significands fit float32's 24 bits; bf16 products outside float32's range round as IEEE does)."""

    name = "exact"

    def multiply(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.fmt_a.is_int:
            return np.multiply(a, b, dtype=np.int64)
        return np.multiply(a, b, dtype=np.float32)

    @property
    def is_exact(self) -> bool:
        return True


_REGISTRY: dict[str, Callable[..., Multiplier]] = {"exact": ExactMultiplier}


def register_multiplier(name: str):
    """Class decorator adding a Multiplier to the registry under ``name``."""

    def deco(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def multiplier_kinds() -> list[str]:
    return sorted(_REGISTRY)


class MultiplierConfig(BaseModel):
    """Which multiplier design a PE uses, by registry name, with its parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: str = Field("exact", description="registered multiplier design name")
    params: dict[str, Any] = Field(default_factory=dict, description="design parameters")

    @field_validator("kind")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in _REGISTRY:
            raise ValueError(f"unknown multiplier; allowed: {', '.join(multiplier_kinds())}")
        return v


def get_multiplier(cfg: MultiplierConfig, fmt_a: NumberFormat, fmt_b: NumberFormat) -> Multiplier:
    return _REGISTRY[cfg.kind](fmt_a, fmt_b, **cfg.params)
