"""The interface between the shared driver and a place that runs jobs.

The driver (``driver.py``) owns the plan: it decides *when* each job may be
submitted, tracks every job with one poll per round, applies ``fail_fast``,
terminates unfinished jobs on failure or interruption, and builds the error and
the resume hint. A backend only does four things, each for many jobs at once:

- ``submit(submission)``: start one job, whose parents are the backend ids in
  ``submission.depends_on`` (never more than ``max_unfinished_dependencies``);
  return the backend's id for it;
- ``poll(job_ids)``: the current ``JobState`` of each of those jobs;
- ``terminate(job_ids, reason)``: cancel or stop them (best effort, idempotent);
- ``wait(seconds)``: block until the next poll is due (or earlier, when the
  backend learns that a job changed).

``max_unfinished_dependencies`` is how many *unfinished* parents a submitted job
may name: AWS Batch resolves up to 20 ``dependsOn`` entries itself; a local
backend that starts processes at once says 0, and then the driver submits a job
only after all of its parents succeeded.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from attrs import define, field

from .errors import to_str_tuple
from .plan import PlannedJob


class JobStatus(str, enum.Enum):
    """The life cycle of a job, in AWS Batch's words (a local backend uses a subset)."""

    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    RUNNABLE = "RUNNABLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


@define(frozen=True, kw_only=True)
class JobState:
    """What a backend knows about one job at one poll.

    Attributes:
        job_id: The backend's id of the job (what ``submit`` returned).
        status: Where the job is in its life cycle.
        reason: Why it is in that status (AWS Batch ``statusReason``), if known.
        detail: More about a failure: the container's reason, or a local job's
            last lines of output.
        exit_code: The exit code of the job's process, once it exited.
        log_location: Where the job's output is: a CloudWatch log stream, a file.
        caused_by_dependency: ``True`` when the backend failed the job only
            because a job it depends on failed.
    """

    job_id: str
    status: JobStatus
    reason: str | None = None
    detail: str | None = None
    exit_code: int | None = None
    log_location: str | None = None
    caused_by_dependency: bool = False


@define(frozen=True, kw_only=True)
class Submission:
    """One job to start, with the backend ids of its unfinished parents.

    Attributes:
        job: The planned job (name, nodes, command, environment, ...).
        depends_on: Backend ids of parents that had not succeeded when the job
            was submitted; at most the backend's ``max_unfinished_dependencies``.
    """

    job: PlannedJob
    depends_on: tuple[str, ...] = field(converter=to_str_tuple, default=())


@runtime_checkable
class JobBackend(Protocol):
    """What the driver needs from a place that runs jobs (AWS Batch, local).

    Example:
        A minimal backend that runs nothing and reports every job succeeded::

            class Instant:
                label = "nowhere"
                max_unfinished_dependencies = 0

                def submit(self, submission):
                    return submission.job.name

                def poll(self, job_ids):
                    return {i: JobState(job_id=i, status=JobStatus.SUCCEEDED)
                            for i in job_ids}

                def terminate(self, job_ids, reason):
                    pass

                def wait(self, seconds):
                    pass

                def close(self):
                    pass
    """

    #: Shown in messages: "AWS Batch queue 'q'", "local processes".
    label: str
    #: How many unfinished parents one submitted job may name (AWS Batch: 20).
    max_unfinished_dependencies: int

    def submit(self, submission: Submission) -> str:
        """Start one job; return its backend id. Raise if it was not started."""
        ...

    def poll(self, job_ids: Sequence[str]) -> Mapping[str, JobState]:
        """The state of each job in ``job_ids`` (ids it does not know are omitted)."""
        ...

    def terminate(self, job_ids: Sequence[str], reason: str) -> None:
        """Cancel or stop every job in ``job_ids``; jobs already finished are fine."""
        ...

    def wait(self, seconds: float) -> None:
        """Block for up to ``seconds`` before the next poll."""
        ...

    def close(self) -> None:
        """Release what the backend holds (clients, threads); called once, last."""
        ...


def sleep_wait(seconds: float) -> None:
    """The default ``wait``: sleep (a backend with no change notifications)."""
    time.sleep(max(0.0, seconds))
