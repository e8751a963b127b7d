"""The ``kedro batch`` entry point, importable without patching Kedro.

Kedro loads every ``kedro.project_commands`` entry point for every ``kedro``
command in a project, ``kedro run`` and ``kedro --help`` included. Importing
anything under ``kedro_pipelinename`` runs its ``install()``, so an entry point
there would patch Kedro in projects that never added the one line to
``settings.py``. This module stands in front: it names the ``batch`` group and
imports ``kedro_pipelinename.commands.cli`` only when a ``kedro batch`` command
is looked up (which needs the patch anyway).
"""

from __future__ import annotations

from typing import Any

import click

_HELP = (
    "Plan, follow, stop and resume batch runs (local processes, AWS Batch, SLURM "
    "and every installed engine)."
)


class _BatchGroup(click.Group):
    """``kedro batch``, its subcommands loaded on first lookup."""

    def _real(self) -> click.Group:
        from kedro_pipelinename.commands.cli import batch

        return batch

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Any:
        return self._real().get_command(ctx, cmd_name)


@click.group(name="kedro-pipelinename")
def commands() -> None:
    """kedro-pipelinename's project commands."""


commands.add_command(_BatchGroup(name="batch", help=_HELP, short_help=_HELP))
