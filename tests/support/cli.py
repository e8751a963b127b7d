"""The real ``kedro`` CLI in a subprocess, and the options of the installed one.

Every subprocess is bounded and quiet (no telemetry, no wrapping); on an
unexpected exit code the test fails with the command's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Every ``kedro`` subprocess is bounded; a hung run fails the test, not CI.
CLI_TIMEOUT_SECONDS = 180


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a ``kedro`` subprocess: quiet, offline, no telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "DO_NOT_TRACK": "1",
            "KEDRO_DISABLE_TELEMETRY": "true",
            "PYTHONUNBUFFERED": "1",
            # Rich's wrapping would cut long log lines that tests read.
            "COLUMNS": "250",
            "TERM": "dumb",
        }
    )
    env.pop("KEDRO_PIPELINENAME_DISABLE", None)
    env.update(extra or {})
    return env


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = CLI_TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd``; on an unexpected exit code, fail with its output."""
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def kedro_cli(
    project: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = CLI_TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run ``kedro ARGS`` in ``project`` with this interpreter's Kedro."""
    return run_command(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        env=env,
        check=check,
        timeout=timeout,
    )


# --- the installed ``kedro run`` ------------------------------------------------
# Found by asking the installed CLI, never by comparing versions: Kedro 1.2 added
# ``--pipelines`` (0.19.15 to 1.1 only know ``--pipeline``), 1.0 ``--namespaces``.


def run_flags() -> set[str]:
    """Every option spelling of the installed Kedro's ``kedro run``."""
    from kedro.framework.cli.project import run

    return {flag for parameter in run.params for flag in parameter.opts}


def run_options() -> dict[str, str]:
    """The long flags of the installed ``kedro run``, by parameter name."""
    from kedro.framework.cli.project import run

    return {
        parameter.name: next(opt for opt in parameter.opts if opt.startswith("--"))
        for parameter in run.params
        if parameter.name
    }


def pipelines_flag() -> str:
    """``--pipelines`` on Kedro 1.2+, ``--pipeline`` before."""
    return "--pipelines" if "--pipelines" in run_flags() else "--pipeline"


def pipelines_option(name: str) -> list[str]:
    """``--pipelines NAME`` where ``kedro run`` has it, else ``--pipeline NAME``."""
    return [pipelines_flag(), name]
