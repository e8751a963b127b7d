"""The engine kit: everything an engine may import from the batch core.

An engine (ours under ``kedro_pipelinename.engines``, or a third party's)
imports only from here; ``tests/test_architecture.py`` fails on an engine that
reaches into another core module, a private name, or another engine. What is
here is the engine API the core promises to keep, and what the contract suite
(``kedro_pipelinename.testing``) drives an engine with.
"""

from __future__ import annotations

from ..names.logs import logger_for
from ..relaunch.boundaries import (
    argv_argument,
    aws_string,
    environment_variable,
    job_script_data,
    path_component,
    script_line,
)
from .arrays import ArraySpec, PlannedArray
from .driver import Driver
from .engine import (
    ArrayEngine,
    ArrayIds,
    ArraySubmission,
    Engine,
    EngineBase,
    EngineRun,
    EngineSpec,
    JobState,
    JobStatus,
    Submission,
    array_child_name,
    check_engine,
    chunks,
    engine_checks,
    sleep_wait,
)
from .engines import installed_engines
from .errors import BatchError, BatchSettingsError, EngineUnavailable
from .events import RunOutcome
from .naming import JobNameRule
from .pids import is_running, process_start
from .plan import JobPlan, PlannedJob
from .plan_render import as_text as plan_text
from .progress import LogProgress
from .record_store import atomic_write
from .runner import BatchRunner
from .settings import (
    BatchSettings,
    check_choice,
    check_int,
    check_non_negative_number,
    check_positive_number,
    check_str,
    invalid,
    setting,
    to_str_mapping,
    where_to_set,
)

__all__ = [
    "ArrayEngine",
    "ArrayIds",
    "ArraySpec",
    "ArraySubmission",
    "BatchError",
    "BatchRunner",
    "BatchSettings",
    "BatchSettingsError",
    "Driver",
    "Engine",
    "EngineBase",
    "EngineRun",
    "EngineSpec",
    "EngineUnavailable",
    "JobNameRule",
    "JobPlan",
    "JobState",
    "JobStatus",
    "LogProgress",
    "PlannedArray",
    "PlannedJob",
    "RunOutcome",
    "Submission",
    "argv_argument",
    "array_child_name",
    "atomic_write",
    "aws_string",
    "check_choice",
    "check_engine",
    "check_int",
    "check_non_negative_number",
    "check_positive_number",
    "check_str",
    "chunks",
    "engine_checks",
    "environment_variable",
    "installed_engines",
    "invalid",
    "is_running",
    "job_script_data",
    "logger_for",
    "path_component",
    "plan_text",
    "process_start",
    "script_line",
    "setting",
    "sleep_wait",
    "to_str_mapping",
    "where_to_set",
]
