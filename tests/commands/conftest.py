"""Fixtures of the ``kedro batch`` tests; their project and helpers are
``tests/support/commands_project.py``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.cli import cli_env


@pytest.fixture
def start_driver() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts ``kedro ARGS`` in the background; kills what is left (by pid) after."""
    started: list[subprocess.Popen[str]] = []

    def start(
        project: Path, *args: str, env: Mapping[str, str]
    ) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "kedro", *args],
            cwd=project,
            env=cli_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)
