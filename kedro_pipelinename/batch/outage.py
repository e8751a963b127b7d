"""How the driver rides out an engine that cannot be asked: an outage is no failure.

An engine raises ``EngineUnavailable`` from ``poll`` or ``find_jobs`` once its
own retries are spent (AWS Batch: DescribeJobs answering 503, hanging, or
throttled). The jobs themselves run on: the driver keeps their last known
states and asks again later. ``Outage`` keeps the time since the engine last
answered, warns once when an outage starts and then about once a minute, and
gives up only after ``outage_timeout`` seconds without an answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..names.logs import logger_for
from .errors import EngineUnavailable
from .settings import where_to_set

logger = logger_for(__name__)

#: Seconds between two warnings of one outage: often enough to show the run is
#: alive, rarely enough not to bury the log of a 15-minute outage.
WARN_EVERY = 60.0


class Outage:
    """The engine's unanswered time, across poll rounds.

    Args:
        label: The engine, as messages name it.
        timeout: Seconds without an answer before the run stops.
        clock: Monotonic seconds (a test passes its own).

    Example:
        >>> outage = Outage("AWS Batch queue q", timeout=900.0)
        >>> outage.answered()  # nothing to say: there was no outage
    """

    def __init__(
        self,
        label: str,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._label = label
        self._timeout = timeout
        self._clock = clock
        self._since: float | None = None
        self._warned_at = 0.0
        self._tries = 0

    @property
    def ongoing(self) -> bool:
        """Whether the engine's last answer was ``EngineUnavailable``."""
        return self._since is not None

    def unanswered(self, error: EngineUnavailable, asking: str) -> None:
        """The engine could not answer ``asking`` (``"job states"``).

        Raises:
            EngineUnavailable: Once the engine has been unanswered for
                ``timeout`` seconds, naming the time, the last error and the
                setting that allows more; the driver's error path then cancels
                the run's jobs (best effort) and logs the resume command.
        """
        now = self._clock()
        self._tries += 1
        if self._since is None:
            self._since = self._warned_at = now
            logger.warning(
                "%s did not answer for %s (%s); the jobs keep their last known "
                "states and the driver asks again, for up to %g s.",
                self._label,
                asking,
                error,
                self._timeout,
            )
        elif now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "%s has not answered for %.0f s (%d tries; last: %s); still "
                "asking, for up to %g s in all.",
                self._label,
                now - self._since,
                self._tries,
                error,
                self._timeout,
            )
        if now - self._since >= self._timeout:
            raise EngineUnavailable(
                f"{self._label} did not answer for {asking} for "
                f"{now - self._since:.0f} s ({self._tries} tries; outage_timeout "
                f"is {self._timeout:g} s); last error: {error}. If the outage is "
                f"expected to last longer, raise outage_timeout. "
                f"{where_to_set('outage_timeout')}"
            ) from error

    def answered(self) -> None:
        """The engine answered: an ongoing outage is over."""
        if self._since is None:
            return
        logger.warning(
            "%s answers again after %.0f s (%d unanswered tries).",
            self._label,
            self._clock() - self._since,
            self._tries,
        )
        self._since = None
        self._tries = 0
