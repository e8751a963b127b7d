"""Progress of a batch run: a live table on a terminal, log lines otherwise."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from ..names.logs import logger_for
from .engine import JobStatus

logger = logger_for(__name__)

#: The columns of the summary, in life-cycle order (every engine's statuses map
#: onto the shared ``JobStatus``; starting jobs count as running).
COLUMNS = ("submitted", "pending", "queued", "running", "succeeded", "failed")

_COLUMN_OF_STATUS = {
    JobStatus.SUBMITTED: "submitted",
    JobStatus.PENDING: "pending",
    JobStatus.QUEUED: "queued",
    JobStatus.STARTING: "running",
    JobStatus.RUNNING: "running",
    JobStatus.SUCCEEDED: "succeeded",
    JobStatus.FAILED: "failed",
}


def summarise(
    statuses: Mapping[str, JobStatus],
    total: int,
    cancelled: Collection[str] = (),
) -> dict[str, int]:
    """Counts per column; ``waiting`` are jobs the driver has not submitted yet.

    Args:
        statuses: Job name -> status, for every submitted job.
        total: The number of jobs in the plan.
        cancelled: Jobs the driver cancelled: counted as ``cancelled`` (a
            column shown once there is one), not as their last status.

    Returns:
        ``{"waiting": n, "submitted": n, ..., "failed": n}``.

    Example:
        >>> summarise({"a": JobStatus.RUNNING, "b": JobStatus.SUCCEEDED}, 3)["waiting"]
        1
    """
    counts = Counter(
        "cancelled"
        if name in cancelled and not status.finished
        else _COLUMN_OF_STATUS[status]
        for name, status in statuses.items()
    )
    summary = {"waiting": total - len(statuses)}
    summary.update({column: counts.get(column, 0) for column in COLUMNS})
    if counts.get("cancelled"):
        summary["cancelled"] = counts["cancelled"]
    return summary


def format_summary(summary: Mapping[str, int], label: str) -> str:
    """``label: 3 waiting, 1 running, ...`` with every column."""
    parts = ", ".join(f"{count} {column}" for column, count in summary.items())
    return f"{label}: {parts}"


class Progress(Protocol):
    """What the driver reports to."""

    def start(self, total: int, label: str) -> None:
        """The run begins with ``total`` jobs."""

    def update(self, summary: Mapping[str, int]) -> None:
        """The counts changed (called after every poll)."""

    def stop(self) -> None:
        """The run ended (success, failure or interruption)."""


class LogProgress:
    """One INFO line whenever the counts change, at most every ``interval`` s."""

    def __init__(self, interval: float = 10.0) -> None:
        self._interval = interval
        self._label = ""
        self._last: dict[str, int] | None = None
        self._last_time = 0.0

    def start(self, total: int, label: str) -> None:
        self._label = label
        logger.info("%s: %d job(s) planned.", label, total)

    def update(self, summary: Mapping[str, int]) -> None:
        now = time.monotonic()
        current = dict(summary)
        finished = (
            current.get("waiting", 0)
            + sum(current.get(column, 0) for column in COLUMNS[:-2])
            == 0
        )
        if current == self._last:
            return
        if not finished and now - self._last_time < self._interval and self._last:
            return
        self._last = current
        self._last_time = now
        logger.info("%s", format_summary(current, self._label))

    def stop(self) -> None:
        if self._last is not None:
            logger.info("%s", format_summary(self._last, self._label))


class RichProgress:
    """A ``rich`` live table of the counts, refreshed on every update.

    Args:
        console: The ``rich`` console to draw on (default: rich's global one,
            which Kedro's log handler also writes to).
    """

    def __init__(self, console: Any = None) -> None:
        self._console = console
        self._live: Any = None
        self._label = ""
        self._summary: dict[str, int] = {}

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(title=self._label, title_justify="left")
        for column in ("waiting", *COLUMNS):
            table.add_column(column, justify="right")
        table.add_row(*(str(self._summary.get(c, 0)) for c in ("waiting", *COLUMNS)))
        return table

    def start(self, total: int, label: str) -> None:
        from rich.live import Live

        self._label = label
        self._summary = {"waiting": total}
        self._live = Live(
            self._render(), console=self._console, auto_refresh=False, transient=False
        )
        self._live.start()

    def update(self, summary: Mapping[str, int]) -> None:
        self._summary = dict(summary)
        if self._live is not None:
            self._live.update(self._render(), refresh=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def default_progress() -> Progress:
    """``RichProgress`` when stderr is a terminal, ``LogProgress`` otherwise."""
    try:
        interactive = sys.stderr.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return RichProgress() if interactive else LogProgress()
