"""The AWS Batch engine: every job of the plan a Batch job.

The whole DAG is submitted up front, each job naming its parents in
``dependsOn``, so Batch schedules the next job the moment its parents succeed,
without waiting for the driver. AWS Batch allows at most 20 ``dependsOn`` per
job; a job with more unfinished parents is *deferred*: the shared driver submits
it once no more than 20 of its parents are unfinished (no barrier job, which
would cost a container start and a job definition able to run a no-op).

Limits this engine keeps:

- **SubmitJob: 50 requests per second** per account and region. A token bucket
  (``submit_rate``, default 40/s, no burst) spaces SubmitJob and TerminateJob
  calls; throttling that still happens (other clients share the quota) is
  retried by botocore's ``standard`` or ``adaptive`` retry mode.
- **No duplicate jobs.** A SubmitJob whose response timed out may have created
  the job. botocore would retry it blindly (its retry modes treat read timeouts
  as transient), so a ``needs-retry`` handler vetoes exactly that retry, and the
  engine looks the job up by name (``ListJobs``) and by the run's tags
  (``DescribeJobs``) before it submits again.
- **DescribeJobs: at most 100 ids per call.** One tracker polls every unfinished
  job of the run in ``ceil(n / 100)`` calls per round, backing off while nothing
  changes (see ``driver.py``); never a thread or a call per job.
- **At most 50 tags per job**: the run's two plus at most 48 of the user's.

``boto3`` is imported when an engine is opened, never on ``import
kedro_pipelinename.batch``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from ..engine import EngineRun, EngineSpec, JobState, Submission, sleep_wait
from ..errors import BatchError, BatchSettingsError
from ..settings import where_to_set
from .api import (
    BLOCKS,
    JOB_TAG,
    MAX_DESCRIBE_JOBS,
    MAX_SUBMIT_TRIES,
    RUN_ID_TAG,
    SPEC,
    TokenBucket,
    ambiguous_errors,
    chunks,
    job_state,
    make_client,
    submit_job_request,
)
from .settings import AWSBatchSettings

logger = logging.getLogger(__name__)


class AWSBatchEngine:
    """Submits, tracks and cancels the jobs of one run on AWS Batch.

    Args:
        settings: The AWS Batch settings.
        run_id: The run id, tagged on every job.
        client: A Batch client (default: ``make_client(settings)``); tests pass a
            stubbed one. It should have the handler of
            ``veto_blind_submit_retries``.

    Example:
        >>> engine = AWSBatchEngine(settings, run_id="2024-01-15T10.30.00.000Z")
        >>> job_id = engine.submit(Submission(job=planned_job))
    """

    spec: ClassVar[EngineSpec] = SPEC

    def __init__(
        self,
        settings: AWSBatchSettings,
        run_id: str,
        *,
        client: Any = None,
        job_name_prefix: str = "kedro",
    ) -> None:
        self._prefix = job_name_prefix
        self.settings = settings
        self.run_id = run_id
        self.client = make_client(settings) if client is None else client
        self.label = f"AWS Batch queue {settings.job_queue}"
        self._bucket = TokenBucket(settings.submit_rate)

    @classmethod
    def open(cls, run: EngineRun, settings: AWSBatchSettings) -> AWSBatchEngine:
        """An engine whose job queue and job definition were checked."""
        return cls.with_client(run, settings, make_client(settings))

    @classmethod
    def with_client(
        cls, run: EngineRun, settings: AWSBatchSettings, client: Any
    ) -> AWSBatchEngine:
        """``open`` with a Batch client of your own (event hooks, a session)."""
        engine = cls(
            settings,
            run_id=run.run_id,
            client=client,
            job_name_prefix=run.settings.job_name_prefix,
        )
        try:
            engine.verify()
        except BaseException:
            engine.close()
            raise
        return engine

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
                f"{where_to_set('job_queue', BLOCKS)}",
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
                f"active. {where_to_set('job_definition', BLOCKS)}",
            )

    # --- Engine ------------------------------------------------------------------

    def submit(self, submission: Submission) -> str:
        """Submit one job, never twice.

        Raises:
            botocore.exceptions.ClientError: When AWS Batch rejects the job.
            BatchError: When the outcome stayed unknown after every try.
        """
        request = submit_job_request(submission, self.settings, self.run_id)
        name = submission.job.name
        ambiguous = ambiguous_errors()
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
                self.cancel([found], "the Kedro driver stopped while submitting")
        except Exception:  # never hide the interruption itself
            logger.exception(
                "Could not check whether job %s was created; look for it in %s.",
                name,
                self.label,
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
        candidates: list[str] = []
        arguments: dict[str, Any] = {
            "jobQueue": self.settings.job_queue,
            "filters": [{"name": "JOB_NAME", "values": [job_name]}],
        }
        # Bounded by max_pages (ListJobs pages hold up to 100 jobs).
        for _ in range(max_pages):
            page = self.client.list_jobs(**arguments)
            candidates.extend(
                summary["jobId"]
                for summary in page.get("jobSummaryList", [])
                if not exact or summary.get("jobName") == job_name
            )
            token = page.get("nextToken")
            if not token:
                break
            arguments["nextToken"] = token
        for chunk in chunks(candidates, MAX_DESCRIBE_JOBS):
            for job in self.client.describe_jobs(jobs=list(chunk)).get("jobs", []):
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

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """``DescribeJobs`` for ``job_ids``, 100 ids per call."""
        states: dict[str, JobState] = {}
        for chunk in chunks(list(job_ids), MAX_DESCRIBE_JOBS):
            for job in self.client.describe_jobs(jobs=list(chunk)).get("jobs", []):
                state = job_state(job)
                states[state.job_id] = state
        return states

    def find_jobs(self) -> dict[str, JobState]:
        """This run's jobs in the queue, by job name (the newest of each name).

        ``ListJobs`` with the job-name prefix (``<prefix>-*``; Batch keeps
        finished jobs for about a week), then ``DescribeJobs``, 100 ids per call,
        keeping the jobs tagged with this run id.
        """
        found: dict[str, tuple[int, JobState]] = {}
        # 1,000 pages of 100 jobs is far beyond a week of one queue.
        pattern = f"{self._prefix}-*"
        for job in self._jobs_of_run(pattern, max_pages=1000, exact=False):
            name = job["tags"][JOB_TAG]
            created = int(job.get("createdAt") or 0)
            if name not in found or created >= found[name][0]:
                found[name] = (created, job_state(job))
        return {name: state for name, (_, state) in found.items()}

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
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
