"""Run a named Kedro pipeline as batch jobs: AWS Batch, or local processes.

Each job re-launches its nodes with ``kedro run --pipelines <names> --nodes ...``
and the run's env, params, conf source, load versions and run id, so that every
node runs inside the pipeline and context it was planned in::

    kedro run --pipelines train --runner kedro_pipelinename.batch.AWSBatchRunner

Nothing here imports ``boto3`` until an AWS Batch backend is created; names are
imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .aws.api import AWSBatchBackend
    from .aws.runner import AWSBatchRunner
    from .backend import JobBackend, JobState, JobStatus, Submission
    from .driver import Driver, RunOutcome
    from .errors import (
        BatchError,
        BatchJobError,
        BatchSettingsError,
        JobFailure,
        PreflightError,
    )
    from .local.runner import LocalBatchRunner
    from .plan import JobPlan, PlannedJob, plan_jobs
    from .runner import BatchRunner
    from .settings import AWSBatchSettings, BatchSettings

__all__ = [
    "AWSBatchBackend",
    "AWSBatchRunner",
    "AWSBatchSettings",
    "BatchError",
    "BatchJobError",
    "BatchRunner",
    "BatchSettings",
    "BatchSettingsError",
    "Driver",
    "JobBackend",
    "JobFailure",
    "JobPlan",
    "JobState",
    "JobStatus",
    "LocalBatchRunner",
    "PlannedJob",
    "PreflightError",
    "RunOutcome",
    "Submission",
    "plan_jobs",
]

_LAZY = {
    "AWSBatchBackend": "aws.api",
    "AWSBatchRunner": "aws.runner",
    "AWSBatchSettings": "settings",
    "BatchError": "errors",
    "BatchJobError": "errors",
    "BatchRunner": "runner",
    "BatchSettings": "settings",
    "BatchSettingsError": "errors",
    "Driver": "driver",
    "JobBackend": "backend",
    "JobFailure": "errors",
    "JobPlan": "plan",
    "JobState": "backend",
    "JobStatus": "backend",
    "LocalBatchRunner": "local.runner",
    "PlannedJob": "plan",
    "PreflightError": "errors",
    "RunOutcome": "driver",
    "Submission": "backend",
    "plan_jobs": "plan",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
