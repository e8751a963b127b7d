"""Settings of the batch runners, and where each one comes from.

Every setting is looked up in this order; the first place that has it wins:

1. keyword arguments of the runner (``LocalBatchRunner(max_parallel=2)``, or
   ``kedro run --runner-params max_parallel=2`` on Kedro 1.6+);
2. the engine's own block of the run's parameters, if it declares one (AWS
   Batch: ``aws_batch:``, the layout of Kedro's AWS Batch guide, so its
   ``job_queue`` / ``job_definition`` / ``max_workers`` keep working);
3. the ``batch:`` block of the run's parameters, shared by every engine;
4. ``KEDRO_BATCH_<NAME>`` environment variables (``KEDRO_BATCH_MAX_PARALLEL``);
   mappings and lists are given as JSON there.

``BatchSettings`` holds what every engine uses (grouping, parallelism, the
command, failure policy, dry run, polling); each engine declares its own class
(``EngineSpec.settings``), made with ``setting`` and the validators here. Every
problem (a missing, invalid or unknown setting, a misspelt variable) is
reported at once, in one ``BatchSettingsError`` naming each setting, where its
bad value came from and where it can be set.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

import attrs
from attrs import define, field

from .errors import BatchSettingsError

#: Prefix of the environment variables that hold settings.
ENV_PREFIX: Final = "KEDRO_BATCH_"

#: The parameters block every engine reads.
SHARED_BLOCK: Final = "batch"

#: What ``grouping`` accepts: one job per namespace, or one job per node.
GROUPINGS: Final = ("namespace", "none")

#: The prefix leaves room in a job name for the group (every engine's rule
#: accepts these characters).
_PREFIX_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ENV_NAME_PATTERN: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: What attrs calls a validator with: the instance, the field, the value.
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def invalid(name: str, message: str) -> BatchSettingsError:
    """The error of one bad setting: ``Batch setting '<name>' <message>``."""
    return BatchSettingsError(name, f"Batch setting '{name}' {message}")


# --- validators (each raises BatchSettingsError naming the setting) ----------------


def check_choice(choices: tuple[str, ...]) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            raise invalid(
                attribute.name, f"must be one of {', '.join(choices)}; got {value!r}."
            )

    return check


def check_str(optional: bool = False) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str) or not value.strip():
            raise invalid(attribute.name, f"must be a non-empty string; got {value!r}.")

    return check


def check_int(
    minimum: int, maximum: int | None = None, optional: bool = True
) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        upper = "" if maximum is None else f" and at most {maximum}"
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            raise invalid(
                attribute.name,
                f"must be an integer of at least {minimum}{upper}; got {value!r}.",
            )

    return check


def check_positive_number(
    maximum: float | None = None,
) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        upper = "" if maximum is None else f" and at most {maximum:g}"
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
            or (maximum is not None and value > maximum)
        ):
            raise invalid(
                attribute.name, f"must be a number above 0{upper}; got {value!r}."
            )

    return check


def check_non_negative_number(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise invalid(attribute.name, f"must be a number of at least 0; got {value!r}.")


def check_record_uri(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not re.match(r"^s3://[^/\s]+(/\S*)?$", value):
        raise invalid(
            attribute.name,
            f"must be an s3://bucket/prefix URI (or unset for the project's "
            f"logs/batch); got {value!r}.",
        )


def check_bool(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, bool):
        raise invalid(attribute.name, f"must be true or false; got {value!r}.")


def check_prefix(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, str) or not _PREFIX_PATTERN.match(value):
        raise invalid(
            attribute.name,
            f"must be 1 to 64 letters, digits, '-' or '_', starting with a letter or "
            f"digit (every engine accepts these in job names); got {value!r}.",
        )


def check_env(
    instance: object, attribute: attrs.Attribute[Any], value: Mapping[str, str]
) -> None:
    for key, item in value.items():
        if not isinstance(key, str) or not _ENV_NAME_PATTERN.match(key):
            raise invalid(
                attribute.name,
                f"has {key!r}, which is not an environment variable name.",
            )
        if not isinstance(item, str):
            raise invalid(attribute.name, f"value of {key!r} must be a string.")


def to_str_mapping(value: Any) -> Any:
    """``{"A": 1}`` -> ``{"A": "1"}``: YAML and ``--runner-params`` type scalars."""
    if not isinstance(value, Mapping):
        return value
    return {
        key: str(item).lower()
        if isinstance(item, bool)
        else (str(item) if isinstance(item, (int, float, str)) else item)
        for key, item in value.items()
    }


# --- the settings -------------------------------------------------------------------


def to_str_tuple_of(value: object) -> object:
    """A list of strings as a tuple; anything else as given (the validator
    names it)."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def check_str_list(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A tuple of strings."""
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise invalid(attribute.name, f"must be a list of names, not {value!r}.")


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
    """Settings every batch engine uses.

    Attributes:
        record_uri: Where run records and leases live: unset for the
            project's ``logs/batch``, or ``s3://bucket/prefix`` for drivers on
            different machines (``s3_store.py``).
        engine: The engine that runs the jobs, by its entry-point name
            (``local``, ``aws``, or an installed plug-in's); read by the generic
            ``BatchRunner``. An engine's own runner (``AWSBatchRunner``) fixes it.
        grouping: ``"namespace"`` (one job per top-level namespace; nodes without
            one get a job each) or ``"none"`` (one job per node).
        group_in_memory: Put nodes joined by a dataset kept in memory (one the
            catalog does not declare, or a ``MemoryDataset``) in one job, as
            kedro-airflow's ``--group-in-memory`` does, on top of ``grouping``.
            Off, such a dataset between two jobs is a pre-flight error.
        max_parallel: At most this many jobs of the run unfinished at once;
            ``None`` for no limit (AWS Batch: the whole DAG is submitted up front).
            Kedro's guide calls it ``max_workers``, which is accepted too.
        submit_concurrency: At most this many submissions in flight at once;
            ``None`` (default): the engine's own ``spec.submit_concurrency``
            (AWS Batch: 16, SLURM: 8, local processes: 1). A value above the
            engine's is lowered to it; ``1`` submits one job at a time.
        arrays: Start a uniform fan-out (the same job for many namespaces) as
            array jobs on an engine that has them (AWS Batch, SLURM): one
            request per array instead of one per job (``docs/arrays.md``). Turn
            it off to see one job per planned job in the engine's own console,
            or when the image the jobs run cannot run ``kedro batch child``.
        executable: The command that runs the project in a job: ``kedro`` or the
            project's package CLI (its ``[project.scripts]`` entry).
        extra_env: More environment variables for every job. Their values are
            secret (never written or logged: ``relaunch/redaction.py``) unless named in
            ``public_env``.
        public_env: Names of ``extra_env`` variables whose values may be
            written and shown (a name that looks secret never is).
        fail_fast: Cancel or terminate every other unfinished job of the run as
            soon as one fails.
        dry_run: Print and write the plan; submit nothing.
        plan_file: Where a dry run writes the plan as JSON (default: the
            project's ``logs/batch-plans/<run id>.json``).
        job_name_prefix: The first part of every job name.
        poll_interval: Seconds between two status checks while jobs change.
        max_poll_interval: The longest wait between two checks; the interval
            grows towards it while nothing changes.
        outage_timeout: Seconds the engine may go unanswered (its status API
            down, throttled or timing out) before the run stops; until then the
            driver keeps the jobs' last known states, warns and asks again.
        tracking: The run trackers that keep one experiment-tracking run per
            batch run (``docs/tracking.md``): names of installed ones separated
            by commas (``mlflow``), or ``none``. Unset: every installed tracker
            that enables itself (MLflow's does when an MLflow run is active in
            the driver, as kedro-mlflow makes it).

    Example:
        >>> BatchSettings(grouping="none", max_parallel=4).max_parallel
        4
    """

    engine: str | None = setting(None, validator=check_str(optional=True))
    record_uri: str | None = setting(None, validator=check_record_uri)
    grouping: str = setting("namespace", validator=check_choice(GROUPINGS))
    # On by default: it changes only plans that pre-flight would refuse without
    # it (an in-memory dataset between two jobs), so Kedro's own starters run.
    group_in_memory: bool = setting(True, validator=check_bool, parse="bool")
    max_parallel: int | None = setting(
        None, validator=check_int(1), parse="int", aliases=("max_workers",)
    )
    submit_concurrency: int | None = setting(None, validator=check_int(1), parse="int")
    arrays: bool = setting(True, validator=check_bool, parse="bool")
    executable: str = setting("kedro", validator=check_str())
    extra_env: Mapping[str, str] = setting(
        factory=dict, validator=check_env, converter=to_str_mapping, parse="json"
    )
    public_env: tuple[str, ...] = setting(
        (), validator=check_str_list, converter=to_str_tuple_of, parse="json"
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
    # 15 minutes: the outages (a 20 s DescribeJobs 503 burst, a minute of
    # hangs) are far shorter, and AWS Batch jobs run on while nobody asks.
    outage_timeout: float = setting(
        900.0, validator=check_positive_number(), parse="float"
    )
    tracking: str | None = setting(None, validator=check_str(optional=True))

    def __attrs_post_init__(self) -> None:
        if self.max_poll_interval < self.poll_interval:
            raise invalid(
                "max_poll_interval",
                f"({self.max_poll_interval:g}) must not be below poll_interval "
                f"({self.poll_interval:g}).",
            )


# --- resolution -------------------------------------------------------------------

SettingsT = TypeVar("SettingsT")

#: Where a setting can be given: the parameters blocks read, in order.
Blocks = Sequence[tuple[str, Mapping[str, Any]]]


def env_var_name(setting: str) -> str:
    """The variable of ``setting``: ``job_queue`` -> ``KEDRO_BATCH_JOB_QUEUE``."""
    return f"{ENV_PREFIX}{setting.upper()}"


def where_to_set(setting: str, block_names: Sequence[str] = (SHARED_BLOCK,)) -> str:
    """The sentence telling a user the places ``setting`` can be set."""
    blocks = " or ".join(f"'{name}: {{{setting}: <value>}}'" for name in block_names)
    return (
        f"Set it as a runner argument (kedro run --runner-params "
        f"{setting}=<value> on Kedro 1.6+), under {blocks} in the run's "
        f"parameters, or as the environment variable {env_var_name(setting)}."
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


def unknown_setting_problems(
    given: Iterable[str], classes: Sequence[type], source: str
) -> list[BatchSettingsError]:
    """One error per key of ``given`` that is no setting of ``classes``."""
    known = setting_names(*classes)
    problems = []
    for key in given:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), list(known), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        problems.append(
            BatchSettingsError(
                str(key), f"Unknown batch setting {key!r} in {source}.{hint}"
            )
        )
    return problems


def check_setting_names(
    given: Mapping[str, Any], classes: Sequence[type], source: str
) -> None:
    """Raise for the keys of ``given`` that are no setting of ``classes``, all at once.

    Raises:
        BatchSettingsError: Naming every unknown key, ``source`` and close matches.
    """
    problems = unknown_setting_problems(given, classes, source)
    if problems:
        raise BatchSettingsError.combine(problems)


def unknown_variable_problems(
    environ: Mapping[str, str], classes: Sequence[type]
) -> list[BatchSettingsError]:
    """One error per ``KEDRO_BATCH_*`` variable that names no setting.

    A misspelt variable would otherwise be ignored silently and its setting take
    another value. An alias's variable (``KEDRO_BATCH_MAX_WORKERS``) is named
    too: only setting names have variables.
    """
    known = setting_names(*classes)
    variables = {env_var_name(name) for name in known.values()}
    problems = []
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in variables:
            continue
        alias = known.get(variable[len(ENV_PREFIX) :].lower())
        close = (
            [env_var_name(alias)]
            if alias is not None
            else difflib.get_close_matches(variable, sorted(variables), n=3)
        )
        hint = f" Did you mean {', '.join(close)}?" if close else " Unset it."
        problems.append(
            BatchSettingsError(
                variable,
                f"Unknown batch setting variable {variable} in the environment.{hint}",
            )
        )
    return problems


def check_environment_names(
    environ: Mapping[str, str], classes: Sequence[type]
) -> None:
    """Raise for ``KEDRO_BATCH_*`` variables that name no setting, all at once.

    Raises:
        BatchSettingsError: Naming every unknown variable and close matches.
    """
    problems = unknown_variable_problems(environ, classes)
    if problems:
        raise BatchSettingsError.combine(problems)


#: The words a boolean variable takes (any case, blanks around them ignored).
BOOLEAN_WORDS: Final = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off"), False),
}


