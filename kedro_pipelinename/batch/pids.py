"""Telling a process that still runs from a pid the system gave to another one.

A pid is reused once its process ended; its start time tells the two apart. The
local engine records it for every job, and the lease and run record for the
driver, so that ``kedro batch cancel`` never signals a stranger. psutil reads
both on every platform it supports.

The start time is kept as seconds since boot, to psutil's 0.01 s: psutil's
``create_time()`` is wall-clock time on Linux and moves when NTP or an admin
sets the clock (psutil issue 2541), and a live driver must not look gone to the
next process that checks; ``create_time() - boot_time()`` does not move.
"""

from __future__ import annotations

import psutil


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (seconds since boot), or ``None`` if none runs."""
    try:
        # boot_time() first: psutil before 7.0.1 adds the boot time it cached at
        # the last boot_time() call, so both numbers come from one reading.
        boot = psutil.boot_time()
        started = psutil.Process(pid).create_time()
    except psutil.Error:
        return None
    return f"{started - boot:.2f}"


def is_running(pid: int, start: str | None) -> bool:
    """Whether the process ``pid`` that started at ``start`` still runs.

    A zombie (exited, not reaped yet) does not run. Without a recorded start
    time nobody can tell a reused pid apart, so the answer is ``False``: callers
    then never signal it.
    """
    if start is None:
        return False
    try:
        if psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
    except psutil.Error:
        return False
    return process_start(pid) == start
