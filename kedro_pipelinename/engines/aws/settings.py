"""Settings only the AWS Batch engine uses, and AWS Batch's limits on them.

They are resolved like the shared ``BatchSettings`` (runner arguments, then the
``batch:`` or ``aws_batch:`` parameters block, then ``KEDRO_BATCH_*``); the
``aws_batch:`` block is the layout of Kedro's AWS Batch guide.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any, Final

import attrs
from attrs import define

from ...batch.kit import (
    check_choice,
    check_int,
    check_non_negative_number,
    check_positive_number,
    check_str,
    invalid,
    setting,
    to_str_mapping,
)

#: AWS Batch allows at most 50 tags per resource; the runner adds its own two.
MAX_USER_TAGS: Final = 48
#: AWS Batch: ``retryStrategy.attempts`` is 1 to 10.
MAX_RETRY_ATTEMPTS: Final = 10
#: AWS Batch: ``retryStrategy.evaluateOnExit`` holds up to 5 rules.
MAX_EVALUATE_ON_EXIT: Final = 5
#: AWS Batch: ``timeout.attemptDurationSeconds`` is at least 60.
MIN_ATTEMPT_TIMEOUT: Final = 60
#: AWS Batch's SubmitJob quota is 50 requests per second per account and region.
MAX_SUBMIT_RATE: Final = 50.0
#: Resource types of ``containerOverrides.resourceRequirements``.
RESOURCE_TYPES: Final = ("VCPU", "MEMORY", "GPU")
#: AWS Batch: "You must specify at least 4 MiB of memory for a job."
MIN_MEMORY_MIB: Final = 4
_EVALUATE_ON_EXIT_KEYS: Final = ("onStatusReason", "onReason", "onExitCode", "action")


def _to_tuple_of_dicts(value: Any) -> Any:
    if isinstance(value, Mapping):
        return (dict(value),)
    if isinstance(value, (list, tuple)):
        return tuple(
            dict(item) if isinstance(item, Mapping) else item for item in value
        )
    return value


def _to_resources(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {str(key).upper(): item for key, item in value.items()}


def _to_resources_by_key(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {key: _to_resources(item) for key, item in value.items()}


def _number(amount: Any) -> float | None:
    """``amount`` as a number (YAML gives 2, the environment's JSON "2"), or
    ``None`` when it is none."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
        return None
    try:
        number = float(amount)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _amount_problem(kind: str, amount: Any) -> str | None:
    """What breaks AWS Batch's rule for one ``resourceRequirements`` value."""
    number = _number(amount)
    shown = f"{kind.lower()}={amount!r}"
    if kind == "VCPU":
        # Fractions are Fargate's (0.25, 0.5); EC2 takes whole vCPUs.
        if number is None or number <= 0:
            return f"has {shown}; give a number of vCPUs above 0 (such as 1 or 0.5)"
    elif kind == "MEMORY":
        if number is None or number != int(number) or number < MIN_MEMORY_MIB:
            return (
                f"has {shown}; give a whole number of MiB, at least "
                f"{MIN_MEMORY_MIB} (AWS Batch's minimum), such as 4096"
            )
    elif number is None or number != int(number) or number < 0:  # GPU
        return f"has {shown}; give a whole number of GPUs, 0 or more"
    return None


def _resource_problem(resources: Any) -> str | None:
    if not isinstance(resources, Mapping):
        return f"must be a mapping such as {{vcpu: 2, memory: 4096}}; got {resources!r}"
    for key, amount in resources.items():
        if key not in RESOURCE_TYPES:
            kinds = ", ".join(kind.lower() for kind in RESOURCE_TYPES)
            close = difflib.get_close_matches(str(key), RESOURCE_TYPES, n=1)
            hint = f" (did you mean {close[0].lower()}?)" if close else ""
            return f"has resource {key!r}{hint}; use {kinds}"
        problem = _amount_problem(key, amount)
        if problem:
            return problem
    return None


def check_optional_positive_number(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        check_positive_number()(instance, attribute, value)


def check_resources(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    problem = _resource_problem(value)
    if problem:
        raise invalid(attribute.name, problem + ".")


def check_resources_by_key(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, Mapping):
        raise invalid(attribute.name, f"must be a mapping; got {value!r}.")
    for key, resources in value.items():
        problem = _resource_problem(resources)
        if problem:
            raise invalid(f"{attribute.name}.{key}", problem + ".")


def check_tags(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, Mapping):
        raise invalid(attribute.name, f"must be a mapping; got {value!r}.")
    if len(value) > MAX_USER_TAGS:
        raise invalid(
            attribute.name,
            f"has {len(value)} tags; AWS Batch allows 50 per job and the runner "
            f"adds 2, so give at most {MAX_USER_TAGS}.",
        )
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise invalid(attribute.name, f"key {key!r} must be 1 to 128 characters.")
        if key.lower().startswith("aws:"):
            raise invalid(
                attribute.name, f"key {key!r} uses the reserved 'aws:' prefix."
            )
        if not isinstance(item, str) or len(item) > 256:
            raise invalid(
                attribute.name,
                f"value of {key!r} must be a string of <= 256 characters.",
            )


def check_evaluate_on_exit(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, tuple) or len(value) > MAX_EVALUATE_ON_EXIT:
        raise invalid(
            attribute.name,
            f"must be a list of at most {MAX_EVALUATE_ON_EXIT} rules (AWS Batch's "
            f"limit); got {value!r}.",
        )
    for rule in value:
        if not isinstance(rule, dict):
            raise invalid(attribute.name, f"rule {rule!r} must be a mapping.")
        unknown = sorted(set(rule) - set(_EVALUATE_ON_EXIT_KEYS))
        if unknown:
            raise invalid(
                attribute.name,
                f"rule {rule!r} has unknown key(s) {unknown}; use "
                f"{', '.join(_EVALUATE_ON_EXIT_KEYS)}.",
            )
        if str(rule.get("action", "")).upper() not in ("RETRY", "EXIT"):
            raise invalid(attribute.name, f"rule {rule!r} needs action RETRY or EXIT.")


@define(frozen=True, kw_only=True)
class AWSBatchSettings:
    """Settings only AWS Batch uses.

    Attributes:
        job_queue: The job queue (name or ARN). Required.
        job_definition: The job definition (name, ``name:revision`` or ARN) whose
            image has the project installed. Required.
        region: The AWS region; default from the AWS configuration.
        profile: The AWS profile; default from the AWS configuration.
        endpoint_url: Another Batch endpoint (a VPC endpoint, or moto in tests).
        retry_attempts: ``retryStrategy.attempts`` (1 to 10).
        evaluate_on_exit: ``retryStrategy.evaluateOnExit`` rules (up to 5).
        attempt_timeout: ``timeout.attemptDurationSeconds`` (at least 60).
        resources: Default ``resourceRequirements``: ``{vcpu, memory, gpu}``.
        resources_by_namespace: Overrides per namespace (job groups).
        resources_by_tag: Overrides per node tag; applied after the namespace's,
            in tag order.
        tags: Tags for every job (at most 48: AWS allows 50 and the runner adds
            ``kedro-pipelinename:run-id`` and ``kedro-pipelinename:job``).
        submit_rate: Calls to AWS Batch per second, at most 50 (its SubmitJob
            quota): one limit for every request the engine sends (SubmitJob,
            DescribeJobs, ListJobs, TerminateJob, and their retries), shared
            by the driver's concurrent submits.
        api_retry_mode: botocore's retry mode for throttling: ``standard`` or
            ``adaptive``.
        api_max_attempts: botocore's total attempts per API call.
        lookup_delay: Seconds between two looks for a job whose SubmitJob
            response was lost (ListJobs is eventually consistent).
        lookup_attempts: How many looks before concluding that such a SubmitJob
            created no job (and sending it again).
        api_timeout: Seconds botocore waits to connect, and for each response
            (botocore's default: 60).
        api_retry_delay: The first wait of the engine's own retries of an API
            call, after botocore's: doubled each time, at most 20 s.
        status_attempts: DescribeJobs / ListJobs calls per status read before
            the engine reports AWS Batch's API unavailable (the driver then keeps
            the jobs' last states and asks again later).
        runnable_warning: Seconds a job may wait in RUNNABLE before a warning
            names the usual causes (no capacity, a disabled compute environment,
            a job larger than the environment allows).
        runnable_timeout: Seconds in RUNNABLE after which the job is terminated
            and fails the run; ``None`` (default): it waits as long as Batch lets it.

    Example:
        >>> AWSBatchSettings(job_queue="q", job_definition="kedro").retry_attempts
    """

    job_queue: str = setting(validator=check_str())
    job_definition: str = setting(validator=check_str())
    region: str | None = setting(None, validator=check_str(optional=True))
    profile: str | None = setting(None, validator=check_str(optional=True))
    endpoint_url: str | None = setting(None, validator=check_str(optional=True))
    retry_attempts: int | None = setting(
        None, validator=check_int(1, MAX_RETRY_ATTEMPTS), parse="int"
    )
    evaluate_on_exit: tuple[dict[str, str], ...] = setting(
        (),
        validator=check_evaluate_on_exit,
        converter=_to_tuple_of_dicts,
        parse="json",
    )
    attempt_timeout: int | None = setting(
        None, validator=check_int(MIN_ATTEMPT_TIMEOUT), parse="int"
    )
    resources: Mapping[str, Any] = setting(
        factory=dict, validator=check_resources, converter=_to_resources, parse="json"
    )
    resources_by_namespace: Mapping[str, Mapping[str, Any]] = setting(
        factory=dict,
        validator=check_resources_by_key,
        converter=_to_resources_by_key,
        parse="json",
    )
    resources_by_tag: Mapping[str, Mapping[str, Any]] = setting(
        factory=dict,
        validator=check_resources_by_key,
        converter=_to_resources_by_key,
        parse="json",
    )
    tags: Mapping[str, str] = setting(
        factory=dict, validator=check_tags, converter=to_str_mapping, parse="json"
    )
    submit_rate: float = setting(
        40.0, validator=check_positive_number(MAX_SUBMIT_RATE), parse="float"
    )
    api_retry_mode: str = setting(
        "standard", validator=check_choice(("standard", "adaptive"))
    )
    api_max_attempts: int = setting(10, validator=check_int(1, 20, False), parse="int")
    lookup_delay: float = setting(
        2.0, validator=check_non_negative_number, parse="float"
    )
    lookup_attempts: int = setting(3, validator=check_int(1, 20, False), parse="int")
    api_timeout: float = setting(60.0, validator=check_positive_number(), parse="float")
    api_retry_delay: float = setting(
        1.0, validator=check_non_negative_number, parse="float"
    )
    status_attempts: int = setting(4, validator=check_int(1, 50, False), parse="int")
    runnable_warning: float = setting(
        600.0, validator=check_positive_number(), parse="float"
    )
    runnable_timeout: float | None = setting(
        None, validator=check_optional_positive_number, parse="float"
    )
