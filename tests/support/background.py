"""A ``kedro run`` driver in the background, for tests that signal or kill it.

The driver gets its own process group (the test cleans up whatever a failure
leaves, by that group's id) and Ctrl-C as a terminal gives it, even when this
pytest was started in the background by a non-interactive shell (which starts
it with SIGINT ignored, and a child inherits that).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .cli import cli_env
from .waiting import DEADLINE


def _ctrl_c_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def background_driver(
    argv: Sequence[str], *, cwd: Path, log: Path, env: Mapping[str, str]
) -> Iterator[subprocess.Popen[str]]:
    """``argv`` running in ``cwd``, its output in ``log``; killed (its whole
    group, by its id) and reaped when the block ends."""
    with log.open("w") as output:
        driver = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=cli_env(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        try:
            yield driver
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(timeout=DEADLINE)


def printed_resume_command(output: str) -> tuple[list[str], dict[str, str]]:
    """The resume command a driver printed, as argv for this interpreter's
    ``kedro``, and the variables set before it."""
    match = re.search(
        r"((?:[A-Z_]+=\S+ )*KEDRO_PIPELINENAME_RUN_ID=\S+ kedro run [^\n]*)", output
    )
    assert match is not None, output[-3000:]
    words = shlex.split(match.group(1))
    env = {}
    # Bounded by the words; the command's own start ("kedro") ends the variables.
    while "=" in words[0] and not words[0].startswith("-"):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[0] == "kedro", words
    return [sys.executable, "-m", "kedro", *words[1:]], env
