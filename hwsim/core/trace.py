"""Chrome / Perfetto trace-event export: one track per component, busy and stall spans.

The JSON written is the "JSON Object Format" of the Trace Event Format (complete events, ``ph: "X"``,
timestamps in microseconds), which ui.perfetto.dev and chrome://tracing open directly.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Span:
    track: str
    name: str
    start_ps: int
    end_ps: int
    args: dict = field(default_factory=dict)


class Tracer:
    """Collects spans per track (component) and writes them as trace-event JSON."""

    def __init__(self, process_name: str = "hwsim"):
        self.process_name = process_name
        self.tracks: list[str] = []
        self.spans: list[Span] = []
        self.offset_ps = 0  # added to every span: lets several simulations share one timeline

    def track(self, name: str) -> None:
        if name not in self.tracks:
            self.tracks.append(name)

    def span(self, track: str, name: str, start_ps: int, end_ps: int, **args) -> None:
        if end_ps <= start_ps:
            return
        self.track(track)
        self.spans.append(Span(track, name, int(start_ps) + self.offset_ps, int(end_ps) + self.offset_ps, args))

    def to_json(self) -> dict:
        events: list[dict] = [
            {"ph": "M", "pid": 1, "tid": 0, "name": "process_name", "args": {"name": self.process_name}}
        ]
        tids = {name: i + 1 for i, name in enumerate(self.tracks)}
        for name, tid in tids.items():
            events.append({"ph": "M", "pid": 1, "tid": tid, "name": "thread_name", "args": {"name": name}})
            events.append({"ph": "M", "pid": 1, "tid": tid, "name": "thread_sort_index", "args": {"sort_index": tid}})
        for s in self.spans:
            events.append(
                {
                    "ph": "X",
                    "pid": 1,
                    "tid": tids[s.track],
                    "name": s.name,
                    "cat": s.name.split(":")[0],
                    "ts": s.start_ps / 1e6,  # microseconds
                    "dur": (s.end_ps - s.start_ps) / 1e6,
                    "args": s.args,
                }
            )
        return {"traceEvents": events, "displayTimeUnit": "ns", "otherData": {"time_unit_of_ts": "us"}}

    def write(self, path: str | os.PathLike) -> Path:
        """Write atomically: a partial file never appears at ``path``."""
        return write_json_atomic(path, self.to_json())


def write_json_atomic(path: str | os.PathLike, data: object, indent: int | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=indent)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
