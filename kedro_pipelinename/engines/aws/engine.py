"""The AWS Batch engine: every job of the plan a Batch job.

The whole DAG is submitted up front, each job naming its parents in
``dependsOn``, so Batch schedules the next job the moment its parents succeed,
without waiting for the driver. AWS Batch allows at most 20 ``dependsOn`` per
job; a job with more unfinished parents is *deferred*: the shared driver submits
it once no more than 20 of its parents are unfinished (no barrier job, which
would cost a container start and a job definition able to run a no-op).

Limits this engine keeps:

- **SubmitJob: 50 requests per second** per account and region. One token
  bucket (``submit_rate``, default 40/s, no burst) spaces every request the
  engine's client sends (SubmitJob, DescribeJobs, ListJobs, TerminateJob and
  botocore's retries of them: ``api.limit_rate``), shared by the driver's
  concurrent submits (``SPEC.submit_concurrency``, 16 in flight); throttling
  that still happens (other clients share the quota) is retried by botocore's
  ``standard`` or ``adaptive`` retry mode.
- **No duplicate jobs.** SubmitJob has no client token: one whose answer was
  lost (a reset, a read timeout, a 5xx) may have created the job. A
  ``needs-retry`` handler stops botocore from resending it (``retries.py``: it
  raises, which holds on every botocore; returning ``False`` holds only from
  1.43.3), and the engine looks the job up by name (``ListJobs``) and the run's
  tags (``DescribeJobs``), ``lookup_attempts`` times, before it sends it again.
  A submit interrupted in flight is looked up and terminated by ``cancel`` and
  ``close``.
- **Status outages are no failures.** Reads are retried (``status_attempts``,
  capped backoff), then ``EngineUnavailable``: the driver asks again later.
- **RUNNABLE forever** is reported (``runnable_warning``) and, with
  ``runnable_timeout``, ends in a terminated, failed job (``queue_watch.py``).
- **DescribeJobs: at most 100 ids per call.** One tracker polls every unfinished
  job of the run in ``ceil(n / 100)`` calls per round, backing off while nothing
  changes (see ``driver.py``); never a thread or a call per job. An array's
  children are polled through their parent's ``statusSummary``: no call for a
  child until the counts say it finished or moved (``children.py``).
- **At most 50 tags per job**: the run's two plus at most 48 of the user's.

``boto3`` is imported when an engine is opened, never on ``import
kedro_pipelinename.batch``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, ClassVar

from ...batch.kit import (
    ArrayIds,
    ArraySubmission,
    BatchError,
    BatchSettingsError,
    EngineBase,
    EngineRun,
    EngineSpec,
    JobState,
    PlannedJob,
    Submission,
    array_child_name,
    chunks,
    logger_for,
    where_to_set,
)
from .api import (
    BLOCKS,
    JOB_TAG,
    MAX_ARRAY_SIZE,
    MAX_DESCRIBE_JOBS,
    MAX_SUBMIT_TRIES,
    RUN_ID_TAG,
    SPEC,
    TokenBucket,
    array_key,
    job_state,
    limit_rate,
    make_client,
    parse_only_what_is_read,
    submit_array_request,
    submit_job_request,
)
from .children import ArrayChildren, child_ids, parent_of
from .preflight import check_plan, parameter_error, validator_key
from .queue_watch import QueueWatch
from .retries import (
    MAX_RETRY_DELAY,
    ErrorKind,
    backoff,
    botocore_errors,
    call_with_retries,
    kind_of,
)
from .settings import AWSBatchSettings
from .submit_call import direct_submit_of

logger = logger_for(__name__)


def request_errors() -> tuple[type[Exception], ...]:
    """What a failed call to Batch raises: botocore's errors, and
    ``EngineUnavailable`` (a ``BatchError``) once the engine's retries are spent."""
    return (BatchError, *botocore_errors())


