"""Processing elements: number formats, multipliers (exact and, later, approximate), MAC PE configs."""

from hwsim.pe import approx  # noqa: F401  (registers the approximate designs)
from hwsim.pe.config import PEConfig
from hwsim.pe.formats import FORMATS, NumberFormat, get_format
from hwsim.pe.multiplier import ExactMultiplier, Multiplier, MultiplierConfig, get_multiplier, register_multiplier

__all__ = [
    "FORMATS", "ExactMultiplier", "Multiplier", "MultiplierConfig", "NumberFormat", "PEConfig",
    "get_format", "get_multiplier", "register_multiplier",
]
