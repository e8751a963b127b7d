"""``runs`` and ``status`` as tables (``batch/tables.py``: rich on a terminal,
plain columns elsewhere) and as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..batch.record_model import FAILED
from ..batch.tables import Block, Sheet
from .live import RunView


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{rest:02d}s" if hours else f"{minutes}m{rest:02d}s"


def run_summary(view: RunView) -> dict[str, Any]:
    """One run of ``kedro batch runs --json``: the same view ``status`` shows."""
    record = view.record
    return {
        "run_id": record.run_id,
        "engine": record.engine,
        "pipeline_names": list(record.pipeline_names),
        "started": record.started,
        "finished": record.finished,
        "state": view.state,
        "jobs_done": view.succeeded,
        "jobs_total": len(view.jobs),
        "drivers": record.attempts,
    }


def runs_blocks(summaries: Sequence[dict[str, Any]]) -> list[Block]:
    """The runs, newest first, one row each."""
    if not summaries:
        return ["No batch runs recorded in this project."]
    headers = ("RUN ID", "ENGINE", "PIPELINES", "STARTED", "STATE", "JOBS")
    rows = [
        (
            run["run_id"],
            run["engine"],
            ",".join(run["pipeline_names"]),
            run["started"],
            run["state"],
            f"{run['jobs_done']}/{run['jobs_total']}",
        )
        for run in summaries
    ]
    return [Sheet(headers, rows)]


def status_blocks(view: RunView) -> list[Block]:
    """The run's jobs; then, for each failed one, its reason, exit code and log."""
    record = view.record
    blocks: list[Block] = [
        f"Run {record.run_id} ({', '.join(record.pipeline_names)}) on "
        f"{record.engine_label}: {view.state}, "
        f"{view.succeeded}/{len(view.jobs)} "
        f"job(s) succeeded"
    ]
    headers = ("JOB", "NODES", "STATE", "STARTED", "DURATION", "ENGINE ID")
    rows = [
        (
            job.name,
            ", ".join(job.nodes),
            job.state,
            job.started or "-",
            _duration(job.duration),
            job.job_id or "-",
        )
        for job in view.jobs
    ]
    blocks.append(Sheet(headers, rows))
    for job in view.jobs:
        if len(job.attempts) > 1 or any(a.state == FAILED for a in job.attempts):
            blocks.append(f"Attempts of {job.name}:")
            attempt_rows = [
                (
                    str(attempt.number),
                    str(attempt.driver),
                    attempt.state,
                    attempt.job_id,
                    " ".join((attempt.reason or "-").split()),
                    attempt.log or "-",
                )
                for attempt in job.attempts
            ]
            attempt_headers = ("#", "DRIVER", "STATE", "ENGINE ID", "REASON", "LOG")
            blocks.append(Sheet(attempt_headers, attempt_rows, indent=2))
    for job in view.jobs:
        if job.state == FAILED:
            exit_code = "unknown" if job.exit_code is None else job.exit_code
            blocks.append(
                f"{job.name} failed: {job.reason or 'no reason given'}; exit code "
                f"{exit_code}; log: {job.log or 'unknown'}"
            )
    return blocks


def as_json(data: object, *, indent: int | None = 2) -> str:
    """JSON with a final newline: indented, or one line (``indent=None``)."""
    return json.dumps(data, indent=indent) + "\n"
