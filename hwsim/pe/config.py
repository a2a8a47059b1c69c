"""MAC PE configuration and its arithmetic (multiply with the chosen multiplier, accumulate)."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from hwsim.errors import ConfigError
from hwsim.pe.formats import ACC_FORMATS, INPUT_FORMATS, NumberFormat, get_format
from hwsim.pe.multiplier import Multiplier, MultiplierConfig, get_multiplier


class PEConfig(BaseModel):
    """A multiply-accumulate PE: operand format, accumulator format, multiplier design.

    Supported pairs: int4/int8/int16 (signed or unsigned) with an int32/int48/int64 accumulator at
    least twice the operand width; fp16 or bf16 with an fp32 accumulator.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: str = Field("int8", description=f"operand format: one of {', '.join(INPUT_FORMATS)}")
    accumulator: str = Field("int32", description=f"accumulator format: one of {', '.join(ACC_FORMATS)}")
    multiplier: MultiplierConfig = Field(default_factory=MultiplierConfig)

    @field_validator("input", "accumulator")
    @classmethod
    def _known(cls, v: str, info: ValidationInfo) -> str:
        allowed = INPUT_FORMATS if info.field_name == "input" else ACC_FORMATS
        if v not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return v

    @model_validator(mode="after")
    def _check_pair(self) -> "PEConfig":
        fi, fa = get_format(self.input), get_format(self.accumulator)
        if fi.is_int != fa.is_int:
            raise ValueError(f"accumulator {self.accumulator} does not suit input {self.input} "
                             f"(integer inputs need int32/int48/int64, fp16/bf16 need fp32)")
        if fi.is_int and fa.bits < 2 * fi.bits:
            raise ValueError(f"accumulator {self.accumulator} is narrower than the {2 * fi.bits}-bit "
                             f"product of {self.input} operands")
        try:  # the multiplier design validates its own parameters against the operand format
            get_multiplier(self.multiplier, fi, fi)
        except ConfigError as err:
            raise ValueError("; ".join(err.problems)) from None
        return self

    @property
    def in_fmt(self) -> NumberFormat:
        return get_format(self.input)

    @property
    def acc_fmt(self) -> NumberFormat:
        return get_format(self.accumulator)

    @cached_property
    def mul(self) -> Multiplier:
        return get_multiplier(self.multiplier, self.in_fmt, self.in_fmt)

    @property
    def acc_dtype(self) -> np.dtype:
        return np.dtype(np.int64) if self.in_fmt.is_int else np.dtype(np.float32)

    def accumulate(self, acc: np.ndarray, prod: np.ndarray) -> np.ndarray:
        """``acc + prod`` at accumulator precision (fp32 round-to-nearest-even, or integer add;
        integer sums are wrapped to the accumulator width by :meth:`finish`)."""
        if self.in_fmt.is_int:
            return acc + prod
        return np.add(acc, prod, dtype=np.float32)

    def finish(self, acc: np.ndarray) -> np.ndarray:
        """Final accumulator value as the hardware holds it (integers wrap modulo 2**width)."""
        if self.in_fmt.is_int:
            return self.acc_fmt.wrap(acc)
        return acc.astype(np.float32, copy=False)

    def random_operands(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Random operands spanning the whole format (ints) or a unit normal (floats), quantised."""
        f = self.in_fmt
        if f.is_int:
            return rng.integers(f.min_int, f.max_int + 1, size=shape, dtype=np.int64)
        return f.quantize(rng.standard_normal(shape))
