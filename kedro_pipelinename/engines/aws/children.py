"""The children of the run's array jobs, tracked from their parents' counts.

Polling every child of a 10,000-child array is 100 ``DescribeJobs`` a round,
and botocore parsing those full descriptions was most of the driver's CPU. An
array parent's ``DescribeJobs`` entry carries ``arrayProperties.statusSummary``
(how many children are in each status), so the engine describes the parents
(100 per call) and keeps what it last knew of each child:

- counts that did not move: the children keep their last states, no call;
- every child in one status (all ``SUCCEEDED``, or the parent itself
  ``SUCCEEDED``): each child gets that status, no call;
- a status with more children than the engine believes in it: ``ListJobs``
  of the array in that status (small summaries: id, status, reason, exit
  code) finds the children that moved there; the ones that moved to
  ``FAILED`` are then described (``DescribeJobs``), since a failure must name
  the child's reason, exit code and log stream, which only that gives.

What the driver needs per child is exact: when it finished, and how (its
dependents, ``fail_fast``, resume and the run record act on that). Finished
statuses only ever grow, so a finished child is always found. A child's
unfinished status (queued, running) is shown in the progress counts and
``kedro batch status``; it is refreshed whenever its status's count grows, so
two children swapping statuses between two polls can show the older one until
either moves again. The log stream of a child that succeeded is not read (only
``DescribeJobs`` has it, and ``kedro batch status`` shows logs of failed
jobs); a failed child's always is.

Only arrays this engine submitted or found (``find_jobs``) are tracked so: a
child of another array (an engine opened by ``kedro batch status``) is
described itself, as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from attrs import evolve

from ...batch.kit import JobState
from .api import SPEC, job_state

#: Batch's statuses in life-cycle order: the lists of one poll are read in this
#: order, so that a child listed in two (it moved while they were made) ends
#: in the later one.
STATUSES: Final = (
    "SUBMITTED",
    "PENDING",
    "RUNNABLE",
    "STARTING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
)
FAILED: Final = "FAILED"
SUCCEEDED: Final = "SUCCEEDED"

#: ``ListJobs`` of one array in one status -> its ``jobSummaryList`` entries.
ListChildren = Callable[[str, str, int], Iterable[Mapping[str, Any]]]
#: ``DescribeJobs`` of some job ids (100 a call) -> their entries.
Describe = Callable[[Sequence[str]], Iterable[Mapping[str, Any]]]


def child_ids(parent_id: str, size: int) -> list[str]:
    """The ids AWS Batch gives an array's children: ``<parent id>:<index>``."""
    return [f"{parent_id}:{index}" for index in range(size)]


def parent_of(job_id: str) -> str | None:
    """The parent's id of a child id ``<parent id>:<index>``; ``None`` for a
    job id of any other form (Batch's own ids have no colon)."""
    parent, colon, index = job_id.rpartition(":")
    return parent if colon and index.isdigit() else None


class ArrayChildren:
    """What the engine last knew of each child of the arrays it tracks."""

    def __init__(self) -> None:
        #: parent id -> child id -> the child's last known state.
        self._states: dict[str, dict[str, JobState]] = {}

    def track(self, parent_id: str, ids: Sequence[str], name: str | None) -> None:
        """Start tracking a just submitted array: every child ``SUBMITTED``."""
        status = SPEC.status("SUBMITTED")
        self._states[parent_id] = {
            child: JobState(
                job_id=child,
                status=status,
                engine_status="SUBMITTED",
                name=name,
                array_id=parent_id,
            )
            for child in ids
        }

    def adopt(self, parent_id: str, states: Iterable[JobState]) -> None:
        """Track an array found again (``find_jobs`` described its children)."""
        self._states[parent_id] = {state.job_id: state for state in states}

    def tracks(self, parent_id: str) -> bool:
        return parent_id in self._states

    def states(
        self,
        parent: Mapping[str, Any],
        list_children: ListChildren,
        describe: Describe,
    ) -> dict[str, JobState] | None:
        """Every child's state, from ``parent`` (its ``DescribeJobs`` entry) and
        as few calls as its counts allow (see the module docstring); ``None``
        when the entry has no counts (then describe the children).

        Raises:
            EngineUnavailable: As ``list_children`` and ``describe`` raise it;
                what was not read then is read at the next poll.
        """
        parent_id = str(parent["jobId"])
        known = self._states[parent_id]
        properties = parent.get("arrayProperties") or {}
        size = int(properties.get("size") or len(known))
        if parent.get("status") == SUCCEEDED:
            summary: Mapping[str, Any] = {SUCCEEDED: size}
        elif isinstance(properties.get("statusSummary"), Mapping):
            summary = properties["statusSummary"]
        else:
            return None
        believed = Counter(state.engine_status for state in known.values())
        for status in STATUSES:
            count = int(summary.get(status) or 0)
            if count <= believed[status]:
                continue  # nothing moved into it (it may have lost some)
            if count >= size:
                moved = [
                    child
                    for child, state in known.items()
                    if state.engine_status != status
                ]
                entries: list[Mapping[str, Any]] | None = None
            else:
                entries = [
                    entry
                    for entry in list_children(parent_id, status, size)
                    if known.get(str(entry["jobId"])) is not None
                    and known[str(entry["jobId"])].engine_status != status
                ]
                moved = [str(entry["jobId"]) for entry in entries]
            if status == FAILED:
                # Its reason, exit code and log stream: DescribeJobs only.
                for entry in describe(moved):
                    self._note(known, job_state(entry), parent_id)
            elif entries is not None:
                for entry in entries:
                    self._note(known, job_state(entry), parent_id)
            else:
                shared = SPEC.status(status)
                for child in moved:
                    earlier = known[child]
                    self._note(
                        known,
                        JobState(
                            job_id=child,
                            status=shared,
                            engine_status=status,
                            name=earlier.name,
                            log_location=earlier.log_location,
                            array_id=parent_id,
                        ),
                        parent_id,
                    )
        return known

    @staticmethod
    def _note(known: dict[str, JobState], state: JobState, parent_id: str) -> None:
        """Take ``state`` unless the child had already finished (Batch never
        moves a finished job again; a list made earlier may still show it
        unfinished)."""
        earlier = known.get(state.job_id)
        if earlier is None or earlier.status.finished:
            return
        known[state.job_id] = (
            state if state.array_id == parent_id else evolve(state, array_id=parent_id)
        )
