"""The driver's submit threads: a few daemon threads running ``engine.submit``.

Not ``concurrent.futures.ThreadPoolExecutor``: its threads are joined when the
interpreter exits, so a driver stopped by Ctrl-C while a submit hangs (a
SubmitJob whose answer never comes: botocore waits ``api_timeout``, 60 s)
would not exit until that call gave up. A stopped driver leaves such a submit
to the engine, whose ``cancel`` and ``close`` look for the jobs submits in
flight created (AWS Batch: by name, ``engines/aws/engine.py``), and exits.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

ArgumentT = TypeVar("ArgumentT")
ResultT = TypeVar("ResultT")

#: What a worker takes to stop.
_STOP = None


class SubmitPool(Generic[ArgumentT, ResultT]):
    """Calls ``function`` on ``width`` daemon threads, started on first use.

    Args:
        function: What each call runs (``engine.submit``).
        width: How many calls may run at once.

    Example:
        >>> pool = SubmitPool(str.upper, width=2)
        >>> pool.call("a").result()
        'A'
        >>> pool.stop()
    """

    def __init__(self, function: Callable[[ArgumentT], ResultT], width: int) -> None:
        self._function = function
        self._width = width
        self._calls: queue.SimpleQueue[tuple[Future[ResultT], ArgumentT] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []

    def call(self, argument: ArgumentT) -> Future[ResultT]:
        """Queue one call; its future (cancel it to drop it before it starts)."""
        if len(self._threads) < self._width:
            thread = threading.Thread(
                target=self._work,
                name=f"kedro-batch-submit-{len(self._threads)}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        future: Future[ResultT] = Future()
        self._calls.put((future, argument))
        return future

    def stop(self) -> None:
        """Let the threads end once the calls queued before are done or
        dropped; returns at once (a thread in a hung call ends with it, or
        with the process)."""
        for _ in self._threads:
            self._calls.put(_STOP)

    def _work(self) -> None:
        # Bounded by the queue: each item is one call, and stop() puts one
        # _STOP per thread.
        while True:
            item = self._calls.get()
            if item is _STOP:
                return
            future, argument = item
            if not future.set_running_or_notify_cancel():
                continue  # cancelled before it started
            try:
                result = self._function(argument)
            except BaseException as error:  # handed to the driver's thread
                future.set_exception(error)
            else:
                future.set_result(result)
