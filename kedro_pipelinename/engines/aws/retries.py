"""What an error from AWS Batch means, and the engine's own bounded retries.

botocore retries transient errors itself (its ``standard`` or ``adaptive``
mode), but for two things its retries are not enough:

- **SubmitJob has no client token**: a request whose response was lost may have
  created the job, and sending it again creates a second one. botocore's retry
  modes resend read timeouts, closed connections and 5xx answers blindly, and
  the handler that is meant to veto a retry cannot do so by returning ``False``
  before botocore 1.43.3 (older versions read any answer but ``None`` as "retry
  after that many seconds": ``False`` is "retry now"). So the veto raises, which
  every botocore version lets through, and the engine decides (``kind_of``).
- **A status outage is no job failure**: botocore's standard mode backs off from
  50 ms, so ten attempts fit in a few seconds of a longer outage. The engine
  retries a status read a few more times, with its own capped backoff, then
  raises ``EngineUnavailable``: the driver keeps the jobs' last states and asks
  again later.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from ...batch.kit import EngineUnavailable, logger_for

logger = logger_for(__name__)

T = TypeVar("T")

#: The error codes AWS uses for throttling (botocore's standard mode's list).
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)


#: The longest wait between two of the engine's own retries (botocore's cap).
MAX_RETRY_DELAY: Final = 20.0


def botocore_errors() -> tuple[type[Exception], ...]:
    """Every error a botocore client call raises for a failed request."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


class ErrorKind(enum.Enum):
    """What an error says about a request that may have changed something."""

    #: AWS refused it for the rate: nothing was done; send it again later.
    THROTTLED = "throttled"
    #: No connection was made: the request never reached AWS.
    NOT_SENT = "not sent"
    #: It may have reached AWS and been carried out: a lost response, a read
    #: timeout, a reset connection, a 5xx answer.
    UNKNOWN_OUTCOME = "unknown outcome"
    #: AWS refused it for what it asks (4xx): sending it again will not help.
    REJECTED = "rejected"


def _status_and_code(error: BaseException) -> tuple[int, str]:
    response: dict[str, Any] = getattr(error, "response", None) or {}
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status, str(response.get("Error", {}).get("Code") or "")


def kind_of(error: BaseException) -> ErrorKind:
    """What ``error`` (raised by a botocore client call) says about the request."""
    from botocore.exceptions import (
        ClientError,
        HTTPClientError,
        SSLError,
    )
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    if isinstance(error, ClientError):
        status, code = _status_and_code(error)
        if status == 429 or code in THROTTLING_CODES:
            return ErrorKind.THROTTLED
        if status >= 500 or status == 0:
            return ErrorKind.UNKNOWN_OUTCOME
        return ErrorKind.REJECTED
    if isinstance(error, BotocoreConnectionError) and not isinstance(error, SSLError):
        return ErrorKind.NOT_SENT
    if isinstance(error, (HTTPClientError, SSLError)):
        return ErrorKind.UNKNOWN_OUTCOME
    return ErrorKind.REJECTED


def is_transient(error: BaseException) -> bool:
    """Whether asking again later may succeed (throttling, outages, timeouts)."""
    return kind_of(error) is not ErrorKind.REJECTED


def backoff(attempt: int, *, first: float, cap: float) -> float:
    """The wait before retry ``attempt`` (1, 2, ...): ``first * 2**(attempt-1)``,
    at most ``cap``, with "equal jitter" (half fixed, half random) so that many
    drivers do not retry in step."""
    ceiling = min(cap, first * 2.0 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def call_with_retries(
    call: Callable[[], T],
    *,
    operation: str,
    where: str,
    attempts: int,
    first_delay: float,
    max_delay: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, retried on transient errors; then ``EngineUnavailable``.

    For reads only (DescribeJobs, ListJobs): a read may be asked again freely.

    Args:
        call: The client call.
        operation: Its name, for messages (``DescribeJobs``).
        where: What was asked, for messages (``AWS Batch queue q``).
        attempts: Calls in all (at least 1).
        first_delay: The first wait, doubled each retry.
        max_delay: The longest wait.
        sleep: How to wait (tests pass a fake one).

    Raises:
        EngineUnavailable: When every attempt failed transiently.
        Exception: The first error that is not transient, as raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:
            if not is_transient(error):
                raise
            if attempt == attempts:
                raise EngineUnavailable(
                    f"{operation} on {where} failed {attempts} time(s) in a row "
                    f"({type(error).__name__}: {error}); AWS Batch's API is "
                    f"unavailable or throttled right now. Jobs are not affected."
                ) from error
            delay = backoff(attempt, first=first_delay, cap=max_delay)
            logger.info(
                "%s on %s failed (%s); asking again in %.1f s (attempt %d of %d).",
                operation,
                where,
                type(error).__name__,
                delay,
                attempt + 1,
                attempts,
            )
            sleep(delay)
    raise AssertionError("unreachable: attempts >= 1")  # pragma: no cover


def stop_blind_submit_retries(client: Any) -> None:
    """Make botocore hand every SubmitJob error of unknown outcome to the engine.

    A ``needs-retry`` handler that runs first and, for an error after which the
    job may exist (a read timeout, a closed connection, a 5xx answer), *raises*
    that error instead of letting botocore resend the request. Throttling and
    failed connections (nothing was created) are still retried by botocore.
    """
    from botocore.exceptions import ClientError

    def no_blind_submit_retry(
        caught_exception: BaseException | None = None,
        response: Any = None,
        **kwargs: Any,
    ) -> None:
        if caught_exception is not None:
            if kind_of(caught_exception) is ErrorKind.UNKNOWN_OUTCOME:
                raise caught_exception
            return
        if response is None:
            return
        http_response, parsed = response
        if int(getattr(http_response, "status_code", 0)) >= 500:
            raise ClientError(parsed, "SubmitJob")

    client.meta.events.register_first(
        "needs-retry.batch.SubmitJob",
        no_blind_submit_retry,
        unique_id="kedro-pipelinename-no-blind-submit-retry",
    )
