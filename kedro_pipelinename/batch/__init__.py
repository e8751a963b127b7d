"""Run a named Kedro pipeline as batch jobs on an engine: local processes, AWS
Batch, or any engine a package registers.

Each job re-launches its nodes with ``kedro run --pipelines <names> --nodes ...``
and the run's env, params, conf source, load versions and run id, so that every
node runs inside the pipeline and context it was planned in::

    kedro run --pipelines train --runner kedro_pipelinename.batch.AWSBatchRunner

The core here (plan, pre-flight, driver, the run record and its store,
settings, progress, signals, and the engine kit ``kit.py``) names no engine:
engines live in ``kedro_pipelinename.engines`` and are found through the
``kedro_pipelinename.batch_engines`` entry points. This ``__init__`` is the one
exception, on purpose: it is the public façade users import from
(``kedro_pipelinename.batch.AWSBatchRunner`` in ``--runner``), so it maps the
shipped engines' runner, engine and settings classes to their modules. It
imports them on first use only, and no module of the package imports it
(``tests/test_architecture.py``). Nothing here imports ``boto3`` until an AWS
Batch engine is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ..engines.aws.engine import AWSBatchEngine
    from ..engines.aws.runner import AWSBatchRunner
    from ..engines.aws.settings import AWSBatchSettings
    from ..engines.local.processes import LocalBatchEngine
    from ..engines.local.runner import LocalBatchRunner
    from ..engines.local.settings import LocalBatchSettings
    from ..engines.slurm.engine import SlurmBatchEngine
    from ..engines.slurm.runner import SlurmBatchRunner
    from ..engines.slurm.settings import SlurmBatchSettings
    from .driver import Driver
    from .engine import (
        Engine,
        EngineBase,
        EngineRun,
        EngineSpec,
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
    from .events import RunEvents, RunOutcome
    from .naming import JobNameRule
    from .plan import JobPlan, PlannedJob, plan_jobs
    from .progress import LogProgress
    from .runner import BatchRunner
    from .settings import BatchSettings, setting

_LAZY = {
    "AWSBatchEngine": "..engines.aws.engine",
    "AWSBatchRunner": "..engines.aws.runner",
    "AWSBatchSettings": "..engines.aws.settings",
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
    "JobNameRule": "naming",
    "JobPlan": "plan",
    "JobState": "engine",
    "JobStatus": "engine",
    "LogProgress": "progress",
    "LocalBatchEngine": "..engines.local.processes",
    "LocalBatchRunner": "..engines.local.runner",
    "LocalBatchSettings": "..engines.local.settings",
    "PlannedJob": "plan",
    "PreflightError": "errors",
    "RunCancelled": "errors",
    "RunEvents": "events",
    "RunOutcome": "events",
    "SlurmBatchEngine": "..engines.slurm.engine",
    "SlurmBatchRunner": "..engines.slurm.runner",
    "SlurmBatchSettings": "..engines.slurm.settings",
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
