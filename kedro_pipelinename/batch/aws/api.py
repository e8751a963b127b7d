"""``AWSBatchRunner``: every job of the plan on AWS Batch.

The whole DAG is submitted up front, each job naming its parents in
``dependsOn``, so Batch schedules the next job the moment its parents succeed,
without waiting for the driver. AWS Batch allows at most 20 ``dependsOn`` per
job; a job with more unfinished parents is *deferred*: the shared driver submits
it once no more than 20 of its parents are unfinished (no barrier job, which
would cost a container start and a job definition able to run a no-op).

Limits this backend keeps:

- **SubmitJob: 50 requests per second** per account and region. A token bucket
  (``submit_rate``, default 40/s, no burst) spaces SubmitJob and TerminateJob
  calls; throttling that still happens (other clients share the quota) is
  retried by botocore's ``standard`` or ``adaptive`` retry mode.
- **No duplicate jobs.** A SubmitJob whose response timed out may have created
  the job. botocore would retry it blindly (its retry modes treat read timeouts
  as transient), so a ``needs-retry`` handler vetoes exactly that retry, and the
  backend looks the job up by name (``ListJobs``) and by the run's tags
  (``DescribeJobs``) before it submits again.
- **DescribeJobs: at most 100 ids per call.** One tracker polls every unfinished
  job of the run in ``ceil(n / 100)`` calls per round, backing off while nothing
  changes (see ``driver.py``); never a thread or a call per job.
- **At most 50 tags per job**: the run's two plus at most 48 of the user's.

``boto3`` is imported when a backend is created, never on ``import
kedro_pipelinename.batch``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from ..backend import JobState, JobStatus, Submission, sleep_wait
from ..errors import BatchError, BatchSettingsError
from ..plan import PlannedJob
from ..settings import AWSBatchSettings, where_to_set

logger = logging.getLogger(__name__)

#: AWS Batch: a job may name at most 20 jobs in ``dependsOn``.
MAX_DEPENDS_ON: Final = 20
#: AWS Batch: ``DescribeJobs`` takes at most 100 job ids.
MAX_DESCRIBE_JOBS: Final = 100
#: The tags every job of a run carries (AWS Batch allows 50 per job).
RUN_ID_TAG: Final = "kedro-pipelinename:run-id"
JOB_TAG: Final = "kedro-pipelinename:job"
#: How often one job is submitted again after timeouts that created nothing.
MAX_SUBMIT_TRIES: Final = 5
#: AWS Batch's ``statusReason`` of a job failed because a parent failed.
_DEPENDENCY_FAILED: Final = "dependent job"
#: AWS Batch's default log group for job output.
DEFAULT_LOG_GROUP: Final = "/aws/batch/job"


class TokenBucket:
    """At most ``rate`` acquisitions per second, spaced evenly (no burst).

    With a capacity of one token, any one-second window holds at most ``rate``
    acquisitions (rounded down), which keeps SubmitJob under its quota even when
    the driver submits hundreds of jobs in a row.

    Args:
        rate: Acquisitions per second.
        clock: A monotonic clock (tests pass a fake one).
        sleep: How to wait (tests pass a fake one).

    Example:
        >>> bucket = TokenBucket(rate=40)
        >>> bucket.acquire()  # returns at once; the next waits 25 ms
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait until the next call may go."""
        with self._lock:
            now = self._clock()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
        if wait > 0:
            self._sleep(wait)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _merged_resources(job: PlannedJob, settings: AWSBatchSettings) -> dict[str, str]:
    """Default, then the job's namespace, then each of its tags (sorted)."""
    merged = dict(settings.resources)
    if job.namespace is not None:
        merged.update(settings.resources_by_namespace.get(job.namespace, {}))
    for tag in job.tags:
        merged.update(settings.resources_by_tag.get(tag, {}))
    return {kind: str(amount) for kind, amount in merged.items()}


