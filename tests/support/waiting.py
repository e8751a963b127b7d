"""Every wait of the tests: bounded, polling, and failing with what it waited for.

``poll_until`` says whether a condition came true in time (for callers that
fail their own way, such as the SLURM cluster's start); ``wait_until`` fails
the test when it did not, or as soon as the driver it waits on exited;
``final_status`` waits for a job of an engine to finish.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

from kedro_pipelinename.batch.engine import Engine, JobStatus

#: The bound of a wait that gives none (seconds): a ``kedro run`` in a
#: subprocess, its jobs and servers, on a loaded 2-core machine.
DEADLINE = 120.0
#: How long a wait sleeps between two looks (seconds).
INTERVAL = 0.05


def poll_until(
    condition: Callable[[], object],
    *,
    timeout: float = DEADLINE,
    interval: float = INTERVAL,
) -> bool:
    """Whether ``condition()`` held within ``timeout`` seconds (looked at every
    ``interval`` seconds, and once more at the end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # bounded by timeout
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def wait_until(
    condition: Callable[[], object],
    what: str,
    driver: subprocess.Popen[str] | None = None,
    *,
    timeout: float = DEADLINE,
    interval: float = INTERVAL,
) -> None:
    """Return once ``condition()`` holds.

    Raises:
        AssertionError: Naming ``what``, after ``timeout`` seconds, or as soon
            as ``driver`` (the process that should bring it about) exited.
    """

    held = False

    def held_or_driver_gone() -> bool:
        nonlocal held
        held = bool(condition())
        return held or (driver is not None and driver.poll() is not None)

    poll_until(held_or_driver_gone, timeout=timeout, interval=interval)
    if held:
        return
    if driver is not None and driver.poll() is not None:
        raise AssertionError(f"the driver exited {driver.returncode} before {what}")
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def final_status(
    engine: Engine, job_id: str, *, timeout: float = DEADLINE
) -> JobStatus:
    """The status job ``job_id`` finished with, polled through ``engine``."""
    status = JobStatus.RUNNING

    def finished() -> bool:
        nonlocal status
        status = engine.poll([job_id])[job_id].status
        return status.finished

    wait_until(finished, f"job {job_id} to finish", timeout=timeout)
    return status
