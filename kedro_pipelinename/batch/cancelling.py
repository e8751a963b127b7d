"""Cancelling a run's jobs: one operation for the driver and for ``kedro batch cancel``.

``cancel_jobs`` asks the engine to cancel jobs, a chunk per ``engine.cancel``
call (so that a Ctrl-C in the middle can say which are left), and never raises
for a chunk the engine refused: it returns those. The driver calls it for its
unfinished jobs (``fail_fast``, a cancel request, Ctrl-C); ``cancel_orphaned``
calls it for a run whose driver is gone (``kedro batch cancel`` holding the
run's lease), then records the result with ``records.mark_cancelled``, so that
afterwards every job of the record is final and the count it reports is the
number of jobs it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from attrs import define

from ..names.logs import logger_for
from ..relaunch.redaction import Redactor
from .engine import Engine
from .record_model import RUN_CANCELLED, RUN_RUNNING, RunRecord, is_finished, now
from .records import mark_cancelled, observe, shared_state
from .stores import RecordStore, as_store

logger = logger_for(__name__)

#: Jobs cancelled per ``engine.cancel`` call.
CANCEL_CHUNK: Final = 10


def cancel_jobs(
    engine: Engine,
    job_ids: Mapping[str, str],
    reason: str,
    *,
    done: Callable[[Sequence[str]], None] = lambda names: None,
) -> list[str]:
    """Cancel the jobs ``job_ids`` (name -> engine id), a chunk per call.

    Args:
        engine: Their engine.
        job_ids: The jobs to cancel.
        reason: Why, for the engine (AWS Batch shows it).
        done: Told the names of each chunk once it was sent.

    Returns:
        The names of the jobs the engine could not cancel.
    """
    left = list(job_ids)
    failed: list[str] = []
    # Bounded: every round takes a chunk off ``left``.
    while left:
        chunk = left[:CANCEL_CHUNK]
        try:
            engine.cancel([job_ids[name] for name in chunk], reason)
        except Exception:  # never hide the error that made us cancel
            logger.warning("Could not cancel %s", ", ".join(chunk), exc_info=True)
            failed.extend(chunk)
        del left[: len(chunk)]
        done(chunk)
    return failed


@define(frozen=True, kw_only=True)
class Cancelled:
    """What ``cancel_orphaned`` did.

    Attributes:
        changed: The jobs of the record it marked ``CANCELLED``.
        stopped: Engine ids of the jobs it asked the engine to stop.
        failed: Names of jobs the engine could not cancel.
    """

    changed: tuple[str, ...]
    stopped: tuple[str, ...]
    failed: tuple[str, ...]


def cancel_orphaned(
    where: Path | RecordStore,
    record: RunRecord,
    engine: Engine,
    reason: str,
    redactor: Redactor | None = None,
) -> Cancelled:
    """Cancel a run nobody drives: its caller holds the run's lease.

    The engine's states of the recorded jobs are taken first (a job that
    finished since the last write is recorded as it finished); ``find_jobs``
    adds the jobs a killed driver submitted after its last write. Every
    unfinished one is cancelled in the engine and every unfinished job of the
    record is marked ``CANCELLED``; the record is written.
    """
    redactor = redactor or Redactor()
    by_name = {job.name: job for job in record.jobs}
    ids = [job.job_id for job in record.jobs if job.job_id is not None]
    live = engine.poll(ids) if ids else {}
    for job in record.jobs:
        state = live.get(job.job_id) if job.job_id else None
        attempt = job.latest
        if state is not None and attempt is not None and not is_finished(job.state):
            observe(attempt, state, redactor)
            job.state = attempt.state
            job.reason = attempt.reason
    to_stop: dict[str, str] = {
        job.name: job.job_id
        for job in record.jobs
        if job.job_id is not None
        and job.job_id in live
        and not is_finished(shared_state(live[job.job_id].status))
    }
    failed = cancel_jobs(engine, to_stop, reason)
    # Then the jobs a killed driver submitted after its last write.
    found = engine.find_jobs()
    # An array's children come as "<array>[<i>]" (this run's, by the engine's
    # run tags): cancelled too, though the record names their jobs otherwise.
    stopping = set(to_stop.values())
    more = {
        name: state.job_id
        for name, state in found.items()
        if not state.status.finished
        and (name in by_name or state.array_id is not None)
        and name not in to_stop
        and state.job_id not in stopping
    }
    failed += cancel_jobs(engine, more, reason)
    to_stop.update(more)
    changed = mark_cancelled(
        record, [job.name for job in record.jobs if not is_finished(job.state)], reason
    )
    if record.state == RUN_RUNNING:
        record.state, record.finished, record.error = RUN_CANCELLED, now(), reason
    driver = record.driver
    if driver is not None and driver.state == RUN_RUNNING:
        driver.state, driver.finished = RUN_CANCELLED, now()
        driver.error = "the driver was gone; " + reason
    as_store(where).write_record(record)
    return Cancelled(
        changed=tuple(changed),
        stopped=tuple(sorted(to_stop.values())),
        failed=tuple(failed),
    )