class AWSBatchEngine(EngineBase[AWSBatchSettings]):
    """Submits, tracks and cancels the jobs of one run on AWS Batch.

    Args:
        settings: The AWS Batch settings.
        run_id: The run id, tagged on every job.
        client: A Batch client (default: ``make_client(settings)``); tests pass a
            stubbed one. It should have the handler of
            ``veto_blind_submit_retries``.
        job_name_prefix: The run's ``job_name_prefix`` (``find_jobs`` lists it).
        run: The run it is opened for, whose jobs ``check`` checks.

    Example:
        >>> engine = AWSBatchEngine(settings, run_id="2024-01-15T10.30.00.000Z")
        >>> job_id = engine.submit(Submission(job=planned_job))
    """

    spec: ClassVar[EngineSpec] = SPEC
    # wait: EngineBase's sleep (AWS Batch has no change notification).

    def __init__(
        self,
        settings: AWSBatchSettings,
        run_id: str,
        *,
        client: Any = None,
        job_name_prefix: str = "kedro",
        run: EngineRun | None = None,
    ) -> None:
        self._prefix = job_name_prefix
        self.settings = settings
        self.run_id = run_id
        self.client = make_client(settings) if client is None else client
        #: SubmitJob without botocore's per-call pipeline (``submit_call.py``),
        #: for a client ``make_client`` made; ``None`` for any other client.
        self._direct = direct_submit_of(self.client)
        self.label = f"AWS Batch queue {settings.job_queue}"
        limit_rate(self.client, TokenBucket(settings.submit_rate))
        #: Names of jobs whose SubmitJob has not answered (see ``submit``).
        self._in_flight: set[str] = set()
        #: Names ``_terminate_in_flight`` gave up on (looked for while their
        #: SubmitJob was in flight, in a driver's submit thread): a job such a
        #: SubmitJob still returns is terminated by ``submit`` itself.
        self._abandoned: set[str] = set()
        self._queue_watch = QueueWatch(self, settings)
        #: The run it was opened for (``check`` checks its jobs' requests).
        self._run = run
        #: The keys (``preflight.validator_key``) of requests known valid: the
        #: client does not validate (``make_client``), so ``_submit_once``
        #: validates a request whose key is not here. ``check`` fills it
        #: with every job's request as the pre-flight validated it; a request
        #: it did not see (an array's, with ``arrayProperties`` and ``N_TO_N``;
        #: fewer or other ``dependsOn``; an engine without the pre-flight) is
        #: validated at its first submit: none reaches AWS unvalidated.
        self._valid_keys: set[Hashable] = set()
        #: The children of the arrays it submitted or found, polled from their
        #: parents' counts (``children.py``).
        self._array_children = ArrayChildren()

    @classmethod
    def open(cls, run: EngineRun, settings: AWSBatchSettings) -> AWSBatchEngine:
        """An engine for ``run`` on a new Batch client; no call is made (see
        ``check``)."""
        return cls.with_client(run, settings, make_client(settings))

    @classmethod
    def with_client(
        cls, run: EngineRun, settings: AWSBatchSettings, client: Any
    ) -> AWSBatchEngine:
        """``open`` with a Batch client of your own (event hooks, a session).

        The engine owns the client from then on: it parses ``DescribeJobs``
        answers for what the engine reads only (``parse_only_what_is_read``).
        """
        parse_only_what_is_read(client)
        return cls(
            settings,
            run_id=run.run_id,
            client=client,
            job_name_prefix=run.settings.job_name_prefix,
            run=run,
        )

    # --- checks --------------------------------------------------------------------

    def check(self) -> list[BatchSettingsError]:
        """The run's pre-flight: every problem of the job queue, the job
        definition and (for an opened engine) each job's SubmitJob; creating
        nothing. ``DescribeJobQueues`` and ``DescribeJobDefinitions`` once each.
        """
        return self.problems(self._run)

    def verify(self, run: EngineRun | None = None) -> None:
        """``problems(run)``, raised.

        Raises:
            BatchSettingsError: Listing every problem: the missing queue or
                definition, and each setting that makes a job AWS Batch refuses.
        """
        problems = self.problems(run)
        if problems:
            raise BatchSettingsError.combine(problems)

    def problems(self, run: EngineRun | None = None) -> list[BatchSettingsError]:
        """Whether the job queue and job definition exist, and (given the run)
        whether AWS Batch would accept every job's SubmitJob: one error per
        problem; empty when none."""
        problems: list[BatchSettingsError] = []
        queues = self.client.describe_job_queues(jobQueues=[self.settings.job_queue])
        usable = [
            queue
            for queue in queues.get("jobQueues", [])
            if queue.get("state", "ENABLED") == "ENABLED"
        ]
        if not usable:
            problems.append(
                BatchSettingsError(
                    "job_queue",
                    f"AWS Batch job queue {self.settings.job_queue!r} does not exist "
                    f"or is disabled in this account and region. "
                    f"{where_to_set('job_queue', BLOCKS)}",
                )
            )
        definition = self.settings.job_definition
        if ":" in definition:  # name:revision or an ARN
            found = self.client.describe_job_definitions(jobDefinitions=[definition])
        else:
            found = self.client.describe_job_definitions(
                jobDefinitionName=definition, status="ACTIVE"
            )
        if not found.get("jobDefinitions"):
            problems.append(
                BatchSettingsError(
                    "job_definition",
                    f"AWS Batch job definition {definition!r} does not exist or is "
                    f"not active. {where_to_set('job_definition', BLOCKS)}",
                )
            )
        if run is not None:
            problems += check_plan(
                run, self.settings, self.client, valid=self._valid_keys
            )
        return problems

    # --- Engine ------------------------------------------------------------------

    def submit(self, submission: Submission) -> str:
        """Submit one job, never twice.

        A SubmitJob whose outcome is unknown (its response was lost, it timed
        out, AWS answered 5xx) is followed by a look for the job by name and run
        tags, ``lookup_attempts`` times ``lookup_delay`` apart (ListJobs is
        eventually consistent), before it is ever sent again. Throttling and
        failed connections created nothing and are sent again after a backoff.

        Raises:
            BatchSettingsError: When botocore refuses the request's parameters
                (naming the setting that made them).
            botocore.exceptions.ClientError: When AWS Batch rejects the job.
            BatchError: When it could not be submitted after every try, or it
                could not be told whether a lost SubmitJob created it.
        """
        request = submit_job_request(submission, self.settings, self.run_id)
        return self._submit_once(submission.job.name, request)

    def _submit_once(self, name: str, request: dict[str, Any]) -> str:
        """``request`` (a job's or an array's SubmitJob) sent until it created
        its job, once (see ``submit``); its id."""
        key = validator_key(request)
        if key not in self._valid_keys:
            self._validate(name, request)
            self._valid_keys.add(key)  # a set's add is atomic: threads may share it
        # Until SubmitJob answers, Batch may have a job the driver never learns
        # of: cancel() and close() look for the names still here.
        self._in_flight.add(name)
        try:
            job_id = self._submit(name, request)
        except (KeyboardInterrupt, SystemExit):
            # Ctrl-C or SIGTERM (raised as SystemExit by the driver) while the
            # request was in flight: one quick look now; cancel() and close()
            # look again, tolerating ListJobs' lag.
            self._terminate_in_flight("the Kedro driver stopped while submitting", 1)
            raise
        self._in_flight.discard(name)
        if name in self._abandoned:
            logger.warning(
                "SubmitJob for %s answered (%s) after the driver stopped; "
                "terminating the job.",
                name,
                job_id,
            )
            self._terminate([job_id], "the Kedro driver stopped while submitting")
        return job_id

    # --- arrays (ArrayEngine) -----------------------------------------------------

    def max_array_size(self) -> int:
        """AWS Batch's limit: 10,000 children per array."""
        return MAX_ARRAY_SIZE

    def array_key(self, job: PlannedJob) -> tuple[object, ...]:
        """Members of one array share their resources (``api.array_key``)."""
        return array_key(job, self.settings)

    def submit_array(self, array: ArraySubmission) -> ArrayIds:
        """One ``SubmitJob`` with ``arrayProperties``, never twice: the same
        look-up as ``submit`` when its outcome is unknown (a lost response
        creates one array, found by its name and run tags).

        Raises:
            As ``submit``.
        """
        request = submit_array_request(array, self.settings, self.run_id)
        array_id = self._submit_once(array.name, request)
        ids = child_ids(array_id, len(array.jobs))
        self._array_children.track(array_id, ids, array.name)
        return ArrayIds(array_id=array_id, child_ids=ids)

    def _children(self, parent: dict[str, Any]) -> Iterator[JobState]:
        """Every child of the array job ``parent``, described (100 per call)."""
        size = int((parent.get("arrayProperties") or {}).get("size") or 0)
        for chunk in chunks(child_ids(str(parent["jobId"]), size), MAX_DESCRIBE_JOBS):
            for child in self._describe(chunk):
                yield job_state(child)

    def _validate(self, name: str, request: dict[str, Any]) -> None:
        """What botocore's parameter validation would refuse, as an error
        naming the setting: for a request the pre-flight did not validate
        (``_valid_keys``), since ``make_client``'s client does not check.

        Raises:
            BatchSettingsError: Naming the setting behind each bad parameter.
        """
        from botocore.exceptions import ParamValidationError
        from botocore.validate import ParamValidator

        shape = self.client.meta.service_model.operation_model("SubmitJob")
        report = ParamValidator().validate(request, shape.input_shape)
        if report.has_errors():
            error = ParamValidationError(report=report.generate_report())
            raise parameter_error(error, name)

    def _send_submit(self, request: dict[str, Any], *, first: bool) -> str:
        """One SubmitJob: a job's first try through the client's
        ``DirectSubmit`` once it has learned from botocore's first SubmitJob
        (``submit_call.py``: a third of the CPU), every other through botocore
        (its retry mode, as before)."""
        direct = self._direct if first else None
        job_id = direct.submit(request) if direct is not None else None
        if job_id is not None:
            return job_id
        return str(self.client.submit_job(**request)["jobId"])

    def _submit(self, name: str, request: dict[str, Any]) -> str:
        from botocore.exceptions import ParamValidationError

        last: Exception | None = None
        for attempt in range(1, MAX_SUBMIT_TRIES + 1):
            try:
                return self._send_submit(request, first=attempt == 1)
            except ParamValidationError as error:
                self._in_flight.discard(name)
                raise parameter_error(error, name) from None
            except Exception as error:
                kind = kind_of(error)
                if kind is ErrorKind.REJECTED:
                    self._in_flight.discard(name)
                    raise
                last = error
                if kind is ErrorKind.UNKNOWN_OUTCOME:
                    found = self._look_up(name, error)
                    if found is not None:
                        self._in_flight.discard(name)
                        return found
            if attempt < MAX_SUBMIT_TRIES:
                delay = backoff(
                    attempt, first=self.settings.api_retry_delay, cap=MAX_RETRY_DELAY
                )
                logger.warning(
                    "SubmitJob for %s failed (%s: %s) and created no job; sending it "
                    "again in %.1f s (try %d of %d).",
                    name,
                    type(last).__name__,
                    last,
                    delay,
                    attempt + 1,
                    MAX_SUBMIT_TRIES,
                )
                time.sleep(delay)
        self._in_flight.discard(name)
        raise BatchError(
            f"Could not submit job {name!r} to {self.label}: {MAX_SUBMIT_TRIES} tries "
            f"failed and none created the job (last: {type(last).__name__}: {last})."
        )

    def _look_up(self, name: str, error: Exception) -> str | None:
        """The id of the job a SubmitJob of unknown outcome created, or ``None``
        once ``lookup_attempts`` looks found none.

        Raises:
            BatchError: When no look could be made (ListJobs failing too): the
                job may exist, so it must not be sent again.
        """
        looked = False
        for look in range(1, self.settings.lookup_attempts + 1):
            if look > 1 and self.settings.lookup_delay > 0:
                time.sleep(self.settings.lookup_delay)
            try:
                found = self.find_submitted(name)
            except request_errors() as lookup_error:
                logger.warning("Could not look for job %s: %s", name, lookup_error)
                continue
            looked = True
            if found is not None:
                logger.warning(
                    "SubmitJob for %s failed (%s) but had created job %s; using it.",
                    name,
                    type(error).__name__,
                    found,
                )
                return found
        if not looked:
            raise BatchError(
                f"SubmitJob for {name!r} failed ({type(error).__name__}: {error}) "
                f"and AWS Batch could not be asked whether it created the job; not "
                f"sending it again. Look for it in {self.label} (aws batch "
                f"list-jobs --job-queue {self.settings.job_queue} --filters "
                f"name=JOB_NAME,values={name})."
            ) from error
        return None

    def _terminate_in_flight(self, reason: str, looks: int | None = None) -> None:
        """Find and terminate the jobs whose SubmitJob never answered."""
        for name in sorted(self._in_flight):
            self._abandoned.add(name)
            try:
                found = None
                for look in range(1, (looks or self.settings.lookup_attempts) + 1):
                    if look > 1 and self.settings.lookup_delay > 0:
                        time.sleep(self.settings.lookup_delay)
                    found = self.find_submitted(name)
                    if found is not None:
                        break
                if found is None:
                    if looks is None:  # the last look: nothing was created
                        self._in_flight.discard(name)
                    continue
                logger.warning(
                    "The driver stopped while submitting %s; terminating the job "
                    "Batch created for it (%s).",
                    name,
                    found,
                )
                self._in_flight.discard(name)
                self._terminate([found], reason)
            except Exception:  # never hide the interruption itself
                logger.exception(
                    "Could not check whether job %s was created; look for it in %s.",
                    name,
                    self.label,
                )

    def _read(self, operation: str, call: Callable[[], dict[str, Any]]) -> Any:
        """A read (DescribeJobs, ListJobs), retried; ``EngineUnavailable`` after."""
        return call_with_retries(
            call,
            operation=operation,
            where=self.label,
            attempts=self.settings.status_attempts,
            first_delay=self.settings.api_retry_delay,
            max_delay=MAX_RETRY_DELAY,
        )

    def _jobs_of_run(
        self, job_name: str, *, max_pages: int, exact: bool
    ) -> Iterator[dict[str, Any]]:
        """``DescribeJobs`` entries of this run's jobs that ``ListJobs`` finds by
        ``job_name`` (a name, or ``<prefix>-*``), 100 ids per call.

        Batch's ``JOB_NAME`` filter ignores case: with ``exact``, only jobs
        named exactly ``job_name`` are described. A job is this run's when it
        carries the run's tags.
        """
        arguments = {
            "jobQueue": self.settings.job_queue,
            "filters": [{"name": "JOB_NAME", "values": [job_name]}],
        }
        candidates = [
            summary["jobId"]
            for summary in self._list_jobs(arguments, max_pages)
            if not exact or summary.get("jobName") == job_name
        ]
        for chunk in chunks(candidates, MAX_DESCRIBE_JOBS):
            for job in self._describe(chunk):
                tags = job.get("tags") or {}
                if tags.get(RUN_ID_TAG) == self.run_id and tags.get(JOB_TAG):
                    yield job

    def find_submitted(self, name: str) -> str | None:
        """The id of this run's job called ``name``, if Batch has one."""
        # 50 pages of one job name is far beyond any run.
        for job in self._jobs_of_run(name, max_pages=50, exact=True):
            if job["tags"][JOB_TAG] == name:
                return str(job["jobId"])
        return None

    def _describe(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        response = self._read(
            "DescribeJobs", lambda: self.client.describe_jobs(jobs=list(job_ids))
        )
        return list(response.get("jobs", []))

    def _describe_all(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """``DescribeJobs`` for ``job_ids``, 100 ids per call."""
        return [
            job
            for chunk in chunks(list(job_ids), MAX_DESCRIBE_JOBS)
            for job in self._describe(chunk)
        ]

    def _list_children(
        self, parent_id: str, status: str, size: int
    ) -> list[dict[str, Any]]:
        """``ListJobs`` of array ``parent_id``'s children in ``status``."""
        arguments = {"arrayJobId": parent_id, "jobStatus": status}
        # A page holds at least 100 of the array's ``size`` children.
        return self._list_jobs(arguments, size // MAX_DESCRIBE_JOBS + 2)

    def _list_jobs(
        self, arguments: dict[str, Any], max_pages: int
    ) -> list[dict[str, Any]]:
        """The ``jobSummaryList`` entries of ``ListJobs(**arguments)``, page
        after page, at most ``max_pages`` (the bound of every listing)."""
        arguments = dict(arguments)
        entries: list[dict[str, Any]] = []
        for _ in range(max_pages):
            page = self._read("ListJobs", lambda: self.client.list_jobs(**arguments))
            entries.extend(page.get("jobSummaryList", []))
            token = page.get("nextToken")
            if not token:
                break
            arguments["nextToken"] = token
        return entries

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """The states of ``job_ids``: ``DescribeJobs``, 100 ids per call.

        The children of an array this engine submitted or found are not
        described each: their parent is, and its ``statusSummary`` says
        which of them need a call at all (``children.py``).

        Raises:
            EngineUnavailable: When DescribeJobs kept failing (an outage,
                throttling, timeouts) after the engine's own retries.
        """
        alone: list[str] = []
        children: dict[str, list[str]] = {}
        for job_id in job_ids:
            parent = parent_of(job_id)
            if parent is not None and self._array_children.tracks(parent):
                children.setdefault(parent, []).append(job_id)
            else:
                alone.append(job_id)
        wanted = set(alone)
        states: dict[str, JobState] = {}
        for job in self._describe_all([*alone, *children]):
            job_id = str(job["jobId"])
            if job_id in wanted:
                state = self._queue_watch.observe(job, job_state(job))
                states[state.job_id] = state
            if job_id not in children:
                continue
            known = self._array_children.states(
                job, self._list_children, self._describe_all
            )
            if known is None:  # no counts: every child described
                for described in self._describe_all(children[job_id]):
                    state = self._queue_watch.observe(described, job_state(described))
                    states[state.job_id] = state
                continue
            for child_id in children[job_id]:
                if child_id in known:
                    # The parent stands in for the child: the same queue and
                    # resources, for the RUNNABLE warning's causes.
                    states[child_id] = self._queue_watch.observe(job, known[child_id])
        return states

    def find_jobs(self) -> dict[str, JobState]:
        """This run's jobs in the queue, by job name: for each name the live job
        (not finished) if there is one, else the newest.

        ``ListJobs`` with the job-name prefix (``<prefix>-*``; Batch keeps
        finished jobs for about a week), then ``DescribeJobs``, 100 ids per call,
        keeping the jobs tagged with this run id. A name may have several jobs
        (an earlier attempt's failed one, then its resubmission): the failed one
        must never hide the live one, even when ``createdAt`` (milliseconds)
        ties.

        Raises:
            EngineUnavailable: When ListJobs or DescribeJobs kept failing.
        """
        found: dict[str, tuple[tuple[bool, int], JobState]] = {}
        # 1,000 pages of 100 jobs is far beyond a week of one queue.
        pattern = f"{self._prefix}-*"
        for job in self._jobs_of_run(pattern, max_pages=1000, exact=False):
            name = job["tags"][JOB_TAG]
            created = int(job.get("createdAt") or 0)
            if (job.get("arrayProperties") or {}).get("size"):
                # An array job: each child under array_child_name.
                found_children = list(self._children(job))
                self._array_children.adopt(str(job["jobId"]), found_children)
                entries = [
                    (array_child_name(name, int(child.job_id.rsplit(":", 1)[1])), child)
                    for child in found_children
                ]
            else:
                entries = [(name, job_state(job))]
            for key, state in entries:
                rank = (not state.status.finished, created)
                if key not in found or rank >= found[key][0]:
                    found[key] = (rank, state)
        return {name: state for name, (_, state) in found.items()}

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        """``TerminateJob`` for each job (it cancels jobs that have not started),
        and for any job a SubmitJob interrupted in flight had created.

        Raises:
            BatchError: Listing every job that could not be terminated, after
                trying all of them.
        """
        self._terminate_in_flight(reason)
        self._terminate(job_ids, reason)

    def _terminate(self, job_ids: Sequence[str], reason: str) -> None:
        failed: list[str] = []
        for job_id in job_ids:
            try:
                # TerminateJob is idempotent: asking again is safe.
                call_with_retries(
                    lambda job_id=job_id: self.client.terminate_job(  # type: ignore[misc]
                        jobId=job_id, reason=reason[:1024]
                    ),
                    operation="TerminateJob",
                    where=self.label,
                    attempts=self.settings.status_attempts,
                    first_delay=self.settings.api_retry_delay,
                    max_delay=MAX_RETRY_DELAY,
                )
            except request_errors() as error:
                logger.error("Could not terminate AWS Batch job %s: %s", job_id, error)
                failed.append(job_id)
        if failed:
            raise BatchError(
                f"Could not terminate AWS Batch job(s) {', '.join(failed)}; stop "
                f"them with `aws batch terminate-job --job-id <id> --reason ...`."
            )

    def close(self) -> None:
        """Terminate what an interrupted SubmitJob created, then close the
        client's connections (botocore 1.34+ has ``close``)."""
        if self._in_flight:
            self._terminate_in_flight("the Kedro driver stopped while submitting")
        close = getattr(self.client, "close", None)
        if callable(close):
            close()
