"""Multiplier submodules of the MAC PE. Every design has the same signature (``a``, ``b`` in, ``p``
out at full product width), so approximate designs drop into the PE without touching it; they are
chosen by the same registry name as the FL face's :class:`hwsim.pe.multiplier.Multiplier`."""

from __future__ import annotations

from collections.abc import Callable

from amaranth import Module, Shape, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.pe.formats import NumberFormat


def operand_shape(fmt: NumberFormat) -> Shape:
    return signed(fmt.bits) if fmt.signed else unsigned(fmt.bits)


def product_shape(fmt: NumberFormat) -> Shape:
    return signed(2 * fmt.bits) if fmt.signed else unsigned(2 * fmt.bits)


class ExactMultiplierRTL(wiring.Component):
    """``p = a * b``, the full 2w-bit product (signed or unsigned operands)."""

    def __init__(self, fmt: NumberFormat, **params):
        self.fmt = fmt
        super().__init__({"a": In(operand_shape(fmt)), "b": In(operand_shape(fmt)), "p": Out(product_shape(fmt))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.p.eq(self.a * self.b)
        return m


_RTL_MULTIPLIERS: dict[str, Callable[..., wiring.Component]] = {"exact": ExactMultiplierRTL}


def register_multiplier_rtl(name: str):
    """Class decorator adding an RTL multiplier under the FL registry's ``name``."""

    def deco(cls):
        _RTL_MULTIPLIERS[name] = cls
        return cls

    return deco


def multiplier_rtl(kind: str, fmt: NumberFormat, params: dict | None = None) -> wiring.Component:
    import rtl.approx  # noqa: F401  (registers the approximate designs)

    if kind not in _RTL_MULTIPLIERS:
        from hwsim.errors import ConfigError

        raise ConfigError(f"pe.multiplier.kind: no RTL twin for {kind!r}; RTL designs: {', '.join(sorted(_RTL_MULTIPLIERS))}")
    return _RTL_MULTIPLIERS[kind](fmt, **(params or {}))
