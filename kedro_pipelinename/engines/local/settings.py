"""Settings only the local engine uses (resolved like ``BatchSettings``)."""

from __future__ import annotations

from typing import Any

import attrs
from attrs import define

from ...batch.kit import BatchSettingsError, check_int, check_positive_number, setting


def _check_log_dir(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BatchSettingsError(
            attribute.name,
            f"Batch setting '{attribute.name}' must be a directory path; got "
            f"{value!r}.",
        )


@define(frozen=True, kw_only=True)
class LocalBatchSettings:
    """Settings only the local engine uses (resolved like ``BatchSettings``).

    Attributes:
        log_dir: Where each run's job logs go (a ``<run id>`` directory is made
            in it); relative paths are relative to the project. Default
            ``logs/local_batch``.
        terminate_timeout: Seconds a terminated job's process group has to exit
            after SIGTERM before it gets SIGKILL.
        tail_lines: How many last lines of a failed job's log the error shows.
        job_memory: Megabytes one job needs (default 100: a Kedro job of a
            small pipeline takes 70-90 MB); with the memory available, it caps
            how many jobs run at once (``machine_parallelism``).

    Example:
        >>> LocalBatchSettings(tail_lines=5).terminate_timeout
        5.0
    """

    log_dir: str | None = setting(None, validator=_check_log_dir)
    terminate_timeout: float = setting(
        5.0, validator=check_positive_number(), parse="float"
    )
    tail_lines: int = setting(20, validator=check_int(1, optional=False), parse="int")
    job_memory: float = setting(100.0, validator=check_positive_number(), parse="float")
