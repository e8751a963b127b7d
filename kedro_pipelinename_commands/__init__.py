"""The ``kedro batch`` entry point and its one click group, importable without
patching Kedro.

Kedro loads every ``kedro.project_commands`` entry point for every ``kedro``
command in a project, ``kedro run`` and ``kedro --help`` included. Importing
anything under ``kedro_pipelinename`` runs its ``install()``, so an entry point
there would patch Kedro in projects that never added the one line to
``settings.py``. This module stands in front: it is the ``batch`` group, lists
its commands from ``_COMMANDS`` (so ``kedro batch --help`` imports nothing of
the package either), and imports ``kedro_pipelinename.commands.cli`` only when
a command is looked up to run or to show its own help (which needs the patch
anyway), and installs the patch in a process that a batch run started (see the
end of the module).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import click

_HELP: Final = (
    "Plan, follow, stop and resume batch runs (local processes, AWS Batch, SLURM "
    "and every installed engine)."
)

#: ``kedro batch``'s commands and the line ``kedro batch --help`` gives each;
#: each is the click command of the same name in ``kedro_pipelinename.commands.cli``.
_COMMANDS: Final = {
    "plan": "The jobs a `kedro run` with the same options would submit.",
    "runs": "Recent batch runs of this project, newest first.",
    "status": "The live state of every job of a run.",
    "cancel": "Stop every unfinished job of a run, from any terminal.",
    "resume": "Run a run's recorded command again with its run id.",
    "sandbox": "An AWS Batch on 127.0.0.1 that runs this project's jobs.",
    "child": "Run one child of an array job (what array jobs run).",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported when one is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        from kedro_pipelinename.commands import cli

        command: click.Command = getattr(cli, cmd_name)
        command.short_help = _COMMANDS[cmd_name]
        return command

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        # click's own would look every command up (importing the package).
        with formatter.section("Commands"):
            formatter.write_dl(list(_COMMANDS.items()))


@click.group(name="kedro-pipelinename")
def commands() -> None:
    """kedro-pipelinename's project commands."""


commands.add_command(_LazyGroup(name="batch", help=_HELP, short_help=_HELP))


#: A logging configuration that sends Kedro's logs to stderr, so that a
#: ``--json`` or ``--format`` document is all of stdout:
#: ``export KEDRO_LOGGING_CONFIG=$(python -c "import kedro_pipelinename_commands as
#: c; print(c.STDERR_LOGGING)")`` (docs/commands.md).
STDERR_LOGGING: Final = str(Path(__file__).with_name("stderr_logging.yml"))

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