def submit_job_request(
    submission: Submission, settings: AWSBatchSettings, run_id: str
) -> dict[str, Any]:
    """The ``SubmitJob`` request for one job.

    Args:
        submission: The job and the ids of its unfinished parents.
        settings: The AWS Batch settings.
        run_id: The run id (tagged on every job, to find them again).

    Returns:
        Keyword arguments for ``batch.submit_job``.

    Example:
        >>> submit_job_request(submission, settings, run_id)["dependsOn"]
        [{'jobId': '8f6c...'}]
    """
    job = submission.job
    overrides: dict[str, Any] = {
        "command": list(job.command),
        "environment": [
            {"name": name, "value": value} for name, value in sorted(job.env.items())
        ],
    }
    resources = _merged_resources(job, settings)
    if resources:
        overrides["resourceRequirements"] = [
            {"type": kind, "value": resources[kind]} for kind in sorted(resources)
        ]
    request: dict[str, Any] = {
        "jobName": job.name,
        "jobQueue": settings.job_queue,
        "jobDefinition": settings.job_definition,
        "containerOverrides": overrides,
        "tags": {**settings.tags, RUN_ID_TAG: run_id, JOB_TAG: job.name},
    }
    if submission.depends_on:
        request["dependsOn"] = [{"jobId": job_id} for job_id in submission.depends_on]
    retry: dict[str, Any] = {}
    if settings.retry_attempts is not None:
        retry["attempts"] = settings.retry_attempts
    if settings.evaluate_on_exit:
        retry["evaluateOnExit"] = [
            {**rule, "action": str(rule["action"]).upper()}
            for rule in settings.evaluate_on_exit
        ]
    if retry:
        request["retryStrategy"] = retry
    if settings.attempt_timeout is not None:
        request["timeout"] = {"attemptDurationSeconds": settings.attempt_timeout}
    return request


def job_state(description: Mapping[str, Any]) -> JobState:
    """A ``JobState`` from one entry of ``DescribeJobs``.

    The container's reason, exit code and log stream are read from the job's
    ``container``, falling back to its last attempt's (a job that failed before
    its final attempt started).
    """
    container = description.get("container") or {}
    attempts = description.get("attempts") or []
    last_attempt = (attempts[-1].get("container") or {}) if attempts else {}
    exit_code = container.get("exitCode", last_attempt.get("exitCode"))
    detail = container.get("reason") or last_attempt.get("reason")
    stream = container.get("logStreamName") or last_attempt.get("logStreamName")
    reason = description.get("statusReason")
    return JobState(
        job_id=description["jobId"],
        status=JobStatus(description["status"]),
        reason=reason,
        detail=detail,
        exit_code=exit_code,
        log_location=(
            f"CloudWatch Logs stream {stream} (log group {DEFAULT_LOG_GROUP} unless "
            f"the job definition sets another)"
            if stream
            else None
        ),
        caused_by_dependency=bool(reason and _DEPENDENCY_FAILED in reason.lower()),
    )


def _ambiguous_errors() -> tuple[type[BaseException], ...]:
    """Errors after which a SubmitJob may or may not have created the job."""
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    return (ReadTimeoutError, ConnectionClosedError)


