"""AWS Batch's API as the engine uses it: requests, job states, the client.

``boto3`` is imported when a client is made, never on ``import
kedro_pipelinename.batch``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from packaging.version import Version

from ...batch.kit import (
    ArraySubmission,
    BatchSettingsError,
    EngineSpec,
    JobNameRule,
    JobState,
    JobStatus,
    PlannedJob,
    Submission,
    aws_string,
    environment_variable,
    logger_for,
    where_to_set,
)
from .http import send_directly
from .retries import stop_blind_submit_retries
from .settings import AWSBatchSettings
from .submit_call import submit_directly

logger = logger_for(__name__)

#: AWS Batch: a job may name at most 20 jobs in ``dependsOn``.
MAX_DEPENDS_ON: Final = 20
#: AWS Batch: ``DescribeJobs`` takes at most 100 job ids.
MAX_DESCRIBE_JOBS: Final = 100
#: The tags every job of a run carries (AWS Batch allows 50 per job).
RUN_ID_TAG: Final = "kedro-pipelinename:run-id"
JOB_TAG: Final = "kedro-pipelinename:job"
#: How often one job is sent to SubmitJob at most (each resend only after the
#: job was looked up and not found, or AWS said it did nothing).
MAX_SUBMIT_TRIES: Final = 5
#: botocore reads ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>`` since 1.31.
CONFIGURED_ENDPOINTS_SINCE: Final = Version("1.31.0")
#: AWS Batch's ``statusReason`` of a job failed because a parent failed.
_DEPENDENCY_FAILED: Final = "dependent job"
#: AWS Batch's default log group for job output.
DEFAULT_LOG_GROUP: Final = "/aws/batch/job"
#: SubmitJob calls the driver keeps in flight: at 100 ms a call (a far
#: region), 16 carry 160 calls a second, well above ``submit_rate``'s
#: maximum of 50, so the rate limit, not the latency, sets the pace.
SUBMIT_CONCURRENCY: Final = 16
#: The bucket spaces calls ``(1 + this) / rate`` seconds apart: a call that
#: leaves a few milliseconds late (a busy thread) then still cannot put
#: ``rate + 1`` calls into one second as AWS counts them (up to 50 ms late).
RATE_MARGIN: Final = 0.05
#: The most children one array job may have (AWS Batch's ``arrayProperties``).
MAX_ARRAY_SIZE: Final = 10_000
#: The variable AWS Batch sets to a child's index.
ARRAY_INDEX_VARIABLE: Final = "AWS_BATCH_JOB_ARRAY_INDEX"
#: The parameters block of Kedro's AWS Batch guide.
PARAMETERS_BLOCK: Final = "aws_batch"
#: Where its settings can be given, for messages.
BLOCKS: Final = ("batch", PARAMETERS_BLOCK)

#: What the AWS Batch engine declares (see ``engine.py`` of the batch core).
SPEC: Final = EngineSpec(
    name="aws",
    settings=AWSBatchSettings,
    max_parents=MAX_DEPENDS_ON,
    # "Up to 128 letters (uppercase and lowercase), numbers, hyphens, and
    # underscores"; ListJobs' JOB_NAME filter compares case-insensitively.
    job_names=JobNameRule(max_length=128, characters="A-Za-z0-9_-"),
    statuses={
        "SUBMITTED": JobStatus.SUBMITTED,
        "PENDING": JobStatus.PENDING,
        "RUNNABLE": JobStatus.QUEUED,
        "STARTING": JobStatus.STARTING,
        "RUNNING": JobStatus.RUNNING,
        "SUCCEEDED": JobStatus.SUCCEEDED,
        "FAILED": JobStatus.FAILED,
    },
    parameters_block=PARAMETERS_BLOCK,
    submit_concurrency=SUBMIT_CONCURRENCY,
    array_index_variable=ARRAY_INDEX_VARIABLE,
)


class TokenBucket:
    """At most ``rate`` acquisitions per second, spaced evenly (no burst).

    With a capacity of one token, any one-second window holds at most ``rate``
    acquisitions (rounded down), which keeps SubmitJob under its quota even when
    the driver submits hundreds of jobs in a row. Acquisitions are spaced
    ``(1 + margin) / rate`` apart: with the default margin (``RATE_MARGIN``)
    a request that reaches AWS up to 50 ms after its turn still leaves every
    second of arrivals at or below ``rate``. Thread-safe: threads take turns.

    Args:
        rate: Acquisitions per second.
        margin: The fraction by which the spacing exceeds ``1 / rate``.
        clock: A monotonic clock (tests pass a fake one).
        sleep: How to wait (tests pass a fake one).

    Example:
        >>> bucket = TokenBucket(rate=40)
        >>> bucket.acquire()  # returns at once; the next waits 26.25 ms
    """

    def __init__(
        self,
        rate: float,
        *,
        margin: float = RATE_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = (1.0 + margin) / rate
        self._clock = clock
        self._sleep = sleep
        self._next = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait until the next call may go.

        The wait happens under the lock and the next turn is counted from
        when this one was let go, not from when it was due: a thread that got
        its turn late (the interpreter busy elsewhere for a while) must not
        let the threads behind it go in a burst to catch up.
        """
        with self._lock:
            wait = self._next - self._clock()
            if wait > 0:
                self._sleep(wait)
            self._next = self._clock() + self._interval


