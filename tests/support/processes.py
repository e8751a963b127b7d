"""Processes the tests started, seen through psutil: alive, their trees, groups.

A zombie (exited, not reaped yet) is not alive: a killed job's processes are
zombies until their parent or init reaps them.
"""

from __future__ import annotations

import os

import psutil

from .waiting import poll_until


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() not in (
            psutil.STATUS_ZOMBIE,
            psutil.STATUS_DEAD,
        )
    except psutil.Error:
        return False


def descendants(pid: int) -> set[int]:
    """The pids of every live process below ``pid`` in the process tree."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return set()
    return {child.pid for child in children if is_alive(child.pid)}


def group_exists(pgid: int) -> bool:
    """Whether process group ``pgid`` has a member (a zombie counts)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def group_gone(pgid: int, *, timeout: float = 10.0) -> bool:
    """Whether process group ``pgid`` is gone within ``timeout`` seconds (the
    members of a killed group are zombies until init reaps them)."""
    return poll_until(lambda: not group_exists(pgid), timeout=timeout)


def eventually_dead(pid: int, *, timeout: float = 10.0) -> bool:
    """Whether process ``pid`` is dead (or a zombie) within ``timeout`` seconds."""
    return poll_until(lambda: not is_alive(pid), timeout=timeout)
