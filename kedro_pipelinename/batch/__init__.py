"""Run a named Kedro pipeline as batch jobs on an engine: local processes, AWS
Batch, or any engine a package registers.

Each job re-launches its nodes with ``kedro run --pipelines <names> --nodes ...``
and the run's env, params, conf source, load versions and run id, so that every
node runs inside the pipeline and context it was planned in::

    kedro run --pipelines train --runner kedro_pipelinename.batch.AWSBatchRunner

The core here (plan, pre-flight, driver, progress, settings, the engine
interface) names no engine; engines live in subpackages and are found through
the ``kedro_pipelinename.batch_engines`` entry points. Nothing here imports
``boto3`` until an AWS Batch engine is opened; names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .aws.engine import AWSBatchEngine
    from .aws.runner import AWSBatchRunner
    from .aws.settings import AWSBatchSettings
    from .driver import Driver, RunOutcome
    from .engine import (
        Engine,
        EngineBase,
        EngineRun,
        EngineSpec,
        JobNameRule,
        JobState,
        JobStatus,
        Submission,
        check_engine,
        engine_checks,
    )
    from .engines import installed_engines
    from .errors import (
        BatchError,
        BatchJobError,
        BatchSettingsError,
        EngineUnavailable,
        JobFailure,
        PreflightError,
        RunCancelled,
    )
    from .events import RunEvents
    from .local.processes import LocalBatchEngine
    from .local.runner import LocalBatchRunner
    from .local.settings import LocalBatchSettings
    from .plan import JobPlan, PlannedJob, plan_jobs
    from .progress import LogProgress
    from .runner import BatchRunner
    from .settings import BatchSettings, setting
    from .slurm.engine import SlurmBatchEngine
    from .slurm.runner import SlurmBatchRunner
    from .slurm.settings import SlurmBatchSettings

_LAZY = {
    "AWSBatchEngine": "aws.engine",
    "AWSBatchRunner": "aws.runner",
    "AWSBatchSettings": "aws.settings",
    "BatchError": "errors",
    "BatchJobError": "errors",
    "BatchRunner": "runner",
    "BatchSettings": "settings",
    "BatchSettingsError": "errors",
    "Driver": "driver",
    "Engine": "engine",
    "EngineBase": "engine",
    "EngineRun": "engine",
    "EngineSpec": "engine",
    "EngineUnavailable": "errors",
    "JobFailure": "errors",
    "JobNameRule": "engine",
    "JobPlan": "plan",
    "JobState": "engine",
    "JobStatus": "engine",
    "LogProgress": "progress",
    "LocalBatchEngine": "local.processes",
    "LocalBatchRunner": "local.runner",
    "LocalBatchSettings": "local.settings",
    "PlannedJob": "plan",
    "PreflightError": "errors",
    "RunCancelled": "errors",
    "RunEvents": "events",
    "RunOutcome": "driver",
    "SlurmBatchEngine": "slurm.engine",
    "SlurmBatchRunner": "slurm.runner",
    "SlurmBatchSettings": "slurm.settings",
    "Submission": "engine",
    "check_engine": "engine",
    "engine_checks": "engine",
    "installed_engines": "engines",
    "plan_jobs": "plan",
    "setting": "settings",
}

__all__ = [
    "AWSBatchEngine",
    "AWSBatchRunner",
    "AWSBatchSettings",
    "BatchError",
    "BatchJobError",
    "BatchRunner",
    "BatchSettings",
    "BatchSettingsError",
    "Driver",
    "Engine",
    "EngineBase",
    "EngineRun",
    "EngineSpec",
    "EngineUnavailable",
    "JobFailure",
    "JobNameRule",
    "JobPlan",
    "JobState",
    "JobStatus",
    "LocalBatchEngine",
    "LocalBatchRunner",
    "LocalBatchSettings",
    "LogProgress",
    "PlannedJob",
    "PreflightError",
    "RunCancelled",
    "RunEvents",
    "RunOutcome",
    "SlurmBatchEngine",
    "SlurmBatchRunner",
    "SlurmBatchSettings",
    "Submission",
    "check_engine",
    "engine_checks",
    "installed_engines",
    "plan_jobs",
    "setting",
]

__getattr__ = lazy_attributes(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
