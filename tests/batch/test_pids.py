"""A live process told from a reused pid (``batch/pids.py``), on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from kedro_pipelinename.batch.pids import is_running, process_start
from tests.support.processes import is_alive
from tests.support.waiting import wait_until


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A child process that sleeps until the test ends."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait(timeout=60)


def test_a_live_process_with_its_start_time_is_running(
    child: subprocess.Popen[bytes],
) -> None:
    start = process_start(child.pid)

    assert start is not None
    assert is_running(child.pid, start) is True
    assert process_start(child.pid) == start  # the same on every reading


def test_a_live_pid_with_another_process_start_time_is_not_running(
    child: subprocess.Popen[bytes],
) -> None:
    # What a reused pid looks like: the pid runs, but the process recorded under
    # it started at another time (here: this test's process started earlier).
    recorded = process_start(os.getpid())

    assert recorded is not None and recorded != process_start(child.pid)
    assert is_running(child.pid, recorded) is False


def test_an_exited_process_is_not_running_zombie_or_reaped(
    child: subprocess.Popen[bytes],
) -> None:
    start = process_start(child.pid)
    child.kill()
    wait_until(lambda: not is_alive(child.pid), "the child to exit")

    # Exited, not reaped yet: a zombie does not run.
    assert is_running(child.pid, start) is False
    child.wait(timeout=60)
    assert is_running(child.pid, start) is False
    assert process_start(child.pid) is None


def test_without_a_recorded_start_time_nothing_is_running() -> None:
    assert is_running(os.getpid(), None) is False
