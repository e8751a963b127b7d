"""The driver loop every engine shares: submit, track, fail fast, clean up.

One loop, in the calling thread, for the whole run:

0. **Reattach**, when the run id was given from outside (a resumed run, or a
   driver started again after it was killed): the jobs the engine already has
   for this run id (``engine.find_jobs()``) are adopted, so none is submitted
   twice. A succeeded job counts as done; an unfinished one is tracked on when
   every parent of it was adopted too, and cancelled and submitted again
   otherwise; a failed one is submitted again.
1. **Submit** every job that may go now: its parents were all submitted, none
   failed, at most ``engine.spec.max_parents`` of them are still unfinished
   (AWS Batch: 20 ``dependsOn``; a job with a larger fan-in is *deferred* until
   enough parents succeeded: no barrier job, no extra container), and fewer
   than ``max_parallel`` jobs are unfinished.
2. **Wait**, then **poll** every unfinished job in one ``engine.poll`` call
   (the engine batches it: AWS Batch takes 100 ids per ``DescribeJobs``). The
   wait starts at ``poll_interval`` and doubles, up to ``max_poll_interval``,
   while nothing changes.
3. On a failure with ``fail_fast``, **cancel** every other unfinished job.

Any exception or ``KeyboardInterrupt`` cancels the run's unfinished jobs
before it propagates: nothing keeps running unseen. So does ``SIGTERM`` (what a
CI system or an orchestrator sends to cancel the driver), which Python would
otherwise obey by exiting at once: while the loop runs in the main thread over
the default handler, it becomes ``SystemExit(143)``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from attrs import define

from .engine import Engine, JobState, JobStatus, Submission
from .errors import JobFailure, RunCancelled
from .events import NoEvents, RunEvents
from .plan import JobPlan
from .progress import Progress, summarise
from .settings import BatchSettings

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)


@define(frozen=True, kw_only=True)
class RunOutcome:
    """How a run ended.

    Attributes:
        succeeded: Names of the jobs that succeeded.
        failures: Every job that failed, with the engine's reasons.
        not_run: Jobs never submitted (a parent failed, or fail_fast stopped
            the run) or cancelled before they finished.
        job_ids: Job name -> engine id, for every submitted or adopted job.
        adopted: Names of the jobs an earlier driver of the run had submitted.
    """

    succeeded: frozenset[str]
    failures: tuple[JobFailure, ...]
    not_run: tuple[str, ...]
    job_ids: Mapping[str, str]
    adopted: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """Whether every job succeeded."""
        return not self.failures and not self.not_run


class Driver:
    """Runs one plan on one engine. Use once.

    Args:
        plan: The jobs.
        engine: Where they run.
        settings: ``max_parallel``, ``fail_fast`` and the poll intervals.
        progress: Where the counts are reported.
        reattach: Adopt the jobs the engine already has for the run id first.
        events: Told of every submission, change and cancellation (the run
            record); may ask the run to stop.

    Example:
        >>> outcome = Driver(plan, engine, settings, LogProgress()).run()
        >>> outcome.ok  # doctest: +SKIP
        True
    """

    def __init__(
        self,
        plan: JobPlan,
        engine: Engine,
        settings: BatchSettings,
        progress: Progress,
        *,
        reattach: bool = False,
        events: RunEvents | None = None,
    ) -> None:
        self._plan = plan
        self._events: RunEvents = events or NoEvents()
        self._engine = engine
        self._reattach = reattach
        self._adopted: set[str] = set()
        self._settings = settings
        self._progress = progress
        self._jobs = {job.name: job for job in plan.jobs}
        self._ids: dict[str, str] = {}
        self._name_of_id: dict[str, str] = {}
        self._status: dict[str, JobStatus] = {}
        self._failures: dict[str, JobFailure] = {}
        self._blocked: set[str] = set()
        self._cancelled: set[str] = set()

    # --- the loop ----------------------------------------------------------------

    def run(self) -> RunOutcome:
        """Submit and track every job until all finished or the run stops.

        Returns:
            The outcome; failures are reported there, not raised.

        Raises:
            BaseException: Whatever interrupted the driver (an engine error,
                ``KeyboardInterrupt``), after the unfinished jobs were cancelled.
        """
        with _sigterm_as_exit():
            return self._run()

    def _run(self) -> RunOutcome:
        settings = self._settings
        interval = settings.poll_interval
        self._progress.start(len(self._jobs), self._engine.label)
        self._events.started(self._plan, self._engine.label)
        try:
            if self._reattach:
                self._adopt(self._engine.find_jobs())
            # Bounded by the jobs: every round either submits, observes a change,
            # or waits with a growing interval for jobs the engine is running.
            while True:
                stop = self._events.stop_requested()
                if stop is not None:
                    self._cancel_active(stop)
                    raise RunCancelled(
                        f"Run {self._plan.run_id} was stopped: {stop}. Its "
                        f"unfinished jobs were cancelled."
                    )
                self._submit_ready()
                active = self._active()
                if not active:
                    break
                self._engine.wait(interval)
                changed, new_failures = self._poll(active)
                self._progress.update(summarise(self._status, len(self._jobs)))
                if new_failures and settings.fail_fast:
                    first = new_failures[0]
                    self._cancel_active(
                        f"fail_fast: job {first} of the same run failed"
                    )
                    break
                interval = (
                    settings.poll_interval
                    if changed
                    else min(interval * 2, settings.max_poll_interval)
                )
        except BaseException as error:
            self._cancel_active(f"the Kedro driver stopped: {type(error).__name__}")
            self._events.finished(None, error)
            raise
        finally:
            self._progress.update(summarise(self._status, len(self._jobs)))
            self._progress.stop()
        outcome = self._outcome()
        self._events.finished(outcome, None)
        return outcome

    # --- steps ---------------------------------------------------------------------

    def _adopt(self, existing: Mapping[str, JobState]) -> None:
        """Take over the jobs an earlier driver of this run submitted (see above)."""
        stale: list[str] = []
        for job in self._plan.jobs:  # parents before children
            state = existing.get(job.name)
            if state is None or state.status is JobStatus.FAILED:
                continue
            parents_adopted = all(parent in self._adopted for parent in job.depends_on)
            if state.status is JobStatus.SUCCEEDED or parents_adopted:
                self._ids[job.name] = state.job_id
                self._name_of_id[state.job_id] = job.name
                self._status[job.name] = state.status
                self._adopted.add(job.name)
                self._events.submitted(job.name, state.job_id)
                self._events.changed(job.name, state)
            else:
                stale.append(state.job_id)
        if stale:
            # Their parents run again: left alone, they would run twice, or fail
            # on the old parents' failure.
            self._engine.cancel(stale, "replaced: its parents run again")
        if existing:
            done = sum(
                self._status[name] is JobStatus.SUCCEEDED for name in self._adopted
            )
            logger.warning(
                "Run %s already has %d job(s) in %s: adopted %d (%d succeeded), "
                "cancelled %d to run them again after their parents, and the "
                "failed and missing ones are submitted.",
                self._plan.run_id,
                len(existing),
                self._engine.label,
                len(self._adopted),
                done,
                len(stale),
            )

    def _active(self) -> list[str]:
        return [
            name
            for name in self._ids
            if not self._status[name].finished and name not in self._cancelled
        ]

    def _submit_ready(self) -> None:
        limit = self._settings.max_parallel
        unfinished = len(self._active())
        for job in self._plan.jobs:
            if limit is not None and unfinished >= limit:
                return
            name = job.name
            if name in self._ids or name in self._blocked:
                continue
            parents = job.depends_on
            if any(parent not in self._ids for parent in parents):
                if any(parent in self._blocked for parent in parents):
                    self._blocked.add(name)
                continue
            if any(self._status[parent] is JobStatus.FAILED for parent in parents):
                self._blocked.add(name)
                continue
            waiting_on = [
                self._ids[parent]
                for parent in parents
                if self._status[parent] is not JobStatus.SUCCEEDED
            ]
            # A job may name at most spec.max_parents unfinished parents (AWS
            # Batch: 20 dependsOn): a larger fan-in waits here until enough of its
            # parents succeeded (deferral, no barrier job).
            if len(waiting_on) > self._engine.spec.max_parents:
                continue
            job_id = self._engine.submit(
                Submission(job=job, depends_on=tuple(waiting_on))
            )
            self._ids[name] = job_id
            self._name_of_id[job_id] = name
            self._status[name] = JobStatus.SUBMITTED
            self._events.submitted(name, job_id)
            unfinished += 1
            logger.debug("Submitted %s as %s (waits on %s)", name, job_id, waiting_on)

    def _poll(self, active: list[str]) -> tuple[bool, list[str]]:
        states = self._engine.poll([self._ids[name] for name in active])
        changed = False
        new_failures: list[str] = []
        for job_id, state in states.items():
            name = self._name_of_id.get(job_id)
            if name is None or state.status is self._status[name]:
                continue
            changed = True
            self._status[name] = state.status
            self._events.changed(name, state)
            if state.status is JobStatus.FAILED:
                self._failures[name] = self._failure(name, state)
                new_failures.append(name)
                logger.error("%s", self._failures[name].describe())
            elif state.status is JobStatus.SUCCEEDED:
                logger.info("Job %s succeeded.", name)
        return changed, new_failures

    def _failure(self, name: str, state: JobState) -> JobFailure:
        job = self._jobs[name]
        parent_failed = any(
            self._status.get(parent) is JobStatus.FAILED for parent in job.depends_on
        )
        return JobFailure(
            job=name,
            nodes=job.nodes,
            reason=state.reason,
            detail=state.detail,
            exit_code=state.exit_code,
            log_location=state.log_location,
            caused_by_dependency=state.caused_by_dependency or parent_failed,
        )

    def _cancel_active(self, reason: str) -> None:
        active = self._active()
        if not active:
            return
        logger.warning(
            "Cancelling %d unfinished job(s) of run %s: %s",
            len(active),
            self._plan.run_id,
            ", ".join(active),
        )
        try:
            self._engine.cancel([self._ids[name] for name in active], reason)
        except Exception:  # never hide the error that made us cancel
            logger.exception(
                "Could not cancel every job; check these in %s: %s",
                self._engine.label,
                ", ".join(f"{name} ({self._ids[name]})" for name in active),
            )
        self._cancelled.update(active)
        self._events.cancelled(active, reason)

    # --- results ------------------------------------------------------------------

    def _outcome(self) -> RunOutcome:
        succeeded = frozenset(
            name
            for name, status in self._status.items()
            if status is JobStatus.SUCCEEDED
        )
        not_run = tuple(
            job.name
            for job in self._plan.jobs
            if job.name not in succeeded and job.name not in self._failures
        )
        return RunOutcome(
            succeeded=succeeded,
            failures=tuple(self._failures.values()),
            not_run=not_run,
            job_ids=dict(self._ids),
            adopted=frozenset(self._adopted),
        )


def _exit_on_sigterm(signal_number: int, frame: object) -> None:
    raise SystemExit(128 + signal_number)


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """``SIGTERM`` raises ``SystemExit(143)`` in the block (main thread, default
    handler only; a handler someone else installed is left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def resume_nodes(
    plan: JobPlan, pipeline: Pipeline, succeeded: frozenset[str]
) -> list[str]:
    """The nodes to resume from: the first nodes of each unfinished job whose
    parents all succeeded.

    Every other unfinished job depends on one of those, so ``--from-nodes`` with
    these runs exactly what is left; every dataset between jobs is persisted
    (pre-flight), so what the succeeded jobs wrote is there to load.

    Args:
        plan: The plan of the run.
        pipeline: The pipeline of the run.
        succeeded: Names of the jobs that succeeded.

    Returns:
        Node names, sorted.
    """
    parents_of = pipeline.node_dependencies
    by_name = {node.name: node for node in pipeline.nodes}
    start: set[str] = set()
    for job in plan.jobs:
        if job.name in succeeded:
            continue
        if any(parent not in succeeded for parent in job.depends_on):
            continue
        members = set(job.nodes)
        for node_name in job.nodes:
            node = by_name[node_name]
            if not any(parent.name in members for parent in parents_of.get(node, ())):
                start.add(node_name)
    return sorted(start)