def parse_bool(text: str) -> bool:
    """The boolean an environment variable's ``text`` means: every ``KEDRO_BATCH_*``
    boolean setting and ``KEDRO_PIPELINENAME_DISABLE`` read it this one way.

    Raises:
        ValueError: For anything but ``BOOLEAN_WORDS``, naming the words taken.

    Example:
        >>> parse_bool(" Yes "), parse_bool("0")
        (True, False)
    """
    try:
        return BOOLEAN_WORDS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"{text!r} is none of {', '.join(BOOLEAN_WORDS)}") from None


def _parse_env(name: str, variable: str, text: str, parse: str) -> Any:
    try:
        if parse == "int":
            return int(text)
        if parse == "float":
            return float(text)
        if parse == "bool":
            return parse_bool(text)
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


def given_setting(
    cls: type,
    name: str,
    *,
    arguments: Mapping[str, Any],
    blocks: Blocks,
    environ: Mapping[str, str],
) -> tuple[Any, str] | None:
    """The value of setting ``name`` of ``cls`` where it is first given, and
    where that is (``resolve_settings``'s order), or ``None`` if unset."""
    attribute = attrs.fields_dict(cls)[name]
    return _given(attribute, arguments, blocks, environ, {})


def _given(
    attribute: attrs.Attribute[Any],
    arguments: Mapping[str, Any],
    blocks: Blocks,
    environ: Mapping[str, str],
    defaults: Mapping[str, Any],
) -> tuple[Any, str] | None:
    """The value of one setting and where it came from, or ``None`` if unset."""
    return next(_every_given(attribute, arguments, blocks, environ, defaults), None)