def make_client(settings: AWSBatchSettings) -> Any:
    """A Batch client with botocore's retry mode for throttling, and no blind
    retry of a SubmitJob whose outcome is unknown.

    Raises:
        BatchSettingsError: When no region is configured anywhere.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError, ProfileNotFound

    try:
        session = boto3.session.Session(
            profile_name=settings.profile, region_name=settings.region
        )
        client = session.client(
            "batch",
            endpoint_url=settings.endpoint_url,
            config=Config(
                retries={
                    "mode": settings.api_retry_mode,
                    "total_max_attempts": settings.api_max_attempts,
                },
                user_agent_extra="kedro-pipelinename",
            ),
        )
    except NoRegionError:
        raise BatchSettingsError(
            "region",
            f"No AWS region is configured for AWS Batch. {where_to_set('region')} "
            f"(Or set AWS_DEFAULT_REGION.)",
        ) from None
    except ProfileNotFound as error:
        raise BatchSettingsError(
            "profile", f"{error}. {where_to_set('profile')}"
        ) from None
    veto_blind_submit_retries(client)
    return client


def veto_blind_submit_retries(client: Any) -> None:
    """Stop botocore from retrying a SubmitJob whose response never arrived.

    botocore's standard and adaptive modes retry read timeouts and closed
    connections, which for SubmitJob can create a second job. The handler runs
    first on ``needs-retry.batch.SubmitJob`` and answers "no retry" (``False``)
    for exactly those errors; throttling and connection failures (the request
    never arrived) are still retried by botocore.
    """
    ambiguous = _ambiguous_errors()

    def no_blind_submit_retry(
        caught_exception: BaseException | None = None, **kwargs: Any
    ) -> bool | None:
        return False if isinstance(caught_exception, ambiguous) else None

    client.meta.events.register_first(
        "needs-retry.batch.SubmitJob",
        no_blind_submit_retry,
        unique_id="kedro-pipelinename-no-blind-submit-retry",
    )


class AWSBatchBackend:
    """Submits, tracks and terminates the jobs of one run on AWS Batch.

    Args:
        settings: The AWS Batch settings.
        run_id: The run id, tagged on every job.
        client: A Batch client (default: ``make_client(settings)``); tests pass a
            stubbed one. It should have the handler of
            ``veto_blind_submit_retries``.

    Example:
        >>> backend = AWSBatchBackend(settings, run_id="2024-01-15T10.30.00.000Z")
        >>> job_id = backend.submit(Submission(job=planned_job))
    """

    max_unfinished_dependencies: int = MAX_DEPENDS_ON

    def __init__(
        self, settings: AWSBatchSettings, run_id: str, *, client: Any = None
    ) -> None:
        self.settings = settings
        self.run_id = run_id
        self.client = make_client(settings) if client is None else client
        self.label = f"AWS Batch queue {settings.job_queue}"
        self._bucket = TokenBucket(settings.submit_rate)

    # --- checks --------------------------------------------------------------------

    def verify(self) -> None:
        """Check that the job queue and job definition exist, creating nothing.

        Raises:
            BatchSettingsError: Naming the missing queue or definition.
        """
        queues = self.client.describe_job_queues(jobQueues=[self.settings.job_queue])
        usable = [
            queue
            for queue in queues.get("jobQueues", [])
            if queue.get("state", "ENABLED") == "ENABLED"
        ]
        if not usable:
            raise BatchSettingsError(
                "job_queue",
                f"AWS Batch job queue {self.settings.job_queue!r} does not exist or "
                f"is disabled in this account and region. "
                f"{where_to_set('job_queue')}",
            )
        definition = self.settings.job_definition
        if ":" in definition:  # name:revision or an ARN
            found = self.client.describe_job_definitions(jobDefinitions=[definition])
        else:
            found = self.client.describe_job_definitions(
                jobDefinitionName=definition, status="ACTIVE"
            )
        if not found.get("jobDefinitions"):
            raise BatchSettingsError(
                "job_definition",
                f"AWS Batch job definition {definition!r} does not exist or is not "
                f"active. {where_to_set('job_definition')}",
            )

    # --- JobBackend ------------------------------------------------------------------

    def submit(self, submission: Submission) -> str:
        """Submit one job, never twice.

        Raises:
            botocore.exceptions.ClientError: When AWS Batch rejects the job.
            BatchError: When the outcome stayed unknown after every try.
        """
        request = submit_job_request(submission, self.settings, self.run_id)
        name = submission.job.name
        ambiguous = _ambiguous_errors()
        for attempt in range(1, MAX_SUBMIT_TRIES + 1):
            self._bucket.acquire()
            try:
                job_id: str = self.client.submit_job(**request)["jobId"]
                return job_id
            except (KeyboardInterrupt, SystemExit):
                # Ctrl-C or SIGTERM (raised as SystemExit by the driver) while the
                # request was in flight: Batch may have created a job whose id the
                # driver never learns, so it would keep running unseen.
                self._terminate_in_flight(name)
                raise
            except ambiguous as error:
                found = self.find_submitted(name)
                if found is None and self.settings.lookup_delay > 0:
                    # ListJobs is eventually consistent: look once more.
                    time.sleep(self.settings.lookup_delay)
                    found = self.find_submitted(name)
                if found is not None:
                    logger.warning(
                        "SubmitJob for %s failed (%s) but had created job %s; "
                        "using it.",
                        name,
                        type(error).__name__,
                        found,
                    )
                    return found
                logger.warning(
                    "SubmitJob for %s failed (%s) and created no job; submitting "
                    "again (try %d of %d).",
                    name,
                    type(error).__name__,
                    attempt + 1,
                    MAX_SUBMIT_TRIES,
                )
        raise BatchError(
            f"Could not submit job {name!r} to AWS Batch queue "
            f"{self.settings.job_queue!r}: {MAX_SUBMIT_TRIES} tries timed out and "
            f"none created the job."
        )

    def _terminate_in_flight(self, name: str) -> None:
        try:
            found = self.find_submitted(name)
            if found is not None:
                logger.warning(
                    "The driver stopped while submitting %s; terminating the job "
                    "Batch created for it (%s).",
                    name,
                    found,
                )
                self.terminate([found], "the Kedro driver stopped while submitting")
        except Exception:  # never hide the interruption itself
            logger.exception(
                "Could not check whether job %s was created; look for it in %s.",
                name,
                self.label,
            )

    def find_submitted(self, name: str) -> str | None:
        """The id of this run's job called ``name``, if Batch has one."""
        candidates: list[str] = []
        arguments: dict[str, Any] = {
            "jobQueue": self.settings.job_queue,
            "filters": [{"name": "JOB_NAME", "values": [name]}],
        }
        # Bounded: ListJobs pages hold up to 100 jobs; 50 pages of one job name
        # is far beyond any run.
        for _ in range(50):
            page = self.client.list_jobs(**arguments)
            candidates.extend(
                summary["jobId"]
                for summary in page.get("jobSummaryList", [])
                if summary.get("jobName") == name
            )
            token = page.get("nextToken")
            if not token:
                break
            arguments["nextToken"] = token
        for chunk in _chunks(candidates, MAX_DESCRIBE_JOBS):
            for job in self.client.describe_jobs(jobs=list(chunk)).get("jobs", []):
                tags = job.get("tags") or {}
                if tags.get(RUN_ID_TAG) == self.run_id and tags.get(JOB_TAG) == name:
                    return str(job["jobId"])
        return None

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """``DescribeJobs`` for ``job_ids``, 100 ids per call."""
        states: dict[str, JobState] = {}
        for chunk in _chunks(list(job_ids), MAX_DESCRIBE_JOBS):
            for job in self.client.describe_jobs(jobs=list(chunk)).get("jobs", []):
                state = job_state(job)
                states[state.job_id] = state
        return states

    def terminate(self, job_ids: Sequence[str], reason: str) -> None:
        """``TerminateJob`` for each job (it cancels jobs that have not started).

        Raises:
            BatchError: Listing every job that could not be terminated, after
                trying all of them.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        failed: list[str] = []
        for job_id in job_ids:
            self._bucket.acquire()
            try:
                self.client.terminate_job(jobId=job_id, reason=reason[:1024])
            except (BotoCoreError, ClientError) as error:
                logger.error("Could not terminate AWS Batch job %s: %s", job_id, error)
                failed.append(job_id)
        if failed:
            raise BatchError(
                f"Could not terminate AWS Batch job(s) {', '.join(failed)}; stop "
                f"them with `aws batch terminate-job --job-id <id> --reason ...`."
            )

    def wait(self, seconds: float) -> None:
        """Sleep until the next poll (AWS Batch has no change notification)."""
        sleep_wait(seconds)

    def close(self) -> None:
        """Close the client's connections (botocore 1.34+ has ``close``)."""
        close = getattr(self.client, "close", None)
        if callable(close):
            close()
