"""The catalogue of multiplier designs the study compares, and ``k=v`` parameter parsing."""

from __future__ import annotations

from dataclasses import dataclass, field

from hwsim.errors import ConfigError
from hwsim.pe.formats import get_format
from hwsim.pe.multiplier import Multiplier, MultiplierConfig, get_multiplier


@dataclass(frozen=True)
class Design:
    kind: str
    params: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        body = ",".join(f"{k}={'y' if v is True else 'n' if v is False else v}" for k, v in self.params.items())
        return f"{self.kind}({body})" if body else self.kind

    def config(self) -> MultiplierConfig:
        return MultiplierConfig(kind=self.kind, params=dict(self.params))

    def multiplier(self, fmt_name: str) -> Multiplier:
        fmt = get_format(fmt_name)
        return get_multiplier(self.config(), fmt, fmt)


DESIGNS_8 = [
    Design("exact"),
    Design("truncated", {"k": 4}),
    Design("truncated", {"k": 6}),
    Design("truncated", {"k": 6, "compensation": True}),
    Design("bam", {"hbl": 1, "vbl": 4}),
    Design("bam", {"hbl": 2, "vbl": 6}),
    Design("mitchell"),
    Design("drum", {"k": 4}),
    Design("drum", {"k": 6}),
    Design("compressor", {"approx_columns": 6}),
    Design("compressor", {"approx_columns": 8}),
]

DESIGNS_16 = [
    Design("exact"),
    Design("truncated", {"k": 12}),
    Design("truncated", {"k": 14, "compensation": True}),
    Design("bam", {"hbl": 4, "vbl": 12}),
    Design("mitchell"),
    Design("drum", {"k": 6}),
    Design("drum", {"k": 8}),
    Design("compressor", {"approx_columns": 16}),
]


def default_designs(bits: int) -> list[Design]:
    return DESIGNS_8 if bits <= 8 else DESIGNS_16


def parse_params(items: list[str]) -> dict:
    """``["k=6", "compensation=true"]`` -> ``{"k": 6, "compensation": True}``."""
    out: dict = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param: expected NAME=VALUE, got {item!r}")
        v = value.strip().lower()
        if v in ("true", "yes", "y", "1") and name == "compensation":
            out[name] = True
        elif v in ("false", "no", "n", "0") and name == "compensation":
            out[name] = False
        else:
            try:
                out[name] = int(value)
            except ValueError:
                raise ConfigError(f"--param {name}: expected an integer, got {value!r}") from None
    return out


def parse_design(text: str) -> Design:
    """``"drum:k=4"`` or ``"truncated:k=6,compensation=true"`` or ``"mitchell"`` -> Design."""
    kind, _, rest = text.partition(":")
    return Design(kind.strip(), parse_params([p for p in rest.split(",") if p.strip()]))
