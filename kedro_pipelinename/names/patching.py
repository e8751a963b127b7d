"""The undo log: every attribute we replace, and exactly what it replaced.

Modelled on gevent's ``monkey._state`` and freezegun's undo list: ``patch`` records
``(owner, name, original)`` where ``original`` is the raw entry of
``owner.__dict__`` (so a ``staticmethod`` or ``property`` comes back as itself, and
an attribute that was only inherited is deleted again rather than copied down).
``restore_all`` replays the log in reverse and puts an original back only where our
replacement is still in place: if someone wrapped on top of us, removing ours would
silently drop theirs, so we warn and leave it.
"""

from __future__ import annotations

import inspect
import threading
import warnings
from typing import Any, Final, NamedTuple

from .logs import logger_for

logger = logger_for(__name__)


class _Absent:
    """Marks an attribute that the owner did not define itself before we patched."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final = _Absent()


class PatchRecord(NamedTuple):
    """One replaced attribute: where it lives, what was there, what we put there."""

    owner: type
    name: str
    original: object
    replacement: object


class UndoLog:
    """An ordered, thread-safe record of patches that can be undone exactly."""

    def __init__(self) -> None:
        self._records: list[PatchRecord] = []
        self._lock = threading.RLock()

    @property
    def active(self) -> bool:
        """Whether any patch is recorded (our wrappers call straight through if not)."""
        return bool(self._records)

    def patch(self, owner: type, name: str, replacement: object) -> None:
        """Replace ``owner.name`` with ``replacement`` and record what was there."""
        with self._lock:
            original = owner.__dict__.get(name, ABSENT)
            setattr(owner, name, replacement)
            self._records.append(PatchRecord(owner, name, original, replacement))

    def restore_all(self) -> list[PatchRecord]:
        """Undo every patch, newest first.

        Returns:
            The records that could not be undone because something else now sits
            where our replacement was; each one has been warned about.
        """
        with self._lock:
            left: list[PatchRecord] = []
            for record in reversed(self._records):
                current = record.owner.__dict__.get(record.name, ABSENT)
                if current is not record.replacement:
                    left.append(record)
                    warnings.warn(
                        f"kedro_pipelinename: not restoring "
                        f"{record.owner.__qualname__}.{record.name}: it was replaced "
                        f"again after we patched it (now {current!r}); leaving it "
                        f"in place so the other patch keeps working. Our wrapper "
                        f"underneath now calls straight through.",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                    continue
                if record.original is ABSENT:
                    delattr(record.owner, record.name)
                else:
                    setattr(record.owner, record.name, record.original)
            self._records.clear()
            return left

    def is_patched(self, owner: type, name: str) -> bool:
        """Whether ``owner.name`` is currently one of our replacements."""
        with self._lock:
            return any(
                r.owner is owner
                and r.name == name
                and owner.__dict__.get(name, ABSENT) is r.replacement
                for r in self._records
            )

    def original(self, owner: type, name: str) -> Any:
        """The raw object that ``owner.name`` held before we patched it.

        Raises:
            KeyError: When we did not patch ``owner.name``.
        """
        with self._lock:
            for record in self._records:
                if record.owner is owner and record.name == name:
                    return record.original
        raise KeyError(f"{owner.__qualname__}.{name} is not patched")


PATCHES: Final = UndoLog()


def bind_call(
    signature: inspect.Signature, *args: Any, **kwargs: Any
) -> inspect.BoundArguments | None:
    """The arguments of a call to a patched Kedro method, or ``None``.

    ``None`` when the patches are not active or the call does not fit the
    signature: the wrapper then calls straight through, and Kedro reports a bad
    call in its own words.
    """
    if not PATCHES.active:
        return None
    try:
        return signature.bind(*args, **kwargs)
    except TypeError:
        return None
