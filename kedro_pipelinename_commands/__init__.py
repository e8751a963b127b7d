"""The ``kedro batch`` entry point, importable without patching Kedro.

Kedro loads every ``kedro.project_commands`` entry point for every ``kedro``
command in a project, ``kedro run`` and ``kedro --help`` included. Importing
anything under ``kedro_pipelinename`` runs its ``install()``, so an entry point
there would patch Kedro in projects that never added the one line to
``settings.py``. This module stands in front: it names the ``batch`` group and
imports ``kedro_pipelinename.commands.cli`` only when a ``kedro batch`` command
is looked up (which needs the patch anyway), and installs the patch in a process
that a batch run started (see the end of the module).
"""

from __future__ import annotations

import os
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


# A ``kedro`` process started by a batch run (each job, and the printed resume
# command) carries the run's id in KEDRO_PIPELINENAME_RUN_ID: it belongs to a
# kedro-pipelinename run, so it gets the patch even when the project's
# settings.py lacks the one line (Kedro's own starters), or its outputs would be
# saved under a version of their own instead of the run's. Kedro loads this
# module for every project command, ``kedro run`` and ``python -m <package>``
# included, before the session starts. The variable's name is repeated here,
# not imported, because importing the package is what installs the patch.
if os.environ.get("KEDRO_PIPELINENAME_RUN_ID"):
    import kedro_pipelinename  # noqa: F401
