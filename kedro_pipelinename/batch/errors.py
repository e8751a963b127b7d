"""The errors of the batch runners: each says what is wrong, where, and what to do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click
from attrs import define, field


def to_str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    """``values`` as a tuple (the converter of every name list in this package)."""
    return tuple(values)


class BatchError(click.ClickException):
    """Base class of every error raised by the batch runners.

    A ``click.ClickException``: under ``kedro run`` (and ``kedro batch``) click
    prints it as one ``Error: <message>`` block and exits 1, instead of the 70
    to 200 lines of traceback an uncaught error gets, where the message, which
    already says what failed, where and what to do next, was the last line.
    Kedro's ``on_pipeline_error`` hooks still see it; from Python it is an
    ordinary exception (``str(error)`` is the message).
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class BatchSettingsError(BatchError, ValueError):
    """A batch setting is missing or invalid; nothing was submitted.

    Attributes:
        setting: The name of the (first) offending setting.
        problems: Every problem found, one message each.
    """

    def __init__(
        self, setting: str, message: str, *, problems: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.setting = setting
        #: One message per problem; a single problem's is the message itself.
        self.problems = tuple(problems) or (message,)

    @classmethod
    def combine(cls, errors: Sequence[BatchSettingsError]) -> BatchSettingsError:
        """One error listing every problem of ``errors`` (the first names the
        setting)."""
        if len(errors) == 1:
            return errors[0]
        problems = [problem for error in errors for problem in error.problems]
        lines = "\n".join(f"  - {problem}" for problem in problems)
        return cls(
            errors[0].setting,
            f"{len(problems)} problems with the batch settings; nothing was "
            f"submitted:\n{lines}",
            problems=problems,
        )


class EngineUnavailable(BatchError):
    """The engine could not be asked right now (an outage, a timeout, throttling).

    An engine raises it from ``poll`` (or ``find_jobs``) once its own retries are
    spent; the driver then keeps the jobs' last known states, warns and asks
    again later. It says nothing about the jobs themselves: only a job's own
    failed state fails a run.
    """


class RunCancelled(BatchError):
    """The run was stopped from outside (``kedro batch cancel``); its unfinished
    jobs were cancelled."""


class PreflightError(BatchError, ValueError):
    """A pre-flight check failed; nothing was submitted.

    Attributes:
        problems: One line per problem found (every problem, not just the first).
    """

    def __init__(self, summary: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{summary}\n{lines}" if lines else summary)


@define(frozen=True, kw_only=True)
class JobFailure:
    """Why one job failed, as its backend reported it.

    Attributes:
        job: The job name.
        nodes: The Kedro nodes the job ran.
        reason: The backend's status reason (AWS Batch ``statusReason``).
        detail: More detail: the container's reason, or a local job's last lines.
        exit_code: The exit code of the job's process, if it exited.
        log_location: Where the job's output is (a CloudWatch stream, a file).
        caused_by_dependency: ``True`` when the job failed only because a job it
            depends on failed.
    """

    job: str
    nodes: tuple[str, ...] = field(converter=to_str_tuple)
    reason: str | None = None
    detail: str | None = None
    exit_code: int | None = None
    log_location: str | None = None
    caused_by_dependency: bool = False

    def describe(self) -> str:
        """One readable paragraph about the failure."""
        parts = [f"Job '{self.job}' (nodes: {', '.join(self.nodes)}) failed"]
        if self.reason:
            parts.append(f"reason: {self.reason}")
        if self.detail:
            parts.append(f"detail: {self.detail}")
        parts.append(
            "exit code: unknown"
            if self.exit_code is None
            else f"exit code: {self.exit_code}"
        )
        parts.append(f"logs: {self.log_location or 'unknown'}")
        return "; ".join(parts)


class BatchJobError(BatchError, RuntimeError):
    """One or more jobs of the run failed.

    Attributes:
        failures: Every failed job; those that failed on their own come first.
        resume_command: The shell line that resumes the run, when one was built.
    """

    def __init__(
        self, failures: Sequence[JobFailure], resume_command: str | None
    ) -> None:
        self.failures = tuple(
            sorted(failures, key=lambda failure: failure.caused_by_dependency)
        )
        self.resume_command = resume_command
        own = [f for f in self.failures if not f.caused_by_dependency]
        dependent = [f.job for f in self.failures if f.caused_by_dependency]
        lines = [failure.describe() for failure in own or self.failures]
        if own and dependent:
            lines.append(
                f"{len(dependent)} job(s) failed because a job they depend on "
                f"failed: {', '.join(dependent)}"
            )
        if resume_command:
            lines.append(f"To resume the run: {resume_command}")
        super().__init__("\n".join(lines))
