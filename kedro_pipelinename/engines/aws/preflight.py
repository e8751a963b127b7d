"""AWS Batch's own pre-flight: what the plan's SubmitJob requests would break.

Run by the engine's ``check`` (the driver's pre-flight, never ``kedro batch
status`` or ``cancel``), before anything is submitted; every problem of every
job is reported at once, each naming the setting that caused it and how
to fix it. The shared pre-flight (``batch/preflight.py``) checks the pipeline;
this checks what only AWS Batch refuses:

- environment variables starting with ``AWS_BATCH`` (reserved for Batch);
- a SubmitJob request above Batch's 30 KiB payload limit (a namespace job's
  command lists every node of the namespace);
- parameters botocore's own validator refuses (a YAML ``137`` where Batch wants
  the string ``"137"``), checked offline with botocore's ``ParamValidator``
  against the installed service model. The validator's verdict depends only on
  a request's structure, types, lengths and numbers, so requests alike in all
  of those (every job of a fan-out but its name) are validated once
  (``validator_key``): at 10,000 jobs validation was most of the pre-flight.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Final

from ...batch.kit import BatchSettingsError, Submission, where_to_set
from .api import BLOCKS, MAX_DEPENDS_ON, submit_job_request
from .settings import AWSBatchSettings

if TYPE_CHECKING:
    from ...batch.kit import EngineRun

#: AWS Batch service quotas: "Maximum job payload size (for SubmitJob API
#: operations): 30 KiB".
MAX_SUBMIT_JOB_BYTES: Final = 30 * 1024
#: AWS Batch: environment variables "cannot start with AWS_BATCH; this naming
#: convention is reserved for variables that Batch sets".
RESERVED_ENV_PREFIX: Final = "AWS_BATCH"
#: A job id as Batch makes them (a UUID), to size ``dependsOn`` before submitting.
_PLACEHOLDER_JOB_ID: Final = "00000000-0000-0000-0000-000000000000"
#: At most this many jobs are named per problem; the rest are counted.
_SHOWN: Final = 5

#: The setting each SubmitJob parameter comes from (longest prefix wins).
_SETTING_OF_PARAMETER: Final = {
    "jobName": "job_name_prefix",
    "jobQueue": "job_queue",
    "jobDefinition": "job_definition",
    "tags": "tags",
    "retryStrategy.attempts": "retry_attempts",
    "retryStrategy.evaluateOnExit": "evaluate_on_exit",
    "timeout": "attempt_timeout",
    "containerOverrides.resourceRequirements": "resources",
    "containerOverrides.environment": "extra_env",
    "containerOverrides.command": "executable",
}


def setting_of_parameter(parameter: str) -> str | None:
    """The setting behind a SubmitJob parameter path (``tags.team``), if any."""
    path = re.sub(r"\[\d+\]", "", parameter)
    matches = [
        key
        for key in _SETTING_OF_PARAMETER
        if path == key or path.startswith(f"{key}.")
    ]
    return _SETTING_OF_PARAMETER[max(matches, key=len)] if matches else None


def _validation_problems(report: str, job: str) -> list[BatchSettingsError]:
    """One error per line of botocore's validation report, naming our setting."""
    problems = []
    for line in report.splitlines():
        line = line.strip()
        if not line or line.startswith("Parameter validation failed"):
            continue
        match = re.search(r"parameter:? ([A-Za-z0-9_.\[\]]+)", line)
        setting = setting_of_parameter(match.group(1)) if match else None
        if setting is None:
            message = f"AWS Batch would refuse job {job!r}: {line}"
            problems.append(BatchSettingsError("job_definition", message))
            continue
        problems.append(
            BatchSettingsError(
                setting,
                f"Batch setting '{setting}' makes a SubmitJob parameter AWS Batch "
                f"refuses (job {job!r}): {line}. {where_to_set(setting, BLOCKS)}",
            )
        )
    return problems


def parameter_error(error: Exception, job: str) -> BatchSettingsError:
    """botocore's ``ParamValidationError`` as an error naming our setting(s)."""
    report = str(getattr(error, "kwargs", {}).get("report") or error)
    refused = f"AWS Batch would refuse job {job!r}: {error}"
    problems = _validation_problems(report, job) or [
        BatchSettingsError("job_definition", refused)
    ]
    return BatchSettingsError.combine(problems)