def _every_given(
    attribute: attrs.Attribute[Any],
    arguments: Mapping[str, Any],
    blocks: Blocks,
    environ: Mapping[str, str],
    defaults: Mapping[str, Any],
) -> Iterator[tuple[Any, str]]:
    """Every place that gives one setting, first (the one used) first.

    Raises:
        BatchSettingsError: When a place's value cannot be read (a variable that
            is no valid int, bool or JSON), on reaching that place.
    """
    name = attribute.name
    if name in arguments:
        yield arguments[name], f"the runner argument {name}={arguments[name]!r}"
    for block_name, block in blocks:
        for key in (name, *attribute.metadata.get("aliases", ())):
            if key in block:
                yield block[key], f"the parameter {block_name}.{key}"
    variable = env_var_name(name)
    if environ.get(variable, "") != "":
        parse = attribute.metadata.get("parse", "str")
        value = _parse_env(name, variable, environ[variable], parse)
        yield value, f"the environment variable {variable}"
    if name in defaults:
        yield defaults[name], "the runner's default"


def _shadowed_problems(
    attribute: attrs.Attribute[Any],
    arguments: Mapping[str, Any],
    blocks: Blocks,
    environ: Mapping[str, str],
    used: str,
    block_names: Sequence[str],
) -> list[BatchSettingsError]:
    """Problems with the values a setting's first place shadows.

    A shadowed value is not used in this run, but it is used by every run where
    the place that shadows it is not set (another env, a ``--params`` left
    out): an invalid one is refused now, naming both places, rather than on
    the day it surfaces.
    """
    problems: list[BatchSettingsError] = []
    places = _every_given(attribute, arguments, blocks, environ, {})
    try:
        next(places, None)  # the place used, checked by the caller
        for value, source in places:
            try:
                _checked(attribute, value)
            except BatchSettingsError as error:
                problems.append(
                    _shadowed(attribute.name, error, source, used, block_names)
                )
    except BatchSettingsError as error:  # a shadowed variable that does not parse
        problems.append(_shadowed(attribute.name, error, None, used, block_names))
    return problems


