"""What the driver tells an observer of the run: the hook for run records.

The driver calls a ``RunEvents`` as the run goes; ``kedro batch`` keeps its run
record (``logs/batch/<run id>/run.json``) this way, and a command in another
terminal can ask a live driver to stop through ``stop_requested``. The progress
display is separate (``progress.py``): it only gets counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from attrs import define

from .errors import JobFailure

if TYPE_CHECKING:
    from .engine import JobState
    from .plan import JobPlan


@define(frozen=True, kw_only=True)
class RunOutcome:
    """How a run ended.

    Attributes:
        succeeded: Names of the jobs that succeeded.
        failures: Every job that failed, with the engine's reasons.
        not_run: Jobs never submitted (a parent failed, or fail_fast stopped
            the run) or cancelled before they finished.
        job_ids: Job name -> engine id, for every submitted or adopted job.
        adopted: Names of the jobs an earlier driver of the run had submitted.
    """

    succeeded: frozenset[str]
    failures: tuple[JobFailure, ...]
    not_run: tuple[str, ...]
    job_ids: Mapping[str, str]
    adopted: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """Whether every job succeeded."""
        return not self.failures and not self.not_run


class RunEvents(Protocol):
    """An observer of one run. Each method is called in the driver's thread and
    must return quickly; an observer that fails should log, not raise."""

    def started(self, plan: JobPlan, label: str) -> None:
        """The driver starts the run on the engine ``label``."""

    def submitted(self, name: str, job_id: str) -> None:
        """Job ``name`` was submitted (or adopted from an earlier driver) as
        ``job_id``."""

    def changed(self, name: str, state: JobState) -> None:
        """Job ``name`` is now in ``state`` (after a poll, or when adopted)."""

    def cancelled(self, names: Sequence[str], reason: str) -> None:
        """The driver cancelled these unfinished jobs."""

    def stop_requested(self) -> str | None:
        """Why the run must stop now (``kedro batch cancel``), or ``None``.

        Asked once per poll round; a reason cancels every unfinished job and
        ends the run with ``RunCancelled``.
        """

    def finished(self, outcome: RunOutcome | None, error: BaseException | None) -> None:
        """The run ended: with ``outcome``, or interrupted by ``error``."""


class NoEvents:
    """The observer of a run nobody watches."""

    def started(self, plan: JobPlan, label: str) -> None:
        pass

    def submitted(self, name: str, job_id: str) -> None:
        pass

    def changed(self, name: str, state: JobState) -> None:
        pass

    def cancelled(self, names: Sequence[str], reason: str) -> None:
        pass

    def stop_requested(self) -> str | None:
        return None

    def finished(self, outcome: RunOutcome | None, error: BaseException | None) -> None:
        pass
