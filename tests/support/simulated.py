"""An engine in virtual time that holds dependencies as AWS Batch does.

Each job runs for ``duration`` virtual seconds once every parent succeeded (a
job whose parent failed fails with it, "Dependent Job failed"); ``wait`` moves
the clock instead of sleeping, so a driver run of a 400-job chain takes
milliseconds and is the same every time. It records every ``poll`` (the ids
asked), every ``cancel``, and can be told to be unavailable (raise
``EngineUnavailable``) for some poll or ``find_jobs`` calls.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar

from kedro_pipelinename.batch.engine import (
    EngineRun,
    EngineSpec,
    JobState,
    JobStatus,
    Submission,
)
from kedro_pipelinename.batch.errors import EngineUnavailable
from kedro_pipelinename.batch.naming import JobNameRule
from kedro_pipelinename.batch.plan import JobPlan

from .plans import plan_of, planned

SPEC = EngineSpec(
    name="simulated",
    max_parents=20,
    job_names=JobNameRule(max_length=128),
    statuses={status.value: status for status in JobStatus},
)


class SimulatedEngine:
    """Jobs of ``plan`` in virtual time (see the module docstring).

    Args:
        plan: The run's plan (for the parents of each job).
        duration: Virtual seconds each job runs.
        failing: Names of the jobs that fail on their own.
        unavailable_polls: Numbers (1-based) of the ``poll`` calls that raise
            ``EngineUnavailable``.
        unavailable_finds: How many ``find_jobs`` calls raise it first.
        existing: What ``find_jobs`` returns once it answers.
        on_terminate: Called with each job id ``cancel`` stops, before it stops
            it, as AWS Batch's one TerminateJob per job (a test presses Ctrl-C
            from there).
        on_wait: Called after each ``wait`` with the number of polls so far.
    """

    spec: ClassVar[EngineSpec] = SPEC
    label = "the simulated engine"

    @classmethod
    def open(cls, run: EngineRun, settings: Any) -> SimulatedEngine:
        """Not how tests get one: they build it with its plan and timings."""
        raise NotImplementedError("build SimulatedEngine(plan, ...) directly")

    def __init__(
        self,
        plan: JobPlan,
        *,
        duration: float = 1.0,
        failing: Collection[str] = (),
        unavailable_polls: Collection[int] = (),
        unavailable_finds: int = 0,
        existing: Mapping[str, JobState] | None = None,
        on_terminate: Callable[[str], None] | None = None,
        on_wait: Callable[[int], None] | None = None,
    ) -> None:
        self.now = 0.0
        self.polls: list[list[str]] = []
        self.cancelled: list[list[str]] = []
        self.waits: list[float] = []
        self.find_calls = 0
        self._parents = {job.name: job.depends_on for job in plan.jobs}
        self._duration = duration
        self._failing = set(failing)
        self._unavailable_polls = set(unavailable_polls)
        self._unavailable_finds = unavailable_finds
        self._existing = dict(existing or {})
        self._on_terminate = on_terminate
        self._on_wait = on_wait
        self.plan = plan
        self._submitted_at: dict[str, float] = {}
        self._stopped: dict[str, float] = {}
        self._ends: dict[str, tuple[float, bool]] = {}

    def clock(self) -> float:
        return self.now

    def submit(self, submission: Submission) -> str:
        name = submission.job.name
        self._submitted_at[name] = self.now
        return f"id-{name}"

    def _end(self, name: str) -> tuple[float, bool]:
        """When job ``name`` ends, and whether it succeeds (parents first)."""
        if name not in self._ends:
            parents = [self._end(parent) for parent in self._parents[name]]
            start = max([self._submitted_at[name], *(end for end, _ in parents)])
            if not all(ok for _, ok in parents):
                self._ends[name] = (start, False)
            else:
                self._ends[name] = (start + self._duration, name not in self._failing)
        return self._ends[name]

    def _state(self, name: str) -> JobState:
        job_id = f"id-{name}"
        if name in self._stopped:
            return JobState(job_id=job_id, status=JobStatus.FAILED, name=name)
        end, ok = self._end(name)
        if self.now >= end:
            status = JobStatus.SUCCEEDED if ok else JobStatus.FAILED
            dependency = not ok and name not in self._failing
            return JobState(
                job_id=job_id,
                status=status,
                name=name,
                reason="Dependent Job failed" if dependency else None,
                caused_by_dependency=dependency,
            )
        started = all(
            self.now >= self._end(parent)[0] for parent in self._parents[name]
        )
        status = JobStatus.RUNNING if started else JobStatus.PENDING
        return JobState(job_id=job_id, status=status, name=name)

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        self.polls.append(list(job_ids))
        if len(self.polls) in self._unavailable_polls:
            raise EngineUnavailable("DescribeJobs: 503 Service Unavailable")
        return {job_id: self._state(job_id[len("id-") :]) for job_id in job_ids}

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        self.cancelled.append(list(job_ids))
        for job_id in job_ids:
            if self._on_terminate is not None:
                self._on_terminate(job_id)
            self._stopped.setdefault(job_id[len("id-") :], self.now)

    def find_jobs(self) -> dict[str, JobState]:
        self.find_calls += 1
        if self.find_calls <= self._unavailable_finds:
            raise EngineUnavailable("ListJobs: read timeout")
        return dict(self._existing)

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        if self._on_wait is not None:
            self._on_wait(len(self.polls))

    def close(self) -> None:
        pass

    def unfinished(self) -> list[str]:
        """Jobs submitted and neither finished nor cancelled, now."""
        return sorted(
            name for name in self._submitted_at if not self._state(name).status.finished
        )


def chain_plan(length: int) -> JobPlan:
    """``length`` jobs, each depending on the one before."""
    return plan_of(
        [
            planned(f"job-{n:04d}", depends_on=[f"job-{n - 1:04d}"] if n else [])
            for n in range(length)
        ]
    )
