"""User-facing errors: one readable line per problem, never a traceback."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from pydantic import ValidationError


class HwsimError(Exception):
    """An error in the user's input (config, workload, CLI value).

    ``problems`` holds one line per problem, each naming the field, the value and what is allowed.
    The CLI prints them and exits with code 2.
    """

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ConfigError(HwsimError):
    """A config file or config value is invalid."""


def _loc_to_path(root: str, loc: tuple) -> str:
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = str(part)
    return path


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(err: ValidationError, root: str = "") -> list[str]:
    """Turn a pydantic ValidationError into lines like ``system.rows: must be >= 1, got 0``."""
    lines = []
    for item in err.errors():
        # Union/choice errors carry the branch name in loc; drop pydantic's internal tags.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        path = _loc_to_path(root, loc) or "(top level)"
        msg = item["msg"]
        kind = item["type"]
        if kind == "extra_forbidden":
            lines.append(f"{path}: unknown key (not a field of this config)")
            continue
        if kind == "missing":
            lines.append(f"{path}: required field is missing")
            continue
        msg = msg.removeprefix("Value error, ")
        if ", got " in msg:  # the validator already quoted the offending value
            lines.append(f"{path}: {msg}")
        else:
            lines.append(f"{path}: {msg}, got {_short(item.get('input'))}")
    return lines


def config_error_from(err: ValidationError, root: str = "") -> ConfigError:
    return ConfigError(format_validation_error(err, root))


class ParsedConfig:
    """Mixin for pydantic config models: ``Model.parse(data, root)`` validates a mapping and turns a
    ValidationError into one :class:`ConfigError` line per problem, prefixed by ``root`` (default:
    the class's ``CONFIG_ROOT``)."""

    CONFIG_ROOT: ClassVar[str] = "config"

    @classmethod
    def parse(cls, data: Mapping, root: str | None = None):
        try:
            return cls.model_validate(dict(data) if isinstance(data, Mapping) else data)
        except ValidationError as err:
            raise config_error_from(err, root if root is not None else cls.CONFIG_ROOT) from None
