"""Settings of the batch runners, and where each one comes from.

Every setting is looked up in this order; the first place that has it wins:

1. keyword arguments of the runner (``AWSBatchRunner(job_queue=...)``, or
   ``kedro run --runner-params job_queue=...`` on Kedro 1.6+);
2. the ``aws_batch:`` block of the run's parameters (the layout of Kedro's AWS
   Batch guide, so its ``job_queue`` / ``job_definition`` / ``max_workers`` keep
   working);
3. ``KEDRO_BATCH_<NAME>`` environment variables (``KEDRO_BATCH_JOB_QUEUE``);
   mappings and lists are given as JSON there.

``BatchSettings`` holds what every backend uses (grouping, parallelism, the
command, failure policy, dry run, polling); ``AWSBatchSettings`` what only AWS
Batch uses. A missing or invalid value raises ``BatchSettingsError`` naming the
setting, where the bad value came from and the three places it can be set.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import attrs
from attrs import define, field

from .errors import BatchSettingsError

#: Prefix of the environment variables that hold settings.
ENV_PREFIX: Final = "KEDRO_BATCH_"

#: The key of the parameters block (Kedro's AWS Batch guide uses ``aws_batch``).
PARAMETERS_KEY: Final = "aws_batch"

#: What ``grouping`` accepts: one job per namespace, or one job per node.
GROUPINGS: Final = ("namespace", "none")

#: AWS Batch: "Up to 128 letters (uppercase and lowercase), numbers, hyphens, and
#: underscores", first character alphanumeric. The prefix leaves room for the rest.
_PREFIX_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ENV_NAME_PATTERN: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

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
_EVALUATE_ON_EXIT_KEYS: Final = ("onStatusReason", "onReason", "onExitCode", "action")


def _invalid(name: str, message: str) -> BatchSettingsError:
    return BatchSettingsError(name, f"Batch setting '{name}' {message}")


# --- validators (each raises BatchSettingsError naming the setting) ----------------


def check_choice(choices: tuple[str, ...]) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value not in choices:
            raise _invalid(
                attribute.name, f"must be one of {', '.join(choices)}; got {value!r}."
            )

    return check


def check_str(optional: bool = False) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str) or not value.strip():
            raise _invalid(
                attribute.name, f"must be a non-empty string; got {value!r}."
            )

    return check


def check_int(
    minimum: int, maximum: int | None = None, optional: bool = True
) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        upper = "" if maximum is None else f" and at most {maximum}"
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            raise _invalid(
                attribute.name,
                f"must be an integer of at least {minimum}{upper}; got {value!r}.",
            )

    return check


def check_positive_number(
    maximum: float | None = None,
) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        upper = "" if maximum is None else f" and at most {maximum:g}"
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
            or (maximum is not None and value > maximum)
        ):
            raise _invalid(
                attribute.name, f"must be a number above 0{upper}; got {value!r}."
            )

    return check


def check_non_negative_number(instance: Any, attribute: Any, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise _invalid(
            attribute.name, f"must be a number of at least 0; got {value!r}."
        )


def check_bool(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise _invalid(attribute.name, f"must be true or false; got {value!r}.")


def check_prefix(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _PREFIX_PATTERN.match(value):
        raise _invalid(
            attribute.name,
            f"must be 1 to 64 letters, digits, '-' or '_', starting with a letter or "
            f"digit (AWS Batch job names); got {value!r}.",
        )


def check_env(instance: Any, attribute: Any, value: Mapping[str, str]) -> None:
    for key, item in value.items():
        if not isinstance(key, str) or not _ENV_NAME_PATTERN.match(key):
            raise _invalid(
                attribute.name,
                f"has {key!r}, which is not an environment variable name.",
            )
        if not isinstance(item, str):
            raise _invalid(attribute.name, f"value of {key!r} must be a string.")


def _to_str_mapping(value: Any) -> Any:
    """``{"A": 1}`` -> ``{"A": "1"}``: YAML and ``--runner-params`` type scalars."""
    if not isinstance(value, Mapping):
        return value
    return {
        key: str(item).lower()
        if isinstance(item, bool)
        else (str(item) if isinstance(item, (int, float, str)) else item)
        for key, item in value.items()
    }


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


def _resource_problem(resources: Any) -> str | None:
    if not isinstance(resources, Mapping):
        return f"must be a mapping such as {{vcpu: 2, memory: 4096}}; got {resources!r}"
    for key, amount in resources.items():
        if key not in RESOURCE_TYPES:
            kinds = ", ".join(kind.lower() for kind in RESOURCE_TYPES)
            return f"has resource {key!r}; use {kinds}"
        if (
            isinstance(amount, bool)
            or not isinstance(amount, (int, float, str))
            or str(amount).strip() == ""
        ):
            return f"has {key.lower()}={amount!r}; give a number (memory in MiB)"
    return None


def check_resources(instance: Any, attribute: Any, value: Any) -> None:
    problem = _resource_problem(value)
    if problem:
        raise _invalid(attribute.name, problem + ".")


def check_resources_by_key(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _invalid(attribute.name, f"must be a mapping; got {value!r}.")
    for key, resources in value.items():
        problem = _resource_problem(resources)
        if problem:
            raise _invalid(f"{attribute.name}.{key}", problem + ".")


def check_tags(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _invalid(attribute.name, f"must be a mapping; got {value!r}.")
    if len(value) > MAX_USER_TAGS:
        raise _invalid(
            attribute.name,
            f"has {len(value)} tags; AWS Batch allows 50 per job and the runner "
            f"adds 2, so give at most {MAX_USER_TAGS}.",
        )
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise _invalid(attribute.name, f"key {key!r} must be 1 to 128 characters.")
        if key.lower().startswith("aws:"):
            raise _invalid(
                attribute.name, f"key {key!r} uses the reserved 'aws:' prefix."
            )
        if not isinstance(item, str) or len(item) > 256:
            raise _invalid(
                attribute.name,
                f"value of {key!r} must be a string of <= 256 characters.",
            )


def check_evaluate_on_exit(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or len(value) > MAX_EVALUATE_ON_EXIT:
        raise _invalid(
            attribute.name,
            f"must be a list of at most {MAX_EVALUATE_ON_EXIT} rules (AWS Batch's "
            f"limit); got {value!r}.",
        )
    for rule in value:
        if not isinstance(rule, dict):
            raise _invalid(attribute.name, f"rule {rule!r} must be a mapping.")
        unknown = sorted(set(rule) - set(_EVALUATE_ON_EXIT_KEYS))
        if unknown:
            raise _invalid(
                attribute.name,
                f"rule {rule!r} has unknown key(s) {unknown}; use "
                f"{', '.join(_EVALUATE_ON_EXIT_KEYS)}.",
            )
        if str(rule.get("action", "")).upper() not in ("RETRY", "EXIT"):
            raise _invalid(attribute.name, f"rule {rule!r} needs action RETRY or EXIT.")


# --- the settings -------------------------------------------------------------------


def setting(
    default: Any = attrs.NOTHING,
    *,
    validator: Any = None,
    converter: Any = None,
    parse: str = "str",
    aliases: tuple[str, ...] = (),
    factory: Any = None,
) -> Any:
    """An attrs field with the metadata the resolver reads.

    ``parse`` says how a ``KEDRO_BATCH_*`` string becomes a value: ``str``, ``int``,
    ``float``, ``bool`` or ``json``. ``aliases`` are other keys accepted in the
    parameters block (Kedro's guide calls ``max_parallel`` ``max_workers``).
    """
    metadata = {"parse": parse, "aliases": aliases}
    if factory is not None:
        return field(
            factory=factory, validator=validator, converter=converter, metadata=metadata
        )
    return field(
        default=default, validator=validator, converter=converter, metadata=metadata
    )


@define(frozen=True, kw_only=True)
class BatchSettings:
    """Settings every batch backend uses.

    Attributes:
        grouping: ``"namespace"`` (one job per top-level namespace; nodes without
            one get a job each) or ``"none"`` (one job per node).
        max_parallel: At most this many jobs of the run unfinished at once;
            ``None`` for no limit (AWS Batch: the whole DAG is submitted up front).
            Kedro's guide calls it ``max_workers``, which is accepted too.
        executable: The command that runs the project in a job: ``kedro`` or the
            project's package CLI (its ``[project.scripts]`` entry).
        extra_env: More environment variables for every job.
        fail_fast: Cancel or terminate every other unfinished job of the run as
            soon as one fails.
        dry_run: Print and write the plan; submit nothing.
        plan_file: Where a dry run writes the plan as JSON (default
            ``batch-plan-<run id>.json`` in the working directory).
        job_name_prefix: The first part of every job name.
        poll_interval: Seconds between two status checks while jobs change.
        max_poll_interval: The longest wait between two checks; the interval
            grows towards it while nothing changes.

    Example:
        >>> BatchSettings(grouping="none", max_parallel=4).max_parallel
        4
    """

    grouping: str = setting("namespace", validator=check_choice(GROUPINGS))
    max_parallel: int | None = setting(
        None, validator=check_int(1), parse="int", aliases=("max_workers",)
    )
    executable: str = setting("kedro", validator=check_str())
    extra_env: Mapping[str, str] = setting(
        factory=dict, validator=check_env, converter=_to_str_mapping, parse="json"
    )
    fail_fast: bool = setting(True, validator=check_bool, parse="bool")
    dry_run: bool = setting(False, validator=check_bool, parse="bool")
    plan_file: str | None = setting(None, validator=check_str(optional=True))
    job_name_prefix: str = setting("kedro", validator=check_prefix)
    poll_interval: float = setting(
        2.0, validator=check_positive_number(), parse="float"
    )
    max_poll_interval: float = setting(
        30.0, validator=check_positive_number(), parse="float"
    )

    def __attrs_post_init__(self) -> None:
        if self.max_poll_interval < self.poll_interval:
            raise _invalid(
                "max_poll_interval",
                f"({self.max_poll_interval:g}) must not be below poll_interval "
                f"({self.poll_interval:g}).",
            )


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
        submit_rate: SubmitJob (and TerminateJob) calls per second, at most 50
            (AWS Batch's SubmitJob quota).
        api_retry_mode: botocore's retry mode for throttling: ``standard`` or
            ``adaptive``.
        api_max_attempts: botocore's total attempts per API call.
        lookup_delay: Seconds to wait before concluding that a timed-out SubmitJob
            created no job (the job list is eventually consistent).

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
        factory=dict, validator=check_tags, converter=_to_str_mapping, parse="json"
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


# --- resolution -------------------------------------------------------------------

SettingsT = TypeVar("SettingsT")


def env_var_name(setting: str) -> str:
    """The variable of ``setting``: ``job_queue`` -> ``KEDRO_BATCH_JOB_QUEUE``."""
    return f"{ENV_PREFIX}{setting.upper()}"


def where_to_set(setting: str, parameters_key: str = PARAMETERS_KEY) -> str:
    """The sentence telling a user the three places ``setting`` can be set."""
    return (
        f"Set it as a runner argument (kedro run --runner-params "
        f"{setting}=<value> on Kedro 1.6+), under '{parameters_key}: "
        f"{{{setting}: <value>}}' in the run's parameters, or as the environment "
        f"variable {env_var_name(setting)}."
    )


def setting_names(*classes: type) -> dict[str, str]:
    """Every accepted key (names and aliases) of ``classes`` -> the setting name."""
    names: dict[str, str] = {}
    for cls in classes:
        for attribute in attrs.fields(cls):
            names[attribute.name] = attribute.name
            for alias in attribute.metadata.get("aliases", ()):
                names[alias] = attribute.name
    return names


def check_setting_names(
    given: Mapping[str, Any], classes: tuple[type, ...], source: str
) -> None:
    """Raise for the keys of ``given`` that are no setting of ``classes``, all at once.

    Raises:
        BatchSettingsError: Naming every unknown key, ``source`` and close matches.
    """
    import difflib

    known = setting_names(*classes)
    unknown = [key for key in given if key not in known]
    problems = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), list(known), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        problems.append(f"{key!r}.{hint}")
    if problems:
        raise BatchSettingsError(
            str(unknown[0]),
            f"Unknown batch setting(s) in {source}: {' '.join(problems)} Known "
            f"settings: {', '.join(sorted(set(known.values())))}.",
        )


def check_environment_names(
    environ: Mapping[str, str], classes: tuple[type, ...]
) -> None:
    """Raise for ``KEDRO_BATCH_*`` variables that name no setting, all at once.

    A misspelt variable would otherwise be ignored silently and its setting take
    another value. An alias's variable (``KEDRO_BATCH_MAX_WORKERS``) is named
    too: only setting names have variables.

    Raises:
        BatchSettingsError: Naming every unknown variable and close matches.
    """
    import difflib

    known = setting_names(*classes)
    variables = {env_var_name(name) for name in known.values()}
    unknown = [
        variable
        for variable in sorted(environ)
        if variable.startswith(ENV_PREFIX) and variable not in variables
    ]
    problems = []
    for variable in unknown:
        alias = known.get(variable[len(ENV_PREFIX) :].lower())
        close = (
            [env_var_name(alias)]
            if alias is not None
            else difflib.get_close_matches(variable, sorted(variables), n=3)
        )
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        problems.append(f"{variable}.{hint}")
    if problems:
        raise BatchSettingsError(
            unknown[0],
            f"Unknown batch setting variable(s) in the environment: "
            f"{' '.join(problems)} Unset them, or use one of: "
            f"{', '.join(sorted(variables))}.",
        )


def _parse_env(name: str, variable: str, text: str, parse: str) -> Any:
    try:
        if parse == "int":
            return int(text)
        if parse == "float":
            return float(text)
        if parse == "bool":
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if parse == "json":
            return json.loads(text)
    except ValueError as error:
        raise BatchSettingsError(
            name,
            f"Batch setting '{name}' from the environment variable {variable}="
            f"{text!r} is not a valid {parse}"
            + (" (write mappings and lists as JSON)" if parse == "json" else "")
            + f": {error}",
        ) from None
    return text


def resolve_settings(
    cls: type[SettingsT],
    *,
    arguments: Mapping[str, Any],
    parameters: Mapping[str, Any],
    environ: Mapping[str, str],
    defaults: Mapping[str, Any] | None = None,
    parameters_key: str = PARAMETERS_KEY,
) -> SettingsT:
    """Build ``cls`` from runner arguments, then parameters, then the environment.

    Args:
        cls: ``BatchSettings`` or ``AWSBatchSettings`` (any attrs class whose
            fields were made with this module's ``setting``).
        arguments: The runner's keyword arguments.
        parameters: The ``aws_batch`` block of the run's parameters.
        environ: The environment (``os.environ``).
        defaults: Defaults that replace the class's own (a backend's choice, such
            as the local runner's shorter poll interval).
        parameters_key: The name of the parameters block, for messages.

    Returns:
        The validated settings.

    Raises:
        BatchSettingsError: When a required setting is missing everywhere, or a
            value is invalid; the message names the setting, where its value came
            from and where it can be set.

    Example:
        >>> resolve_settings(
        ...     AWSBatchSettings,
        ...     arguments={"job_queue": "gpu"},
        ...     parameters={"job_queue": "cpu", "job_definition": "kedro"},
        ...     environ={},
        ... ).job_queue
        'gpu'
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for attribute in attrs.fields(cls):  # type: ignore[arg-type]
        name = attribute.name
        keys = (name, *attribute.metadata.get("aliases", ()))
        variable = env_var_name(name)
        given_key = next((key for key in keys if key in parameters), None)
        if name in arguments:
            values[name] = arguments[name]
            sources[name] = f"the runner argument {name}={arguments[name]!r}"
        elif given_key is not None:
            values[name] = parameters[given_key]
            sources[name] = f"the parameter {parameters_key}.{given_key}"
        elif environ.get(variable, "") != "":
            values[name] = _parse_env(
                name,
                variable,
                environ[variable],
                attribute.metadata.get("parse", "str"),
            )
            sources[name] = f"the environment variable {variable}"
        elif defaults is not None and name in defaults:
            values[name] = defaults[name]
            sources[name] = "the runner's default"
        elif attribute.default is attrs.NOTHING:
            raise BatchSettingsError(
                name,
                f"Batch setting '{name}' is required and was not given. "
                f"{where_to_set(name, parameters_key)}",
            )
    try:
        return cls(**values)
    except BatchSettingsError as error:
        name = error.setting.split(".")[0]
        source = sources.get(name, "the default")
        raise BatchSettingsError(
            error.setting,
            f"{error} (from {source}). {where_to_set(name, parameters_key)}",
        ) from None
