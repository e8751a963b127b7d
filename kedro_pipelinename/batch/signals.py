"""Ctrl-C and SIGTERM while the driver runs: stop at once, but let cleanup finish.

- The first signal while the driver loop runs stops it wherever it is (a long
  wait, a slow API call): ``SIGINT`` raises ``KeyboardInterrupt``, ``SIGTERM``
  (what CI systems and orchestrators send; Python would otherwise exit at once
  and leave every job running) ``SystemExit(143)``. The driver's error path then
  cancels every unfinished job and the runner logs the resume command.
- A signal while the driver cancels jobs does not cut the cancelling short
  (each job left would run on unseen, and on AWS Batch cost money): it says
  "Still cancelling N job(s); press Ctrl-C again to force exit and leave
  them". The next one lists the jobs left, with their engine ids, and raises
  ``ForcedExit``.

The handlers are installed only in the main thread (Python delivers signals
there only), and only over Python's own ``SIGINT`` handler and the default
``SIGTERM`` one: a handler a host program installed is left alone.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

from ..names.logs import logger_for

logger = logger_for(__name__)

#: What ``signal.getsignal`` returns (typeshed's private ``_HANDLER``).
Handler = Callable[[int, FrameType | None], Any] | int | None

#: The signals that stop a run, with the handler each may replace.
_STOPPING: dict[signal.Signals, Handler] = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
}


class ForcedExit(KeyboardInterrupt):
    """Ctrl-C pressed again while the driver cancelled jobs: it stopped
    cancelling; the jobs it lists may still run."""


def _stop(signal_number: int) -> BaseException:
    if signal_number == signal.SIGINT:
        return KeyboardInterrupt()
    # 128 + n: the exit status a shell reports for a process the signal killed.
    return SystemExit(128 + signal_number)


class Interrupts:
    """The driver's ``SIGINT`` / ``SIGTERM`` handling for one run.

    Args:
        label: The engine, as messages name it ("AWS Batch queue q").

    Example:
        >>> interrupts = Interrupts("local processes")
        >>> with interrupts.installed(), interrupts.cleaning(list, stopping=True):
        ...     pass  # cancel jobs here: Ctrl-C cannot cut this short
    """

    def __init__(self, label: str) -> None:
        self._label = label
        #: While cleaning: the jobs left to cancel, as "name (engine id)".
        self._left: Callable[[], Sequence[str]] | None = None
        self._presses = 0
        self._pending: int | None = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle the stopping signals in the block (see the module docstring)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        replaced: dict[signal.Signals, Handler] = {}
        for number, replaceable in _STOPPING.items():
            previous = signal.getsignal(number)
            if previous is replaceable:
                signal.signal(number, self._handle)
                replaced[number] = previous
        try:
            yield
        finally:
            for number, previous in replaced.items():
                signal.signal(number, previous)

    @contextlib.contextmanager
    def cleaning(
        self, left: Callable[[], Sequence[str]], *, stopping: bool
    ) -> Iterator[None]:
        """A block that cancels jobs: a signal in it does not interrupt it.

        Args:
            left: The jobs not cancelled yet, as "name (engine id)".
            stopping: Whether the run already stops (the driver's error path).
                If not (``fail_fast``, ``kedro batch cancel``), a signal that
                came in the block stops the run once the block is done.
        """
        outer = self._left
        self._left = left
        self._presses = 0
        self._pending = None
        try:
            yield
        finally:
            self._left = outer
        pending, self._pending = self._pending, None
        if pending is not None and not stopping:
            raise _stop(pending)

    def _handle(self, signal_number: int, frame: FrameType | None) -> None:
        if self._left is None:
            raise _stop(signal_number)
        self._pending = signal_number
        self._presses += 1
        left = list(self._left())
        if self._presses == 1:
            logger.warning(
                "Still cancelling %d job(s); press Ctrl-C again to force exit and "
                "leave them.",
                len(left),
            )
            return
        logger.error(
            "Forced exit: cancelling stopped; %d job(s) may still run in %s. "
            "Cancel them there: %s",
            len(left),
            self._label,
            ", ".join(left) or "none",
        )
        raise ForcedExit()
