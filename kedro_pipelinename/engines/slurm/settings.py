"""Settings only the SLURM engine uses, checked before anything is submitted.

They are resolved like the shared ``BatchSettings`` (runner arguments, then the
``slurm_batch:`` or ``batch:`` parameters block, then ``KEDRO_BATCH_*``). Every
one is optional: with none, jobs go to the cluster's default partition with its
default resources, and the SLURM commands are found on ``PATH``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import attrs
from attrs import define

from ...batch.kit import (
    check_int,
    check_non_negative_number,
    check_str,
    invalid,
    setting,
)

#: SLURM's ``--time`` formats: ``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``,
#: ``D-H:M:S``, or ``UNLIMITED`` / ``INFINITE``.
_TIME_LIMIT: Final = re.compile(
    r"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$"
)
#: SLURM's ``--mem``: a number with an optional unit K, M, G or T (default M).
_MEMORY: Final = re.compile(r"^\d+[KMGT]?$")
#: The resources a job asks for, each an ``sbatch`` option.
RESOURCE_OPTIONS: Final[Mapping[str, str]] = {
    "partition": "--partition",
    "account": "--account",
    "qos": "--qos",
    "time_limit": "--time",
    "cpus_per_task": "--cpus-per-task",
    "memory": "--mem",
    "gres": "--gres",
    "constraint": "--constraint",
}


def _one_line_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"must be a non-empty string; got {value!r}"
    if "\n" in value or "\r" in value or "\0" in value:
        return f"must be one line; got {value!r}"
    return None


def _resource_problem(name: str, value: object) -> str | None:
    """Why ``value`` is no valid ``name`` resource, or ``None``."""
    if name == "cpus_per_task":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return f"must be an integer of at least 1; got {value!r}"
        return None
    problem = _one_line_problem(value)
    if problem:
        return problem
    if name == "time_limit" and not _TIME_LIMIT.match(str(value)):
        return (
            f"must be a SLURM time limit (minutes, 'H:M:S', 'D-H:M:S' or "
            f"'UNLIMITED'); got {value!r}"
        )
    if name == "memory" and not _MEMORY.match(str(value)):
        return f"must be a size such as 4096, 4G or 512M; got {value!r}"
    return None


def _check_resource(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is None:
        return
    problem = _resource_problem(attribute.name, value)
    if problem:
        raise invalid(attribute.name, problem + ".")


def _to_resources_by_key(value: Any) -> Any:
    """``{ns: {cpus_per_task: "2"}}`` -> ints where SLURM wants integers (a
    ``KEDRO_BATCH_*`` JSON value or ``--runner-params`` may give strings)."""
    if not isinstance(value, Mapping):
        return value
    converted: dict[str, Any] = {}
    for key, resources in value.items():
        if isinstance(resources, Mapping):
            resources = dict(resources)
            cpus = resources.get("cpus_per_task")
            if isinstance(cpus, str) and cpus.strip().isdigit():
                resources["cpus_per_task"] = int(cpus)
        converted[key] = resources
    return converted


def _check_resources_by_key(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, Mapping):
        raise invalid(
            attribute.name,
            f"must be a mapping such as {{train: {{cpus_per_task: 4, memory: 8G}}}}; "
            f"got {value!r}.",
        )
    problems = []
    for key, resources in value.items():
        if not isinstance(resources, Mapping):
            problems.append(f"{key!r} must be a mapping of resources")
            continue
        for name, amount in resources.items():
            if name not in RESOURCE_OPTIONS:
                problems.append(
                    f"{key}.{name} is no resource; use {', '.join(RESOURCE_OPTIONS)}"
                )
                continue
            problem = _resource_problem(name, amount)
            if problem:
                problems.append(f"{key}.{name} {problem}")
    if problems:
        raise invalid(attribute.name, "; ".join(problems) + ".")


def _to_lines(value: Any) -> Any:
    """A string or a list of strings -> a tuple of lines."""
    if isinstance(value, str):
        return tuple(line for line in value.splitlines() if line.strip())
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _check_directives(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, tuple):
        raise invalid(
            attribute.name,
            f"must be a list of sbatch options such as ['--mail-type=END']; got "
            f"{value!r}.",
        )
    for directive in value:
        problem = _one_line_problem(directive)
        if problem is None and not str(directive).startswith("-"):
            problem = f"must be an sbatch option starting with '-'; got {directive!r}"
        if problem:
            raise invalid(attribute.name, f"entry {problem}.")


def _check_preamble(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, tuple) or not all(isinstance(x, str) for x in value):
        raise invalid(
            attribute.name,
            f"must be shell lines (a string or a list of strings) such as "
            f"['module load python', 'source venv/bin/activate']; got {value!r}.",
        )


@define(frozen=True, kw_only=True)
class SlurmBatchSettings:
    """Settings only SLURM uses; none is required.

    Attributes:
        bin_dir: The directory of ``sbatch``, ``squeue``, ``scancel`` and
            ``sacct``; default: found on ``PATH``.
        partition: ``--partition``; default: the cluster's default partition.
        account: ``--account``.
        qos: ``--qos``.
        time_limit: ``--time`` (``30``, ``2:00:00``, ``1-12:00:00``).
        cpus_per_task: ``--cpus-per-task``.
        memory: ``--mem`` (``4096``, ``4G``).
        gres: ``--gres`` (``gpu:1``).
        constraint: ``--constraint``.
        resources_by_namespace: Resources (the eight names above) per namespace
            (job group), over the defaults.
        resources_by_tag: Resources per node tag, applied after the namespace's,
            in tag order.
        extra_directives: More ``sbatch`` options, written as ``#SBATCH`` lines
            of every job script (``--mail-type=END``).
        script_preamble: Shell lines every job script runs before the job's
            command (``module load python/3.11``, ``source venv/bin/activate``).
        log_dir: Where each run's scripts, outputs and exit files go (a
            ``<run id>`` directory is made in it), on a file system the compute
            nodes share; relative paths are relative to the project. Default
            ``logs/slurm_batch``.
        tail_lines: How many last lines of a failed job's output the error shows.
        cancel_timeout: Seconds ``cancel`` waits for cancelled jobs to end
            (SLURM sends SIGTERM, then SIGKILL after its ``KillWait``); 0: do
            not wait.

    Example:
        >>> SlurmBatchSettings(partition="gpu", gres="gpu:1").memory is None
        True
    """

    bin_dir: str | None = setting(None, validator=check_str(optional=True))
    partition: str | None = setting(None, validator=_check_resource)
    account: str | None = setting(None, validator=_check_resource)
    qos: str | None = setting(None, validator=_check_resource)
    time_limit: str | None = setting(None, validator=_check_resource)
    cpus_per_task: int | None = setting(None, validator=_check_resource, parse="int")
    memory: str | None = setting(None, validator=_check_resource)
    gres: str | None = setting(None, validator=_check_resource)
    constraint: str | None = setting(None, validator=_check_resource)
    resources_by_namespace: Mapping[str, Mapping[str, Any]] = setting(
        factory=dict,
        validator=_check_resources_by_key,
        converter=_to_resources_by_key,
        parse="json",
    )
    resources_by_tag: Mapping[str, Mapping[str, Any]] = setting(
        factory=dict,
        validator=_check_resources_by_key,
        converter=_to_resources_by_key,
        parse="json",
    )
    extra_directives: tuple[str, ...] = setting(
        (), validator=_check_directives, converter=_to_lines, parse="json"
    )
    script_preamble: tuple[str, ...] = setting(
        (), validator=_check_preamble, converter=_to_lines
    )
    log_dir: str | None = setting(None, validator=check_str(optional=True))
    tail_lines: int = setting(20, validator=check_int(1, optional=False), parse="int")
    cancel_timeout: float = setting(
        10.0, validator=check_non_negative_number, parse="float"
    )

    def resources(self) -> dict[str, Any]:
        """The default resources that are set, by name."""
        return {
            name: getattr(self, name)
            for name in RESOURCE_OPTIONS
            if getattr(self, name) is not None
        }
