"""``kedro batch cancel`` and ``resume``: stopping a run, and finishing it.

Cancel asks a live driver first (the ``cancel`` file it checks once per poll
round: it cancels its jobs and ends with ``RunCancelled``), waits for it, then
cancels through the engine whatever is still unfinished, which is everything
when the driver is gone. Resume runs the recorded command again with the run's
id (``KEDRO_PIPELINENAME_RUN_ID``): the driver then adopts the jobs that
succeeded and runs the rest.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ..batch.records import (
    CANCELLED,
    RUN_CANCELLED,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    RecordError,
    RunRecord,
    is_finished,
    load_record,
    now,
    request_cancel,
    shared_state,
    write_record,
)
from ..run_id import RUN_ID_ENV_VAR
from .live import poll_jobs, reopened, unreachable

#: How often cancel looks whether the driver has stopped (seconds).
DRIVER_CHECK_INTERVAL: Final = 0.2
#: Beyond its longest poll round, what a driver may take to cancel its jobs (the
#: local engine's default SIGTERM grace is 5 s).
DRIVER_STOP_MARGIN: Final = 30.0


def _wait_for_driver(project_path: Path, record: RunRecord) -> RunRecord:
    """The record once its live driver ended the run, or after the grace period."""
    grace = 2 * float(record.settings.get("max_poll_interval", 30.0))
    deadline = time.monotonic() + grace + DRIVER_STOP_MARGIN
    # Bounded by the deadline.
    while record.driver_alive() and time.monotonic() < deadline:
        time.sleep(DRIVER_CHECK_INTERVAL)
        record = load_record(project_path, record.run_id)
        if record.state != RUN_RUNNING:
            break
    return load_record(project_path, record.run_id)


def cancel_run(
    project_path: Path, run_id: str, echo: Callable[[str], None]
) -> RunRecord:
    """Stop every unfinished job of the run, mark its record ``cancelled``.

    Raises:
        RecordError: For an unknown run.
        EngineUnreachable: When the engine is not installed or cannot be
            opened (nothing was changed), or failed while cancelling (the
            cancel request stays: a live driver still sees it).
    """
    record = load_record(project_path, run_id)
    unfinished = [job for job in record.jobs if not is_finished(job.state)]
    if record.state != RUN_RUNNING and not unfinished:
        echo(f"Run {run_id} already ended ({record.state}); nothing to cancel.")
        return record
    reason = f"cancelled by `kedro batch cancel` (pid {os.getpid()} on "
    reason += f"{socket.gethostname()})"
    # Opened first: an engine that is not installed or not reachable fails the
    # command before it changed anything.
    with reopened(record) as engine:
        request_cancel(project_path, run_id, reason)
        if record.driver_alive():
            echo(
                f"Asked the driver of run {run_id} (pid {record.driver['pid']}) to "
                f"stop."
            )
            record = _wait_for_driver(project_path, record)
        # find_jobs also finds jobs a dead driver submitted after its last write
        # (and the local engine kills its orphaned process groups there).
        try:
            found = {state.job_id: state for state in engine.find_jobs().values()}
            live = {**poll_jobs(engine, record), **found}
            recorded = {job.job_id for job in record.jobs if job.job_id is not None}
            to_cancel = sorted(
                job_id
                for job_id in recorded | set(found)
                if job_id in live and not live[job_id].status.finished
            )
            if to_cancel:
                engine.cancel(to_cancel, reason)
        except Exception as error:
            raise unreachable(record, error) from error
    for job in record.jobs:
        current = live.get(job.job_id) if job.job_id else None
        state = job.state if current is None else shared_state(current.status)
        if job.job_id in to_cancel or not is_finished(state):
            job.state, job.reason, job.finished = CANCELLED, reason, now()
    if record.state == RUN_RUNNING:
        record.state, record.finished, record.error = RUN_CANCELLED, now(), reason
    write_record(project_path, record)
    echo(
        f"Run {run_id} is cancelled: {len(to_cancel)} unfinished job(s) stopped in "
        f"{record.engine_label}."
    )
    return record


def resume_run(project_path: Path, run_id: str, echo: Callable[[str], None]) -> int:
    """Run the recorded command again with the run's id; its exit code.

    Raises:
        RecordError: For an unknown run, or one whose driver still runs.
    """
    record = load_record(project_path, run_id)
    if record.state == RUN_RUNNING and record.driver_alive():
        raise RecordError(
            f"Run {run_id} is still running (driver pid {record.driver.get('pid')}); "
            f"follow it with `kedro batch status {run_id} --watch`, or stop it with "
            f"`kedro batch cancel {run_id}` first."
        )
    if record.state == RUN_SUCCEEDED:
        echo(f"Run {run_id} already succeeded; nothing to resume.")
        return 0
    argv = list(record.command.get("argv") or [])
    if not argv:
        raise RecordError(f"The record of run {run_id} has no command to resume.")
    if not Path(argv[0]).exists():  # its virtualenv is gone: use this one
        argv[0] = sys.executable
    env = {
        **os.environ,
        **record.command.get("env", {}),
        RUN_ID_ENV_VAR: record.run_id,
    }
    echo(f"Resuming run {run_id}: {RUN_ID_ENV_VAR}={run_id} {shlex.join(argv)}")
    # In the foreground: its output and exit code are the resumed run's.
    return subprocess.call(argv, cwd=record.project_path, env=env)
