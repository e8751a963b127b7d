"""``runs`` and ``status`` as text tables and as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..batch.record_model import FAILED
from .graph import columns
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


def runs_text(summaries: Sequence[dict[str, Any]]) -> str:
    """The runs, newest first, one line each."""
    if not summaries:
        return "No batch runs recorded in this project.\n"
    rows = [("RUN ID", "ENGINE", "PIPELINES", "STARTED", "STATE", "JOBS")]
    rows += [
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
    return columns(rows) + "\n"


def status_text(view: RunView) -> str:
    """The run's jobs; then, for each failed one, its reason, exit code and log."""
    record = view.record
    lines = [
        f"Run {record.run_id} ({', '.join(record.pipeline_names)}) on "
        f"{record.engine_label}: {view.state}, "
        f"{view.succeeded}/{len(view.jobs)} "
        f"job(s) succeeded"
    ]
    rows = [("JOB", "NODES", "STATE", "STARTED", "DURATION", "ENGINE ID")]
    rows += [
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
    lines.append(columns(rows))
    for job in view.jobs:
        if len(job.attempts) > 1 or any(a.state == FAILED for a in job.attempts):
            lines.append(f"Attempts of {job.name}:")
            attempt_rows = [("  #", "DRIVER", "STATE", "ENGINE ID", "REASON", "LOG")]
            attempt_rows += [
                (
                    f"  {attempt.number}",
                    str(attempt.driver),
                    attempt.state,
                    attempt.job_id,
                    " ".join((attempt.reason or "-").split()),
                    attempt.log or "-",
                )
                for attempt in job.attempts
            ]
            lines.append(columns(attempt_rows))
    for job in view.jobs:
        if job.state == FAILED:
            exit_code = "unknown" if job.exit_code is None else job.exit_code
            lines.append(
                f"{job.name} failed: {job.reason or 'no reason given'}; exit code "
                f"{exit_code}; log: {job.log or 'unknown'}"
            )
    return "\n".join(lines) + "\n"


def as_json(data: object) -> str:
    """Indented JSON with a final newline."""
    return json.dumps(data, indent=2) + "\n"
