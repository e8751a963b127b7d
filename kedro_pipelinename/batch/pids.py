"""Telling a process that still runs from a pid the system gave to another one.

A pid is reused once its process ended; the start time (Linux ``/proc``) is what
tells the two apart. The local engine records it for every job, and the run record
for its driver, so that ``kedro batch cancel`` never signals a stranger.
"""

from __future__ import annotations

from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3+ of ``/proc/<pid>/stat`` (after the parenthesised command name)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (Linux ``/proc``), to tell it from a reused pid."""
    fields = _stat_fields(pid)
    # Field 22 of stat(5) is starttime.
    return fields[19] if fields else None


def is_running(pid: int, start: str | None) -> bool:
    """Whether the process ``pid`` that started at ``start`` still runs.

    A zombie (exited, not reaped yet) does not run. Without a recorded start time
    (no ``/proc``) nobody can tell a reused pid apart, so the answer is ``False``:
    callers then never signal it.
    """
    fields = _stat_fields(pid)
    if start is None or not fields:
        return False
    # Field 3 of stat(5) is the state; Z: zombie, X: dead.
    return fields[0] not in ("Z", "X") and fields[19] == start
