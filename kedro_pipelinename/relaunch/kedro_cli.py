"""The installed Kedro's own ``kedro run`` click command, asked for its options.

Every flag the argv builders write is found here, by the parameter it fills,
never by comparing Kedro versions (1.2 added ``--pipelines``, 1.0 renamed
``--namespace`` to ``--namespaces``); every value is parsed back with the
option's own callback before it is used.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click


def run_command() -> click.Command:
    from kedro.framework.cli.project import run

    return run


def option_for(destination: str) -> click.Parameter | None:
    """The ``kedro run`` option that fills parameter ``destination``, or ``None``."""
    return options_of(run_command()).get(destination)


@functools.lru_cache(maxsize=4)
def options_of(command: click.Command) -> dict[str, click.Parameter]:
    """``command``'s options by destination, the first one where several share it.

    Cached per command object: a batch plan asks for the same few options once
    per job, and the installed ``kedro run`` does not change during a process.
    """
    options: dict[str, click.Parameter] = {}
    for parameter in command.params:
        if parameter.name is not None:
            options.setdefault(parameter.name, parameter)
    return options


def flag_of(option: click.Parameter) -> str:
    """The long spelling of ``option`` (``--nodes``), as the installed CLI has it."""
    long_flags = [opt for opt in option.opts if opt.startswith("--")]
    return str(long_flags[0] if long_flags else option.opts[0])


def parse_value(option: click.Parameter, value: str) -> Any:
    """``value`` as the installed ``kedro run`` reads it for ``option``.

    Raises:
        Exception: Whatever Kedro's callback raises for a value it rejects.
    """
    import click

    context = click.Context(run_command(), info_name="run")
    return option.process_value(context, value)


def has_option(destination: str) -> bool:
    return option_for(destination) is not None
