"""Progress: a live rich table on a terminal, log lines otherwise."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from kedro_pipelinename.batch.engine import JobStatus
from kedro_pipelinename.batch.progress import (
    LogProgress,
    RichProgress,
    default_progress,
    summarise,
)


def test_summary_counts_jobs_per_column_and_those_not_submitted() -> None:
    statuses = {
        "a": JobStatus.RUNNING,
        "b": JobStatus.STARTING,
        "c": JobStatus.SUCCEEDED,
        "d": JobStatus.QUEUED,
    }

    assert summarise(statuses, total=6) == {
        "waiting": 2,
        "submitted": 0,
        "pending": 0,
        "queued": 1,
        "running": 2,
        "succeeded": 1,
        "failed": 0,
    }


def test_log_progress_writes_a_line_when_the_counts_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    progress = LogProgress(interval=0.0)
    with caplog.at_level(logging.INFO, logger="kedro_pipelinename.batch.progress"):
        progress.start(2, "AWS Batch queue q")
        progress.update(summarise({"a": JobStatus.RUNNING}, total=2))
        progress.update(summarise({"a": JobStatus.RUNNING}, total=2))
        progress.update(
            summarise({"a": JobStatus.SUCCEEDED, "b": JobStatus.SUCCEEDED}, total=2)
        )

    assert [record.getMessage() for record in caplog.records] == [
        "AWS Batch queue q: 2 job(s) planned.",
        "AWS Batch queue q: 1 waiting, 0 submitted, 0 pending, 0 queued, "
        "1 running, 0 succeeded, 0 failed",
        "AWS Batch queue q: 0 waiting, 0 submitted, 0 pending, 0 queued, "
        "0 running, 2 succeeded, 0 failed",
    ]


def _drawn_tables(text: str) -> list[dict[str, int]]:
    """Every table drawn in ``text``, as ``{column: count}``; repeats collapsed."""
    headers: list[str] = []
    tables: list[dict[str, int]] = []
    for line in text.splitlines():
        if line.startswith("┃"):
            headers = [cell.strip() for cell in line.strip("┃ ").split("┃")]
        elif line.startswith("│"):
            counts = [int(cell.strip()) for cell in line.strip("│ ").split("│")]
            table = dict(zip(headers, counts, strict=True))
            if not tables or tables[-1] != table:
                tables.append(table)
    return tables


def test_rich_progress_redraws_the_counts_per_state_after_each_round() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120, record=True)
    progress = RichProgress(console)
    first = summarise({"a": JobStatus.FAILED, "b": JobStatus.RUNNING}, total=3)
    second = summarise(
        {"a": JobStatus.FAILED, "b": JobStatus.SUCCEEDED, "c": JobStatus.QUEUED},
        total=3,
    )

    progress.start(3, "AWS Batch queue q")
    progress.update(first)
    progress.update(second)
    progress.stop()

    text = console.export_text()
    assert "AWS Batch queue q" in text
    assert _drawn_tables(text) == [first, second]
    assert second == {
        "waiting": 0,
        "submitted": 0,
        "pending": 0,
        "queued": 1,
        "running": 0,
        "succeeded": 1,
        "failed": 1,
    }


def test_progress_is_plain_logging_when_stderr_is_not_a_terminal() -> None:
    # pytest captures stderr: it is not a terminal here.
    assert isinstance(default_progress(), LogProgress)