def _shadowed(
    name: str,
    error: BatchSettingsError,
    source: str | None,
    used: str,
    block_names: Sequence[str],
) -> BatchSettingsError:
    where = f" (from {source})" if source else ""
    return BatchSettingsError(
        error.setting,
        f"{error}{where}. It is shadowed in this run by {used}, but would be used "
        f"wherever that is not set: fix or remove it. "
        f"{where_to_set(name, block_names)}",
    )


def _checked(attribute: attrs.Attribute[Any], value: Any) -> Any:
    """``value`` converted and validated as ``attribute`` would (raises)."""
    converter = attribute.converter
    if callable(converter):
        value = converter(value)
    validator = attribute.validator
    if validator is not None:
        validator(None, attribute, value)
    return value


def resolve_settings(
    cls: type[SettingsT],
    *,
    arguments: Mapping[str, Any],
    blocks: Blocks,
    environ: Mapping[str, str],
    defaults: Mapping[str, Any] | None = None,
) -> SettingsT:
    """Build ``cls`` from runner arguments, then parameters, then the environment.

    Args:
        cls: ``BatchSettings`` or an engine's settings class (any attrs class
            whose fields were made with ``setting``).
        arguments: The runner's keyword arguments.
        blocks: The parameters blocks to read, in order, as ``(name, mapping)``.
        environ: The environment (``os.environ``).
        defaults: Defaults that replace the class's own (an engine's choice, such
            as the local engine's shorter poll interval).

    Returns:
        The validated settings.

    Raises:
        BatchSettingsError: Listing every setting that is required and missing
            everywhere, or invalid; each names where its value came from and
            where it can be set.

    Example:
        >>> resolve_settings(
        ...     BatchSettings,
        ...     arguments={"max_parallel": 4},
        ...     blocks=[("batch", {"max_parallel": 2, "grouping": "none"})],
        ...     environ={},
        ... ).max_parallel
        4
    """
    block_names = [name for name, _ in blocks] or [SHARED_BLOCK]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[BatchSettingsError] = []
    for attribute in attrs.fields(cls):  # type: ignore[arg-type]
        name = attribute.name
        try:
            found = _given(attribute, arguments, blocks, environ, defaults or {})
            if found is None:
                if attribute.default is attrs.NOTHING:
                    raise BatchSettingsError(
                        name,
                        f"Batch setting '{name}' is required and was not given. "
                        f"{where_to_set(name, block_names)}",
                    )
                continue
            values[name], sources[name] = found
            _checked(attribute, values[name])
            problems += _shadowed_problems(
                attribute, arguments, blocks, environ, sources[name], block_names
            )
        except BatchSettingsError as error:
            if name in sources:
                error = BatchSettingsError(
                    error.setting,
                    f"{error} (from {sources[name]}). "
                    f"{where_to_set(name, block_names)}",
                )
            problems.append(error)
    if problems:
        raise BatchSettingsError.combine(problems)
    try:
        return cls(**values)
    except BatchSettingsError as error:  # a rule between settings
        name = error.setting.split(".")[0]
        source = sources.get(name, "the default")
        raise BatchSettingsError(
            error.setting,
            f"{error} (from {source}). {where_to_set(name, block_names)}",
        ) from None
