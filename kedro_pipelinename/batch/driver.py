"""The driver loop every engine shares: submit, track, fail fast, clean up.

One loop, in the calling thread, for the whole run:

0. **Reattach**, when the run id was given from outside (a resumed run, or a
   driver started again after it was killed): the jobs the engine already has
   for this run id (``engine.find_jobs()``) are adopted, so none is submitted
   twice. A succeeded job counts as done; an unfinished one is tracked on when
   every parent of it was adopted too, and cancelled and submitted again
   otherwise; a failed one is submitted again.
1. **Submit** every job that may go now (up to the engine's
   ``spec.submit_concurrency`` submits in flight, each in a pool thread; the
   results are noted in this thread): its parents were all submitted, none
   failed, at most ``engine.spec.max_parents`` of them are still unfinished
   (AWS Batch: 20 ``dependsOn``; a job with a larger fan-in is *deferred* until
   enough parents succeeded: no barrier job, no extra container), and fewer
   than ``max_parallel`` jobs are unfinished.
2. **Wait**, then **poll**, in one ``engine.poll`` call (the engine batches
   it: AWS Batch takes 100 ids per ``DescribeJobs``), only the jobs that can
   have changed: those queued, starting or running, and those waiting whose
   parents all finished. A job waiting on an unfinished parent cannot change
   but to fail by dependency, which the engine can only do once that parent
   failed, and then it is polled. A 400-job chain is one id per round, not 400.
   The wait starts at ``poll_interval``, doubles while no job finishes (up to
   ``max_poll_interval``) and shrinks by a tenth when one did: it settles near
   the time jobs take, about one round per finished job (``_next_interval``).
   When the engine cannot answer (``EngineUnavailable``: an outage, throttling)
   the jobs keep their last known states; only ``outage_timeout`` seconds
   without an answer stop the run (``outage.py``). The same at reattach.
3. On a failure with ``fail_fast``, **cancel** every other unfinished job.

Any exception, ``KeyboardInterrupt`` or ``SIGTERM`` (``SystemExit(143)``: what
a CI system sends to cancel the driver) cancels the run's unfinished jobs before
it propagates: nothing keeps running unseen. Another Ctrl-C while jobs are
cancelled does not cut the cancelling short; a third stops it and lists the
jobs left (``signals.py``).
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, wait

from ..names.logs import logger_for
from .arrays import PlannedArray
from .cancelling import cancel_jobs
from .engine import (
    ArraySubmission,
    Engine,
    JobState,
    JobStatus,
    Submission,
    array_child_name,
)
from .errors import EngineUnavailable, JobFailure, RunCancelled
from .events import NoEvents, RunEvents, RunOutcome
from .outage import Outage
from .plan import JobPlan, PlannedJob
from .progress import Progress, summarise
from .settings import BatchSettings
from .signals import Interrupts
from .submitting import SubmitPool

logger = logger_for(__name__)

#: Statuses in which a job may change whatever its parents do.
_UNDER_WAY = frozenset({JobStatus.QUEUED, JobStatus.STARTING, JobStatus.RUNNING})

#: After a round in which a job finished the wait is multiplied by this: slowly
#: enough that a run whose jobs take about the same time polls about once per
#: finished job (a 400-job chain: ~1.15 DescribeJobs per level), quickly enough
#: that after a long job the wait comes back down within a few dozen jobs.
_SHRINK_ON_FINISH = 0.9

#: Seconds a stopping driver waits for the submits in flight to return (an
#: sbatch takes ~10 ms, a SubmitJob ~100 ms); one that hangs longer is left to
#: the engine's ``cancel`` and ``close`` (see ``_drain``).
_DRAIN_GRACE = 5.0

#: Seconds a burst of concurrent submits runs before it pauses for a driver
#: round: the lease is renewed (another host may take a lease whose heartbeat
#: is older than ``lease_timeout``, 60 s and more), the record written, a
#: ``kedro batch cancel`` seen and the jobs polled. The burst then goes on
#: without waiting a poll interval. A 10,000-job burst at 40 calls/s takes
#: minutes; without the pause none of that happened until it ended.
_BURST_ROUND = 10.0


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
        clock: Monotonic seconds, for the outage timeout (tests pass theirs).
        arrays: Jobs to start as arrays (``arrays.plan_arrays``), for an engine
            with ``submit_array``; ignored by one without.

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
        clock: Callable[[], float] = time.monotonic,
        arrays: Sequence[PlannedArray] = (),
    ) -> None:
        self._plan = plan
        self._events: RunEvents = events or NoEvents()
        self._engine = engine
        self._reattach = reattach
        self._adopted: set[str] = set()
        self._settings = settings
        self._progress = progress
        self._jobs = {job.name: job for job in plan.jobs}
        self._order = {job.name: index for index, job in enumerate(plan.jobs)}
        self._children: dict[str, list[str]] = {job.name: [] for job in plan.jobs}
        for job in plan.jobs:
            for parent in job.depends_on:
                self._children.setdefault(parent, []).append(job.name)
        #: How many submits may be in flight at once (``_submit_concurrently``).
        self._width = max(
            1,
            min(engine.spec.submit_concurrency, settings.submit_concurrency or 1 << 30),
        )
        self._pool: SubmitPool[Submission, str] | None = None
        self._ids: dict[str, str] = {}
        self._name_of_id: dict[str, str] = {}
        self._status: dict[str, JobStatus] = {}
        self._failures: dict[str, JobFailure] = {}
        self._blocked: set[str] = set()
        self._cancelled: set[str] = set()
        self._outage = Outage(engine.label, settings.outage_timeout, clock)
        self._clock = clock
        #: The last burst paused with jobs still ready (``_BURST_ROUND``).
        self._more_ready = False
        self._interrupts = Interrupts(engine.label)
        if not callable(getattr(engine, "submit_array", None)):
            arrays = ()
        #: Arrays by name, parents before children.
        self._arrays = {array.name: array for array in arrays}
        self._array_of_job = {
            job.name: array.name for array in arrays for job in array.jobs
        }
        #: Jobs that wait to be submitted with their array (``_submit_arrays``).
        self._reserved = set(self._array_of_job)
        #: The engine id of each array submitted (or adopted) as one.
        self._array_ids: dict[str, str] = {}
        #: The jobs a submit round looks at, in plan order: not submitted, not
        #: blocked, not reserved for an array. A round scans these, not every
        #: job of the plan (a 10,000-job run polls for minutes after its last
        #: submit; each round scanned all 10,000).
        self._pending: dict[str, PlannedJob] = {}
        self._refresh_pending()

    # --- the loop ----------------------------------------------------------------

    def run(self) -> RunOutcome:
        """Submit and track every job until all finished or the run stops.

        Returns:
            The outcome; failures are reported there, not raised.

        Raises:
            BaseException: Whatever interrupted the driver (an engine error,
                ``KeyboardInterrupt``), after the unfinished jobs were cancelled.
        """
        with self._interrupts.installed():
            return self._run()

    def _run(self) -> RunOutcome:
        settings = self._settings
        interval = settings.poll_interval
        self._progress.start(len(self._jobs), self._engine.label)
        self._events.started(self._plan, self._engine.label)
        try:
            if self._reattach:
                self._adopt(self._named_children(self._find_jobs()))
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
                if self._more_ready:
                    # A burst paused for this round (_BURST_ROUND): poll and go
                    # on submitting, without waiting.
                    self._more_ready = False
                else:
                    self._engine.wait(interval)
                finished, new_failures = self._poll(self._pollable(active))
                self._progress.update(
                    summarise(self._status, len(self._jobs), self._cancelled)
                )
                if new_failures and settings.fail_fast:
                    first = new_failures[0]
                    self._cancel_active(
                        f"fail_fast: job {first} of the same run failed"
                    )
                    break
                interval = self._next_interval(interval, finished)
        except BaseException as error:
            self._cancel_active(
                f"the Kedro driver stopped: {type(error).__name__}", stopping=True
            )
            self._events.finished(None, error)
            raise
        finally:
            if self._pool is not None:
                self._pool.stop()
            self._progress.update(
                summarise(self._status, len(self._jobs), self._cancelled)
            )
            self._progress.stop()
        outcome = self._outcome()
        self._events.finished(outcome, None)
        return outcome

    def _next_interval(self, interval: float, finished: bool) -> float:
        """The wait before the next round: a tenth shorter after a round in
        which a job finished, doubled otherwise (the engine not answering too).

        Only a finished job counts: the driver acts on nothing else (a job
        going from queued to running needs no quicker look). Not reset to
        ``poll_interval``: jobs that take minutes would each be asked about
        ``log2(minutes / poll_interval)`` times; kept near the jobs' own time,
        one round finds about one finished job.
        """
        settings = self._settings
        if finished:
            return max(settings.poll_interval, interval * _SHRINK_ON_FINISH)
        return min(interval * 2, settings.max_poll_interval)

    # --- steps ---------------------------------------------------------------------

    def _find_jobs(self) -> Mapping[str, JobState]:
        """``engine.find_jobs()``, asked again through an outage (``outage.py``)."""
        interval = self._settings.poll_interval
        # Bounded: each unanswered try is counted against outage_timeout, which
        # raises; the cap on tries is for a clock that does not move.
        for _ in range(1_000_000):
            try:
                found = self._engine.find_jobs()
            except EngineUnavailable as error:
                self._outage.unanswered(error, "the run's existing jobs")
                # A round like any other: the run's lease is renewed (an
                # outage may outlast its timeout) and a cancel request heard.
                stop = self._events.stop_requested()
                if stop is not None:
                    raise RunCancelled(
                        f"Run {self._plan.run_id} was stopped: {stop}."
                    ) from error
                self._engine.wait(interval)
                interval = self._next_interval(interval, finished=False)
                continue
            self._outage.answered()
            return found
        raise EngineUnavailable(
            f"{self._engine.label} did not answer find_jobs in 1,000,000 tries."
        )

    def _named_children(self, found: Mapping[str, JobState]) -> dict[str, JobState]:
        """``found`` with each array child under its planned job's name.

        ``find_jobs`` names a child ``<array>[<index>]`` (``array_child_name``);
        when a job was also submitted on its own (a child resumed alone), the
        state that is not a failure wins.
        """
        planned = {
            array_child_name(array.name, index): job.name
            for array in self._arrays.values()
            for index, job in enumerate(array.jobs)
        }
        named: dict[str, JobState] = {}
        for key, state in found.items():
            name = planned.get(key, key)
            earlier = named.get(name)
            if earlier is None or earlier.status is JobStatus.FAILED:
                named[name] = state
        return named

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
        self._adopt_arrays(existing)
        self._refresh_pending()
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
        """Submit every job that may go now (see the module docstring, 1.).

        Arrays first (``_submit_arrays``), then single jobs: one at a time
        from this thread when the width is 1; else through
        ``_submit_concurrently``. Either way a job is submitted only after
        every parent's ``submit`` returned, so its ``depends_on`` names
        submitted jobs only. Submitting an array can make its children (and
        the jobs waiting on it) ready: the steps repeat until nothing more goes.
        """
        # Bounded: each turn submits at least one job, or ends the loop.
        for _ in range(len(self._jobs) + 1):
            before = len(self._ids)
            if self._arrays:
                self._submit_arrays()
            self._submit_jobs()
            if len(self._ids) == before or self._more_ready or not self._arrays:
                return

    def _slots(self) -> int | None:
        limit = self._settings.max_parallel
        return None if limit is None else limit - len(self._active())

    def _submit_jobs(self) -> None:
        slots = self._slots()
        if self._width > 1:
            self._submit_concurrently(slots)
            return
        for job in list(self._pending.values()):
            if slots is not None and slots <= 0:
                return
            submission = self._submission(job)
            if submission is None:
                continue
            self._submitted(submission, self._engine.submit(submission))
            if slots is not None:
                slots -= 1

    # --- arrays ----------------------------------------------------------------

    def _submit_arrays(self) -> None:
        """Submit every array that may go now, one ``submit_array`` each.

        An array goes as one when none of its jobs went on its own, its shared
        parents were submitted and none failed, and every array it pairs with
        went as one (child *i* then waits for child *i*) or, when that one went
        job by job (a resumed run adopted some of it), all of its jobs
        succeeded; then each child is noted as its job. When that can no longer
        happen (a parent failed, a job of it was adopted alone at reattach) the
        array is *released*: its jobs go one by one, like any job.
        """
        for array in self._arrays.values():
            members = [job.name for job in array.jobs]
            if array.name in self._array_ids or not self._reserved.issuperset(members):
                continue
            verdict = self._array_verdict(array)
            if verdict == "release":
                self._reserved.difference_update(members)
                self._refresh_pending()
                logger.info(
                    "Array %s goes job by job: %d job(s).", array.name, len(members)
                )
                continue
            if verdict == "wait":
                continue
            slots = self._slots()
            if slots is not None and slots < array.size:
                continue
            waiting_on = self._waiting_on(array.depends_on)
            pairs = [
                self._array_ids[name]
                for name in array.pairs_with
                if name in self._array_ids
            ]
            if len(waiting_on) + len(pairs) > self._engine.spec.max_parents:
                continue
            submission = ArraySubmission(
                name=array.name,
                jobs=array.jobs,
                command=array.command,
                env=array.jobs[0].env,
                depends_on=waiting_on,
                pairs_with=pairs,
            )
            ids = self._engine.submit_array(submission)  # type: ignore[attr-defined]
            self._array_ids[array.name] = ids.array_id
            self._reserved.difference_update(members)
            for job, child_id in zip(array.jobs, ids.child_ids, strict=True):
                self._submitted(
                    Submission(job=job, depends_on=tuple(waiting_on)), child_id
                )
            logger.info(
                "Submitted array %s as %s: %d children.",
                array.name,
                ids.array_id,
                array.size,
            )

    def _array_verdict(self, array: PlannedArray) -> str:
        """``go``, ``wait`` or ``release`` (see ``_submit_arrays``)."""
        for parent in array.depends_on:
            if parent in self._blocked or (
                parent in self._ids and self._status[parent] is JobStatus.FAILED
            ):
                return "release"
        for name in array.pairs_with:
            members = [job.name for job in self._arrays[name].jobs]
            failed = any(
                member in self._blocked or self._status.get(member) is JobStatus.FAILED
                for member in members
            )
            if failed:
                return "release"
            if name in self._array_ids:
                continue
            if self._reserved.issuperset(members):
                return "wait"  # not submitted yet
            # It went job by job (resumed, some of it adopted): this array goes
            # once all of them succeeded, with nothing to pair with.
            if not all(
                self._status.get(member) is JobStatus.SUCCEEDED for member in members
            ):
                return "wait"
        if any(parent not in self._ids for parent in array.depends_on):
            return "wait"
        return "go"

    def _adopt_arrays(self, existing: Mapping[str, JobState]) -> None:
        """After reattaching: an array whose children were all adopted, from one
        array job and none failed, counts as submitted as one (arrays pairing
        with it can go as arrays); one partly adopted is released."""
        for array in self._arrays.values():
            members = [job.name for job in array.jobs]
            adopted = [name for name in members if name in self._adopted]
            if not adopted:
                continue
            self._reserved.difference_update(members)
            array_ids = {existing[name].array_id for name in adopted}
            if len(adopted) == len(members) and len(array_ids) == 1:
                array_id = array_ids.pop()
                if array_id is not None:
                    self._array_ids[array.name] = array_id

    def _submission(self, job: PlannedJob) -> Submission | None:
        """The job's submission if it may go now; ``None`` if not (and the job
        noted blocked when a parent failed or was blocked)."""
        name = job.name
        if name in self._ids or name in self._blocked or name in self._reserved:
            return None
        parents = job.depends_on
        if any(parent not in self._ids for parent in parents):
            if any(parent in self._blocked for parent in parents):
                self._block(name)
            return None
        if any(self._status[parent] is JobStatus.FAILED for parent in parents):
            self._block(name)
            return None
        waiting_on = self._waiting_on(parents)
        # A job may name at most spec.max_parents unfinished parents (AWS
        # Batch: 20 dependsOn): a larger fan-in waits here until enough of its
        # parents succeeded (deferral, no barrier job).
        if len(waiting_on) > self._engine.spec.max_parents:
            return None
        return Submission(job=job, depends_on=tuple(waiting_on))

    def _block(self, name: str) -> None:
        """Note ``name`` blocked: a parent failed or was blocked; it never goes."""
        self._blocked.add(name)
        self._pending.pop(name, None)

    def _refresh_pending(self) -> None:
        """``_pending`` from the plan, after jobs were adopted or an array's
        reservation released (rare: once per array at most)."""
        done = self._ids.keys() | self._blocked | self._reserved
        self._pending = {
            job.name: job for job in self._plan.jobs if job.name not in done
        }

    def _waiting_on(self, parents: Sequence[str]) -> list[str]:
        """The engine ids a job waits on: its parents that have not succeeded,
        every array of which all children are parents named once, by its id."""
        unfinished = [
            parent
            for parent in parents
            if self._status[parent] is not JobStatus.SUCCEEDED
        ]
        if not self._array_ids:
            return [self._ids[parent] for parent in unfinished]
        named = set(parents)
        whole: dict[str, str] = {}
        for parent in unfinished:
            array = self._array_of_job.get(parent)
            if array is not None and array in self._array_ids:
                members = self._arrays[array].jobs
                if all(member.name in named for member in members):
                    whole[parent] = array
        waiting_on: list[str] = []
        seen: set[str] = set()
        for parent in unfinished:
            array = whole.get(parent)
            if array is None:
                waiting_on.append(self._ids[parent])
            elif array not in seen:
                seen.add(array)
                waiting_on.append(self._array_ids[array])
        return waiting_on

    def _submitted(self, submission: Submission, job_id: str) -> None:
        """Note a job the engine took; in the driver's thread only (the run
        record is not thread-safe)."""
        name = submission.job.name
        self._ids[name] = job_id
        self._pending.pop(name, None)
        self._name_of_id[job_id] = name
        self._status[name] = JobStatus.SUBMITTED
        self._events.submitted(name, job_id)
        logger.debug(
            "Submitted %s as %s (waits on %s)", name, job_id, submission.depends_on
        )

    def _submit_concurrently(self, slots: int | None) -> None:
        """``_submit_ready`` with up to ``self._width`` submits in flight.

        The jobs ready now are queued in plan order; as each submit returns,
        its result is noted here, in the driver's thread, and its children
        that became ready are queued (nothing else can become ready while
        jobs are only being submitted: deferred and blocked jobs wait on
        parents' *states*, which change at a poll). ``slots`` bounds the jobs
        queued in this call (``max_parallel``). An error or a signal stops the
        queue: what is in flight is waited for and noted (``_drain``), so the
        driver's clean-up cancels it too, then the error propagates.
        """
        ready: deque[Submission] = deque()
        queued: set[str] = set()

        def enqueue(job: PlannedJob) -> None:
            if job.name in queued or (slots is not None and len(queued) >= slots):
                return
            submission = self._submission(job)
            if submission is not None:
                ready.append(submission)
                queued.add(job.name)

        for job in list(self._pending.values()):
            enqueue(job)
        if not ready:
            return
        if self._pool is None:
            self._pool = SubmitPool(self._engine.submit, self._width)
        in_flight: dict[Future[str], Submission] = {}
        # Each submit's future puts itself here when it is done (from the
        # submit thread): one blocking get per returned submit, not a
        # concurrent.futures.wait that hooks a waiter into every future in
        # flight and unhooks it again, each time.
        returned: queue.SimpleQueue[Future[str]] = queue.SimpleQueue()
        try:
            # Bounded: each turn notes at least one returned submit, and at
            # most every job of the plan is queued once per call; after
            # _BURST_ROUND seconds no new submit starts (a driver round first).
            deadline = self._clock() + _BURST_ROUND
            while (ready and self._clock() < deadline) or in_flight:
                while (
                    ready and len(in_flight) < self._width and self._clock() < deadline
                ):
                    submission = ready.popleft()
                    future = self._pool.call(submission)
                    in_flight[future] = submission
                    future.add_done_callback(returned.put)
                for future in self._returned(returned, in_flight):
                    submission = in_flight.pop(future)
                    self._submitted(submission, future.result())
                    for child in self._children[submission.job.name]:
                        enqueue(self._jobs[child])
            self._more_ready = bool(ready)
        except BaseException:
            self._drain(in_flight)
            raise

    def _returned(
        self,
        returned: queue.SimpleQueue[Future[str]],
        in_flight: Mapping[Future[str], Submission],
    ) -> Iterable[Future[str]]:
        """The submits that returned: waits for one, takes any others already
        back, in plan order (parents before children, as the plan lists them)."""
        done = [returned.get()]
        # Bounded by the submits in flight: each is put once.
        while len(done) < len(in_flight):
            try:
                done.append(returned.get_nowait())
            except queue.Empty:
                break
        return sorted(done, key=lambda future: self._order[in_flight[future].job.name])

    def _drain(self, in_flight: dict[Future[str], Submission]) -> None:
        """After an error or a signal in a burst: drop the submits not started,
        give those in flight ``_DRAIN_GRACE`` seconds and note the jobs they
        created, so that they are cancelled with the rest. A submit still in
        flight after that (a hung request) is the engine's to find: its
        ``cancel`` and ``close`` look for what submits in flight created. A
        signal meanwhile does not cut the wait short; a second one forces the
        exit (``signals.py``), naming the submits left."""
        for future in in_flight:
            future.cancel()
        running = {
            future: submission
            for future, submission in in_flight.items()
            if not future.cancelled()
        }
        if not running:
            return

        def left() -> list[str]:
            return [
                f"{submission.job.name} (being submitted)"
                for future, submission in running.items()
                if not future.done()
            ]

        with self._interrupts.cleaning(left, stopping=True):
            wait(running, timeout=_DRAIN_GRACE)
        for future, submission in running.items():
            if not future.done():
                logger.warning(
                    "The submit of %s did not return within %g s of the driver "
                    "stopping; leaving it to %s to find and cancel.",
                    submission.job.name,
                    _DRAIN_GRACE,
                    self._engine.label,
                )
                continue
            error = future.exception()
            if error is None:
                self._submitted(submission, future.result())
            else:
                logger.error(
                    "Submitting %s failed too: %s: %s",
                    submission.job.name,
                    type(error).__name__,
                    error,
                )

    def _pollable(self, active: list[str]) -> list[str]:
        """The jobs of ``active`` that can have changed since the last round."""
        status = self._status
        return [
            name
            for name in active
            if status[name] in _UNDER_WAY
            or all(status[parent].finished for parent in self._jobs[name].depends_on)
        ]

    def _poll(self, names: list[str]) -> tuple[bool, list[str]]:
        """Poll ``names``; whether a job finished, and the jobs that failed.

        An engine that cannot answer (``EngineUnavailable``) changes nothing:
        the jobs keep their last known states until ``outage_timeout``.
        """
        if not names:
            return False, []
        try:
            states = self._engine.poll([self._ids[name] for name in names])
        except EngineUnavailable as error:
            self._outage.unanswered(error, "job states")
            return False, []
        self._outage.answered()
        finished = False
        new_failures: list[str] = []
        for job_id, state in states.items():
            name = self._name_of_id.get(job_id)
            if name is None or state.status is self._status[name]:
                continue
            finished = finished or state.status.finished
            self._status[name] = state.status
            self._events.changed(name, state)
            if state.status is JobStatus.FAILED:
                self._failures[name] = self._failure(name, state)
                new_failures.append(name)
                logger.error("%s", self._failures[name].describe())
            elif state.status is JobStatus.SUCCEEDED:
                logger.info("Job %s succeeded.", name)
        return finished, new_failures

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

    def _cancel_active(self, reason: str, *, stopping: bool = False) -> None:
        """Cancel every unfinished job, a chunk per ``engine.cancel`` call.

        Ctrl-C or SIGTERM in here does not stop it (``signals.py``); ``stopping``:
        the run already stops (the error path), so a signal needs no raising
        after.
        """
        active = self._active()
        if not active:
            return
        logger.warning(
            "Cancelling %d unfinished job(s) of run %s: %s",
            len(active),
            self._plan.run_id,
            ", ".join(active),
        )
        targets, members = self._cancel_targets(active)
        left = list(targets)
        failed: list[str] = []

        def described() -> list[str]:
            return [f"{name} ({targets[name]})" for name in [*failed, *left]]

        def sent(chunk: Sequence[str]) -> None:
            del left[: len(chunk)]
            for name in chunk:
                self._cancelled.update(members.get(name, (name,)))

        with self._interrupts.cleaning(described, stopping=stopping):
            failed = cancel_jobs(self._engine, targets, reason, done=sent)
        if failed:
            logger.error(
                "Could not cancel every job; check these in %s: %s",
                self._engine.label,
                ", ".join(f"{name} ({targets[name]})" for name in failed),
            )
        self._events.cancelled(active, reason)

    def _cancel_targets(
        self, active: Sequence[str]
    ) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
        """What to cancel for ``active``: name -> engine id, an array whose
        children are all unfinished by its name and id (one TerminateJob for
        10,000 children), and the jobs each array name stands for."""
        targets = {name: self._ids[name] for name in active}
        members: dict[str, tuple[str, ...]] = {}
        for array_name, array_id in self._array_ids.items():
            names = tuple(job.name for job in self._arrays[array_name].jobs)
            if all(name in targets for name in names):
                for name in names:
                    del targets[name]
                targets[array_name] = array_id
                members[array_name] = names
        return targets, members

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
