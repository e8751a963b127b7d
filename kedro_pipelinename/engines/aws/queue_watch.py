"""Jobs stuck in RUNNABLE: warned about once, failed after ``runnable_timeout``.

A Batch job in ``RUNNABLE`` is ready and waits for capacity. It waits there
forever when no compute environment of the queue can ever place it: the
environments are disabled or at ``maxvCpus``, or the job asks for more vCPUs or
memory than any of them allows. Batch says nothing about it, so the engine
times how long each job has been RUNNABLE (from the first poll that saw it so:
a driver started again times afresh), warns once after ``runnable_warning``
seconds with the usual causes (and what the queue's compute environments
allow, when DescribeComputeEnvironments can tell), and with ``runnable_timeout``
terminates the job and reports it failed, so the run fails cleanly instead of
waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from attrs import evolve

from ...batch.kit import JobState, JobStatus, logger_for
from .settings import AWSBatchSettings

logger = logger_for(__name__)

RUNNABLE = "RUNNABLE"


class _Engine(Protocol):
    client: Any
    label: str

    def _terminate(self, job_ids: list[str], reason: str) -> None: ...


def _requested(job: Mapping[str, Any]) -> dict[str, float]:
    """The vCPUs and memory a described job asks for."""
    container = job.get("container") or {}
    requested: dict[str, float] = {}
    for requirement in container.get("resourceRequirements") or []:
        try:
            requested[str(requirement["type"])] = float(requirement["value"])
        except (KeyError, ValueError):
            continue
    for key, kind in (("vcpus", "VCPU"), ("memory", "MEMORY")):
        if kind not in requested and container.get(key):
            requested[kind] = float(container[key])
    return requested


class QueueWatch:
    """Times the RUNNABLE jobs of one engine; ``observe`` each polled job.

    Args:
        engine: The engine (its client, label and ``_terminate``).
        settings: ``runnable_warning`` and ``runnable_timeout``.
        clock: A monotonic clock (tests may pass another).
    """

    def __init__(
        self,
        engine: _Engine,
        settings: AWSBatchSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._since: dict[str, float] = {}
        self._warned: set[str] = set()
        #: Jobs this watch terminated -> the state reported for them.
        self._timed_out: dict[str, JobState] = {}
        self._environments: str | None = None

    def observe(self, job: Mapping[str, Any], state: JobState) -> JobState:
        """``state``, or FAILED for a job terminated for ``runnable_timeout``."""
        job_id = state.job_id
        if job_id in self._timed_out:
            # TerminateJob is asynchronous: until Batch shows the job finished,
            # keep reporting it failed (for our reason).
            return state if state.status.finished else self._timed_out[job_id]
        if state.engine_status != RUNNABLE:
            self._since.pop(job_id, None)
            return state
        now = self._clock()
        waited = now - self._since.setdefault(job_id, now)
        timeout = self._settings.runnable_timeout
        if waited >= self._settings.runnable_warning and job_id not in self._warned:
            self._warned.add(job_id)
            logger.warning(
                "Job %s (%s) has waited in RUNNABLE for %.1f s. %s",
                state.name,
                job_id,
                waited,
                self.causes(job),
            )
        if timeout is not None and waited >= timeout:
            reason = (
                f"waited in RUNNABLE for {waited:.1f} s, longer than runnable_timeout "
                f"({timeout:g} s); terminated by the Kedro driver"
            )
            failed = evolve(
                state,
                status=JobStatus.FAILED,
                reason=reason,
                detail=self.causes(job),
            )
            self._timed_out[job_id] = failed
            self._engine._terminate([job_id], reason)
            return failed
        return state

    def causes(self, job: Mapping[str, Any]) -> str:
        """The usual causes of a job that stays RUNNABLE, with what the queue's
        compute environments allow when that can be asked."""
        general = (
            "Usual causes: the queue's compute environments have no capacity left "
            "(at maxvCpus, or scaling is slow), are DISABLED or INVALID, or the job "
            "asks for more vCPUs, memory or GPUs than any of them can give (check "
            "`resources` against the environments' instance types and maxvCpus)."
        )
        try:
            found = self._environment_summary(job)
        except Exception as error:  # the warning matters more than the detail
            logger.debug("Could not describe the compute environments: %s", error)
            return general
        return f"{general} {found}" if found else general

    def _environment_summary(self, job: Mapping[str, Any]) -> str:
        client = self._engine.client
        queue = job.get("jobQueue") or self._settings.job_queue
        queues = client.describe_job_queues(jobQueues=[queue]).get("jobQueues", [])
        names = [
            entry["computeEnvironment"]
            for found in queues
            for entry in found.get("computeEnvironmentOrder", [])
        ]
        if not names:
            return "The job queue has no compute environment."
        environments = client.describe_compute_environments(
            computeEnvironments=names
        ).get("computeEnvironments", [])
        vcpus = _requested(job).get("VCPU")
        lines = []
        for environment in environments:
            resources = environment.get("computeResources") or {}
            maximum = resources.get("maxvCpus")
            state = environment.get("state", "?")
            status = environment.get("status", "?")
            line = f"{environment.get('computeEnvironmentName')}: {state}, {status}" + (
                f", maxvCpus {maximum}" if maximum is not None else ""
            )
            if vcpus is not None and maximum is not None and vcpus > float(maximum):
                line += f" (the job asks for {vcpus:g} vCPUs: more than its maximum)"
            lines.append(line)
        return "Compute environments: " + "; ".join(lines) + "."