#: The id of the rate limit's handler on a client (registered once per client).
_RATE_LIMIT_HANDLER: Final = "kedro-pipelinename-rate-limit"


def limit_rate(client: Any, bucket: TokenBucket) -> None:
    """Send every HTTP request of ``client`` to Batch through ``bucket``.

    A ``before-send`` handler runs once per request that goes on the wire:
    every operation (SubmitJob, DescribeJobs, ListJobs, TerminateJob, the
    pre-flight's reads) and every retry botocore makes of it, so the calls
    AWS counts against the account's quota are the calls counted here. A
    stubbed client (botocore's ``Stubber``) sends nothing and is not slowed.
    Registering again on the same client keeps the first bucket.
    """

    def acquire(**_: Any) -> None:
        bucket.acquire()

    client.meta.events.register(
        f"before-send.{client.meta.service_model.endpoint_prefix}",
        acquire,
        unique_id=_RATE_LIMIT_HANDLER,
    )


def _merged_resources(job: PlannedJob, settings: AWSBatchSettings) -> dict[str, str]:
    """The job's resources (``PlannedJob.layered``), as Batch's strings."""
    merged = job.layered(
        settings.resources, settings.resources_by_namespace, settings.resources_by_tag
    )
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
    # Every value of the job through the AWS boundary: JSON carries any text
    # verbatim, but a container's argv and environment cannot hold a NUL.
    source = f"job {job.name!r}"
    overrides: dict[str, Any] = {
        "command": [aws_string(part, source=source) for part in job.command],
        "environment": [
            {
                "name": environment_variable(name, value, source=source)[0],
                "value": aws_string(value, source=source),
            }
            for name, value in sorted(job.env.items())
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
        "tags": {
            **{
                aws_string(key, source="the batch setting 'tags'"): aws_string(
                    value, source=f"the batch setting 'tags' ({key})"
                )
                for key, value in settings.tags.items()
            },
            RUN_ID_TAG: run_id,
            JOB_TAG: job.name,
        },
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


def submit_array_request(
    array: ArraySubmission, settings: AWSBatchSettings, run_id: str
) -> dict[str, Any]:
    """The ``SubmitJob`` request that starts every child of ``array``: the
    request of one job (``submit_job_request``, the first member's resources,
    which the members share: ``array_key``) named after the array, running the
    array's command, with ``arrayProperties`` and ``N_TO_N`` dependencies on
    the arrays it pairs with."""
    first = array.jobs[0]
    stand_in = PlannedJob(
        name=array.name,
        group=array.name,
        namespace=first.namespace,
        nodes=(),
        tags=first.tags,
        depends_on=(),
        command=array.command,
        env=array.env,
    )
    request = submit_job_request(
        Submission(job=stand_in, depends_on=array.depends_on), settings, run_id
    )
    request["arrayProperties"] = {"size": len(array.jobs)}
    depends_on = [
        *request.get("dependsOn", []),
        *({"jobId": job_id, "type": "N_TO_N"} for job_id in array.pairs_with),
    ]
    if depends_on:
        request["dependsOn"] = depends_on
    return request


def array_key(job: PlannedJob, settings: AWSBatchSettings) -> tuple[object, ...]:
    """What the members of one array must share here: their resources (one
    request sets them for every child)."""
    return tuple(sorted(_merged_resources(job, settings).items()))


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
        status=SPEC.status(str(description["status"])),
        engine_status=str(description["status"]),
        name=description.get("jobName"),
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
        array_id=_array_of(description),
    )


def _array_of(description: Mapping[str, Any]) -> str | None:
    """The parent's id of an array child (``<parent id>:<index>``)."""
    job_id = str(description.get("jobId", ""))
    index = (description.get("arrayProperties") or {}).get("index")
    if index is None or ":" not in job_id:
        return None
    return job_id.rsplit(":", 1)[0]


def endpoint_from_environment(
    settings: AWSBatchSettings, environ: Mapping[str, str], botocore_version: str
) -> str | None:
    """The Batch endpoint to pass to the client explicitly.

    The ``endpoint_url`` setting, else (on botocore before 1.31, which ignores
    them) ``AWS_ENDPOINT_URL_BATCH`` or ``AWS_ENDPOINT_URL``: a user who points
    the AWS SDKs at another endpoint (moto, LocalStack, a VPC endpoint) must not
    have the run go to real AWS Batch because the installed botocore is old.
    ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`` turns the variables off, as in
    botocore 1.31+.
    """
    if settings.endpoint_url is not None:
        return settings.endpoint_url
    if Version(botocore_version) >= CONFIGURED_ENDPOINTS_SINCE:
        return None  # botocore reads the variables (and the config file) itself
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return None
    for variable in ("AWS_ENDPOINT_URL_BATCH", "AWS_ENDPOINT_URL"):
        if environ.get(variable):
            logger.info(
                "botocore %s ignores %s; passing it to the Batch client explicitly.",
                botocore_version,
                variable,
            )
            return environ[variable]
    return None


#: The members of a ``DescribeJobs`` answer the engine reads (``job_state``,
#: ``find_jobs``, ``children.py``, ``queue_watch.py``), by shape.
DESCRIBED_MEMBERS: Final = {
    "JobDetail": (
        "jobName",
        "jobId",
        "jobQueue",
        "status",
        "attempts",
        "statusReason",
        "createdAt",
        "startedAt",
        "stoppedAt",
        "container",
        "arrayProperties",
        "tags",
    ),
    "ContainerDetail": (
        "vcpus",
        "memory",
        "exitCode",
        "reason",
        "logStreamName",
        "resourceRequirements",
    ),
    "AttemptDetail": ("container", "startedAt", "stoppedAt", "statusReason"),
    "AttemptContainerDetail": ("exitCode", "reason", "logStreamName"),
}


def parse_only_what_is_read(client: Any) -> None:
    """Make ``client`` parse ``DescribeJobs`` answers for ``DESCRIBED_MEMBERS``
    only; the other members (a job's command, environment, volumes, network
    details...) are left out of its answers.

    botocore walks every member of its model for every job described, and
    that walk was the largest share of the driver's CPU for polling. The
    answer's JSON is decoded whole either way; the model is the client's own
    (each client has its own copy: no other client changes). If botocore's
    model objects are not as expected, the client is left as it was.
    """
    try:
        from botocore.model import ShapeResolver

        service = client.meta.service_model
        operation = service.operation_model("DescribeJobs")
        shapes = dict(service._shape_resolver._shape_map)
        for name, members in DESCRIBED_MEMBERS.items():
            model = dict(shapes[name])
            model["members"] = {
                member: model["members"][member]
                for member in members
                if member in model["members"]
            }
            shapes[name] = model
        output = ShapeResolver(shapes).get_shape_by_name(operation.output_shape.name)
    except (AttributeError, KeyError, TypeError) as error:
        logger.debug("DescribeJobs is parsed whole: %s", error)
        return
    # ``output_shape`` is a cached property: the value in the instance wins.
    operation.__dict__["output_shape"] = output


def make_client(settings: AWSBatchSettings) -> Any:
    """A Batch client with botocore's retry mode for throttling, and no blind
    retry of a SubmitJob whose outcome is unknown (``stop_blind_submit_retries``).

    Its connection pool holds ``SUBMIT_CONCURRENCY`` connections (botocore's
    default, 10, would make the driver's submit threads wait for one), and it
    does not validate parameters: the pre-flight validated every request the
    run makes offline (``preflight.py``), and botocore's validator was the
    largest share of the driver's CPU per job after parsing. It sends its
    requests on ``http.client`` rather than through urllib3 (``http.py``:
    half the CPU of the HTTP exchange), raising botocore's errors.

    Raises:
        BatchSettingsError: When no region is configured anywhere.
    """
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import NoRegionError, ProfileNotFound

    try:
        session = boto3.session.Session(
            profile_name=settings.profile, region_name=settings.region
        )
        client = session.client(
            "batch",
            endpoint_url=endpoint_from_environment(
                settings, os.environ, botocore.__version__
            ),
            config=Config(
                retries={
                    "mode": settings.api_retry_mode,
                    "total_max_attempts": settings.api_max_attempts,
                },
                connect_timeout=settings.api_timeout,
                read_timeout=settings.api_timeout,
                user_agent_extra="kedro-pipelinename",
                max_pool_connections=SUBMIT_CONCURRENCY,
                parameter_validation=False,
            ),
        )
    except NoRegionError:
        raise BatchSettingsError(
            "region",
            f"No AWS region is configured for AWS Batch. "
            f"{where_to_set('region', BLOCKS)} "
            f"(Or set AWS_DEFAULT_REGION.)",
        ) from None
    except ProfileNotFound as error:
        raise BatchSettingsError(
            "profile", f"{error}. {where_to_set('profile', BLOCKS)}"
        ) from None
    stop_blind_submit_retries(client)
    send_directly(client)
    submit_directly(client, session.get_credentials())
    return client
