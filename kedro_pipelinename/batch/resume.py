"""The command that resumes a run: built once, stored in its record, shown and run.

The first driver builds it (``runner.py``): the run's own ``kedro run`` (its
pipelines, node filters, env, conf source, ``--params``, load versions, runner
and runner arguments) and its ``KEDRO_BATCH_*`` variables, secrets replaced by
``${NAME}`` references (``relaunch/redaction.py``). The logged hint is ``shell_line`` of
the stored command; ``kedro batch resume`` runs ``resolve`` of it: the
references filled in from its own environment, refused in one line when one is
not set.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Mapping

from ..relaunch.redaction import expand_references, references_in, shell_quote
from ..run.run_id import RUN_ID_ENV_VAR
from .errors import BatchError
from .record_model import ResumeCommand


class MissingVariables(BatchError):
    """The resume command refers to variables that are not set."""


def shell_line(command: ResumeCommand, run_id: str) -> str:
    """``[NAME=value ...] KEDRO_PIPELINENAME_RUN_ID=<run id> kedro run ...``.

    Secret values are ``"${NAME}"`` references that the user's shell fills in.
    """
    assignments = [
        f"{name}={shell_quote(value)}"
        for name, value in sorted(command.env.items())
        if name != RUN_ID_ENV_VAR
    ]
    assignments.append(f"{RUN_ID_ENV_VAR}={shlex.quote(run_id)}")
    return " ".join([*assignments, *(shell_quote(word) for word in command.argv)])


def missing_variables(command: ResumeCommand, environ: Mapping[str, str]) -> list[str]:
    """The referenced variables ``environ`` lacks, sorted."""
    words = [*command.argv, *command.env.values()]
    return sorted(
        {name for word in words for name in references_in(word) if name not in environ}
    )


def resolve(
    command: ResumeCommand, run_id: str, environ: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run ``command``, references filled in.

    A ``kedro`` program becomes this interpreter's ``-m kedro`` (a ``kedro`` on
    ``PATH`` may be another environment's).

    Raises:
        MissingVariables: Naming every referenced variable that is not set.
    """
    missing = missing_variables(command, environ)
    if missing:
        raise MissingVariables(
            f"The resume command of run {run_id} refers to {', '.join(missing)}, "
            f"which {'is' if len(missing) == 1 else 'are'} not set (secret values "
            f"are never recorded); export {'it' if len(missing) == 1 else 'them'} "
            f"with the value of the first run and try again."
        )
    argv = [expand_references(word, environ) for word in command.argv]
    if argv and argv[0] == "kedro":
        argv = [sys.executable, "-m", "kedro", *argv[1:]]
    elif argv:
        argv[0] = shutil.which(argv[0]) or argv[0]
    env = {
        **environ,
        **{
            name: expand_references(value, environ)
            for name, value in command.env.items()
        },
        RUN_ID_ENV_VAR: run_id,
    }
    return argv, env
