"""Named action counters with units (``mac``, ``sram_read_bytes``...); energy is stats x a table."""

from __future__ import annotations

from collections.abc import Mapping


class Stats:
    """Counters declared up front with their units; adding to an undeclared counter is an error.

    >>> s = Stats("pe", {"mac": "ops"}); s.add("mac", 3); s["mac"]
    3
    """

    def __init__(self, owner: str, schema: Mapping[str, str]):
        self.owner = owner
        self._units = dict(schema)
        self._values: dict[str, int] = {name: 0 for name in schema}

    def add(self, name: str, amount: int = 1) -> None:
        if name not in self._values:
            raise KeyError(f"{self.owner}: counter {name!r} is not declared (declared: {sorted(self._values)})")
        self._values[name] += int(amount)

    def __getitem__(self, name: str) -> int:
        return self._values[name]

    def unit(self, name: str) -> str:
        return self._units[name]

    def as_dict(self) -> dict[str, int]:
        return dict(self._values)

    def units(self) -> dict[str, str]:
        return dict(self._units)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v} {self._units[k]}" for k, v in self._values.items())
        return f"Stats({self.owner}: {body})"
