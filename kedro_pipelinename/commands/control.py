"""``kedro batch cancel`` and ``resume``: stopping a run, and finishing it.

Cancel asks the run's live driver (its lease holder, ``lease.py``) to stop: the
``cancel`` file it checks once per poll round makes it cancel its jobs and end
with ``RunCancelled``; cancel waits for that. When no driver holds the run (it
was killed, or ended), cancel takes the lease itself and cancels what is left
through the engine (``cancelling.cancel_orphaned``). Resume runs the command
stored in the record (``resume.py``) with the run's id: the driver then adopts
the jobs that succeeded and runs the rest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ..batch.cancelling import cancel_orphaned
from ..batch.lease import LeaseHeld, lease_timeout
from ..batch.record_model import (
    RUN_RUNNING,
    RUN_SUCCEEDED,
    RecordError,
    RunRecord,
    is_finished,
)
from ..batch.resume import resolve, shell_line
from ..batch.stores import RecordStore, as_store, live_holder
from .live import reopened, unreachable

#: How often cancel looks whether the driver has stopped (seconds).
DRIVER_CHECK_INTERVAL: Final = 0.2
#: Beyond its longest poll round, what a driver may take to cancel its jobs (the
#: local engine's default SIGTERM grace is 5 s).
DRIVER_STOP_MARGIN: Final = 30.0


def _unfinished(record: RunRecord) -> set[str]:
    return {job.name for job in record.jobs if not is_finished(job.state)}


def _wait_for_driver(store: RecordStore, record: RunRecord) -> RunRecord:
    """The record once its driver released the lease, or after the grace period."""
    grace = 2 * float(record.settings.get("max_poll_interval", 30.0))
    deadline = time.monotonic() + grace + DRIVER_STOP_MARGIN
    # Bounded by the deadline.
    while time.monotonic() < deadline:
        if live_holder(store, record.run_id) is None:
            break
        time.sleep(DRIVER_CHECK_INTERVAL)
    return store.load_record(record.run_id)


def cancel_run(
    where: Path | RecordStore, run_id: str, echo: Callable[[str], None]
) -> RunRecord:
    """Stop every unfinished job of the run; afterwards every job is final.

    Raises:
        RecordError: For an unknown run or an unsafe run id.
        LeaseHeld: When the driver did not stop within its grace period.
        EngineUnreachable: When the engine is not installed or cannot be
            opened (nothing was changed), or failed while cancelling.
    """
    store = as_store(where)
    record = store.load_record(run_id)
    before = _unfinished(record)
    if record.state != RUN_RUNNING and not before:
        echo(f"Run {run_id} already ended ({record.state}); nothing to cancel.")
        return record
    reason = f"cancelled by `kedro batch cancel` (pid {os.getpid()} on "
    reason += f"{socket.gethostname()})"
    holder = live_holder(store, run_id)
    if holder is not None:
        store.request_cancel(run_id, reason)
        echo(f"Asked the driver of run {run_id} ({holder.describe()}) to stop.")
        record = _wait_for_driver(store, record)
        if live_holder(store, run_id) is not None:
            raise LeaseHeld(
                f"The driver of run {run_id} ({holder.describe()}) did not stop in "
                f"time; the cancel request stays, and it stops at its next round. "
                f"Run `kedro batch status {run_id}` to follow it."
            )
        changed = before - _unfinished(record)
        if not _unfinished(record):
            echo(
                f"Run {run_id} is cancelled: its driver cancelled {len(changed)} "
                f"unfinished job(s) in {record.engine_label}."
            )
            return record
    # Nobody drives the run: take its lease, so that no driver starts meanwhile.
    lease = store.lease(
        run_id,
        timeout=lease_timeout(float(record.settings.get("max_poll_interval", 30.0))),
        purpose="`kedro batch cancel`",
    )
    with lease.held():
        record = store.load_record(run_id)
        # Opened first: an engine that is not installed or not reachable fails
        # the command before it changed anything.
        with reopened(record) as engine:
            try:
                result = cancel_orphaned(store, record, engine, reason)
            except Exception as error:
                raise unreachable(record, error) from error
    echo(
        f"Run {run_id} is cancelled: {len(result.changed)} unfinished job(s) "
        f"cancelled ({len(result.stopped)} stopped in {record.engine_label})."
    )
    if result.failed:
        echo(
            f"Could not cancel {', '.join(result.failed)}; check them in "
            f"{record.engine_label}."
        )
    return record


def resume_run(
    where: Path | RecordStore, run_id: str, echo: Callable[[str], None]
) -> int:
    """Run the recorded command again with the run's id; its exit code.

    Raises:
        RecordError: For an unknown run, or one without a resume command.
        LeaseHeld: When a live driver holds the run.
        MissingVariables: When a secret the command refers to is not set.
    """
    store = as_store(where)
    record = store.load_record(run_id)
    holder = live_holder(store, run_id)
    if holder is not None:
        raise LeaseHeld(
            f"Run {run_id} is still running (driver {holder.describe()}); follow it "
            f"with `kedro batch status {run_id} --watch`, or stop it with "
            f"`kedro batch cancel {run_id}` first."
        )
    if record.state == RUN_SUCCEEDED:
        echo(f"Run {run_id} already succeeded; nothing to resume.")
        return 0
    if record.resume is None:
        raise RecordError(f"The record of run {run_id} has no command to resume.")
    argv, env = resolve(record.resume, record.run_id, os.environ)
    echo(f"Resuming run {run_id}: {shell_line(record.resume, record.run_id)}")
    # In the foreground: its output and exit code are the resumed run's.
    return subprocess.call(argv, cwd=record.project_path, env=env)
