"""Loading plug-ins from an entry-point group: engines (``engines.py``) and run
trackers (``trackers.py``) both come from the installed packages' metadata."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ..names.logs import logger_for

logger = logger_for(__name__)


def registered(group: str) -> list[EntryPoint]:
    """The entry points of ``group``, by name (a stable order for messages)."""
    return sorted(entry_points(group=group), key=lambda e: e.name)


def loaded(points: Iterable[EntryPoint], kind: str) -> Iterator[tuple[EntryPoint, Any]]:
    """Each entry point with what it loads.

    One that cannot be loaded is logged (``kind`` names it: "Batch engine") and
    left out: one broken plug-in must not stop runs that use the others.
    """
    for entry_point in points:
        try:
            plugin = entry_point.load()
        except Exception:  # any error of a third party's import
            logger.warning(
                "%s %r (%s) could not be loaded; it is left out.",
                kind,
                entry_point.name,
                entry_point.value,
                exc_info=True,
            )
            continue
        yield entry_point, plugin
