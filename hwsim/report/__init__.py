"""Reports: data first (JSON), then Markdown and PNG plots rendered from the data."""

from hwsim.report.writer import write_run_report

__all__ = ["write_run_report"]
