"""Every wait of the tests: bounded, polling, and failing with what it waited for.

``poll_until`` says whether a condition came true in time (for callers that
fail their own way, such as the SLURM cluster's start); ``wait_until`` fails
the test when it did not, or as soon as the driver it waits on exited.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

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

    def held_or_driver_gone() -> bool:
        return bool(condition()) or (driver is not None and driver.poll() is not None)

    held = poll_until(held_or_driver_gone, timeout=timeout, interval=interval)
    if held and condition():
        return
    if driver is not None and driver.poll() is not None:
        raise AssertionError(f"the driver exited {driver.returncode} before {what}")
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