def validator_key(value: Any) -> Hashable:
    """What botocore's ``ParamValidator`` can tell apart in ``value``: its
    structure (member names), types, the lengths of strings and lists, and
    numbers; not the text of strings. Two requests with one key get one
    verdict (it checks a string's type and length only). A value of any other
    type gets a key of its own (validated every time)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return ("d", tuple((key, validator_key(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(validator_key(item) for item in value))
    if isinstance(value, (bool, int, float)) or value is None:
        return (type(value), value)
    return object()  # never equal to another key


def _size_problem(
    oversized: Sequence[tuple[str, int, int]], total: int
) -> BatchSettingsError:
    shown = "; ".join(
        f"{name} ({nodes} node(s)): {size:,} bytes" for name, nodes, size in oversized
    )
    more = f" and {total - len(oversized)} more" if total > len(oversized) else ""
    return BatchSettingsError(
        "grouping",
        f"{total} job(s) would send a SubmitJob request above AWS Batch's limit of "
        f"{MAX_SUBMIT_JOB_BYTES:,} bytes (30 KiB): {shown}{more}. A job's command "
        f"names each of its nodes and its environment every variable: run with "
        f"grouping: none (one job per node), split the large namespaces, or set "
        f"fewer extra_env variables. {where_to_set('grouping')}",
    )


def check_plan(
    run: EngineRun,
    settings: AWSBatchSettings,
    client: Any,
    valid: set[Hashable] | None = None,
) -> list[BatchSettingsError]:
    """Every problem AWS Batch would have with the plan's SubmitJob requests.

    Args:
        run: The plan and the shared settings.
        settings: The AWS Batch settings.
        client: A Batch client (only its service model is used: no call).
        valid: Given, the key (``validator_key``) of each request validated
            without a problem is added to it (the engine's submits skip
            validating those again).

    Returns:
        One error per problem; empty when every job can be submitted.
    """
    from botocore.validate import ParamValidator

    problems: list[BatchSettingsError] = []
    reserved = sorted(
        key for key in run.settings.extra_env if key.startswith(RESERVED_ENV_PREFIX)
    )
    if reserved:
        problems.append(
            BatchSettingsError(
                "extra_env",
                f"Batch setting 'extra_env' has {', '.join(reserved)}: AWS Batch "
                f"reserves variables starting with {RESERVED_ENV_PREFIX} for its "
                f"own. Rename them. {where_to_set('extra_env')}",
            )
        )
    shape = client.meta.service_model.operation_model("SubmitJob").input_shape
    validator = ParamValidator()
    reported: set[str] = set()
    #: Keys of requests validated already (their problems, if any, reported).
    validated: set[Hashable] = set()
    oversized: list[tuple[str, int, int]] = []
    total_oversized = 0
    for job in run.plan.jobs:
        parents = min(len(job.depends_on), MAX_DEPENDS_ON)
        request = submit_job_request(
            Submission(job=job, depends_on=[_PLACEHOLDER_JOB_ID] * parents),
            settings,
            run.run_id,
        )
        size = len(json.dumps(request, separators=(",", ":")).encode("utf-8"))
        if size > MAX_SUBMIT_JOB_BYTES:
            total_oversized += 1
            if len(oversized) < _SHOWN:
                oversized.append((job.name, len(job.nodes), size))
        key = validator_key(request)
        if key in validated:
            continue  # the same verdict, its problems said once already
        validated.add(key)
        report = validator.validate(request, shape)
        if not report.has_errors() and valid is not None:
            valid.add(key)
        if report.has_errors():
            for problem in _validation_problems(report.generate_report(), job.name):
                # The same bad setting breaks every job: say it once.
                said = problem.setting + re.sub(r"job '[^']*'", "", str(problem))
                if said not in reported:
                    reported.add(said)
                    problems.append(problem)
    if total_oversized:
        problems.append(_size_problem(oversized, total_oversized))
    return problems
