"""The sandbox's compute environment: moto's Batch jobs run as local processes.

moto's server without docker marks a Batch job finished the moment it is
submitted, never looks at ``dependsOn``, drops ``retryStrategy`` and ignores
``timeout``. Here a job behaves as AWS Batch runs it: it waits in ``PENDING``
until its parents succeeded (and fails with "Dependent Job failed" when one
failed), in ``RUNNABLE`` until there is capacity, then runs its container
command (a local process in ``workdir`` with the job's environment),
``RUNNING`` until it exits: ``SUCCEEDED`` with exit code 0, else a failed
attempt, retried while ``retryStrategy.attempts`` (and its ``evaluateOnExit``
rules) allow, each attempt listed in DescribeJobs with its exit code and log
stream. An attempt longer than ``timeout.attemptDurationSeconds`` is stopped
("Job attempt duration exceeded timeout"); TerminateJob stops a running job,
CancelJob one not yet started. Each attempt's output goes to CloudWatch Logs
(``logs.py``). Array jobs run as Batch runs them (``arrays.py``): each child
a job of its own with ``AWS_BATCH_JOB_ARRAY_INDEX``, the parent's status from
its children's, ``N_TO_N`` and ``SEQUENTIAL`` dependencies, TerminateJob and
CancelJob of the parent reaching its children. Everything a client sees still
comes through moto's HTTP API.
"""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from attrs import define

from . import arrays
from .logs import LogForwarder, stream_name

#: How often the compute looks at its jobs (seconds).
TICK: Final = 0.02
#: Seconds between SIGTERM and SIGKILL when a job is stopped (ECS waits 30).
STOP_GRACE: Final = 5.0
#: AWS Batch's reasons, as DescribeJobs shows them.
DEPENDENCY_FAILED: Final = "Dependent Job failed"
CONTAINER_EXITED: Final = "Essential container in task exited"
TIMED_OUT: Final = "Job attempt duration exceeded timeout"

#: The ``retryStrategy`` of the SubmitJob being handled by this server thread:
#: moto's request handler does not pass it on, so it is kept here for ``accept``.
_submitted = threading.local()


def _now_ms() -> int:
    return int(time.time() * 1000)


@define
class _Attempt:
    """One attempt's process, log and deadline."""

    process: subprocess.Popen[bytes]
    forwarder: LogForwarder
    deadline: float | None
    timed_out: bool = False
    kill_at: float | None = None


def retry_decision(
    rules: list[Mapping[str, str]],
    exit_code: int | None,
    status_reason: str,
    reason: str,
) -> str:
    """``RETRY`` or ``EXIT`` for a failed attempt, by Batch's ``evaluateOnExit``
    rules: the first rule whose every given pattern matches decides; none: RETRY.
    """
    values = {
        "onExitCode": "" if exit_code is None else str(exit_code),
        "onStatusReason": status_reason,
        "onReason": reason,
    }
    for rule in rules:
        patterns = {key: rule[key] for key in values if key in rule}
        if all(fnmatch.fnmatchcase(values[k], p) for k, p in patterns.items()):
            return str(rule.get("action", "RETRY")).upper()
    return "RETRY"


class SandboxCompute:
    """Runs the jobs moto accepts; start it with ``running()``.

    Args:
        workdir: The jobs' working directory (a container's would be its image's).
        capacity: ``False``: a compute environment without capacity, where every
            job stays RUNNABLE until it is terminated.
        slots: How many jobs may run at once (a compute environment's
            ``maxvCpus`` at one vCPU a job); the others stay RUNNABLE. ``None``:
            no bound, every job runs as soon as its parents succeeded.
        env: Variables every job gets on top of this process's environment (the
            sandbox's endpoint and credentials, as a job role would give).
        log_dir: Where each attempt's output file is kept (default: a temp dir,
            removed on exit).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        capacity: bool = True,
        slots: int | None = None,
        env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.capacity = capacity
        self.slots = slots
        self.env = dict(env or {})
        self.log_dir = log_dir
        self._queued: list[Any] = []
        self._arrays: list[Any] = []
        self._running: dict[str, tuple[Any, _Attempt]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Whether a job may have changed what a waiting job waits for: the
        # waiting jobs are looked at only then (an array's 10,000 children
        # looked at every tick would take a core).
        self._changed = False

    # --- what moto calls ---------------------------------------------------------

    def accept(self, job: Any) -> None:
        """What moto's submit calls instead of finishing the job at once."""
        if arrays.array_size(job) is not None:
            # An array parent runs nothing; ``_tick`` sets its status from its
            # children's once moto has attached them.
            job.status = "PENDING"
            with self._lock:
                self._arrays.append(job)
                self._changed = True
            return
        job.sandbox_retry = getattr(_submitted, "retry", None) or (
            job.job_definition.retry_strategy or {}
        )
        job.sandbox_waits = arrays.waits_for(
            job.job_id, arrays.array_index(job), job.depends_on or []
        )
        job.status = "PENDING" if job.sandbox_waits else "RUNNABLE"
        with self._lock:
            self._queued.append(job)
            self._changed = True

    def wake(self) -> None:
        """Look at the waiting jobs again (a job was terminated or cancelled)."""
        with self._lock:
            self._changed = True

    def alive(self) -> int:
        """How many job processes run now."""
        with self._lock:
            return sum(a.process.poll() is None for _, a in self._running.values())

    # --- the loop ------------------------------------------------------------------

    def _tick(self) -> None:
        with self._lock:
            changed, self._changed = self._changed, False
        if changed:
            self._schedule()
            self._settle_arrays()
        for job_id, (job, attempt) in list(self._running.items()):
            self._watch(job, attempt)
            returncode = attempt.process.poll()
            attempt.forwarder.forward(final=returncode is not None)
            if returncode is None:
                continue
            with self._lock:
                del self._running[job_id]
                self._changed = True
            self._finish(job, attempt, returncode)

    def _schedule(self) -> None:
        """Start, fail or keep each waiting job, by its parents and the slots."""
        with self._lock:
            queued, self._queued = self._queued, []
            free = None if self.slots is None else self.slots - len(self._running)
        still_queued = []
        stopped = False
        for job in queued:
            if job.stop:
                job._mark_stopped(success=False)
                stopped = True
                continue
            parents = [job.all_jobs.get(job_id) for job_id in job.sandbox_waits]
            if any(p is not None and p.status == "FAILED" for p in parents):
                job.job_stopped_reason = DEPENDENCY_FAILED
                job._mark_stopped(success=False)
                stopped = True
            elif (
                self.capacity
                and (free is None or free > 0)
                and all(p is not None and p.status == "SUCCEEDED" for p in parents)
            ):
                self._start(job)
                free = None if free is None else free - 1
            else:
                still_queued.append(job)
        with self._lock:
            self._queued = still_queued + self._queued
            # A failed job may fail the jobs waiting for it: look again.
            self._changed = self._changed or stopped

    def _settle_arrays(self) -> None:
        """Finish each array parent whose children all finished."""
        with self._lock:
            parents = list(self._arrays)
        for parent in parents:
            children = parent._child_jobs
            if children is None:  # moto attaches them after ``accept``
                self.wake()
                continue
            status = arrays.parent_status([child.status for child in children])
            if status not in arrays.FINISHED:
                continue
            started = [c.job_started_at for c in children if c.attempts]
            if started:
                parent.job_started_at = min(started)
            parent._mark_stopped(success=status == "SUCCEEDED")
            with self._lock:
                self._arrays.remove(parent)
                # Jobs may wait for this array.
                self._changed = True

    def _watch(self, job: Any, attempt: _Attempt) -> None:
        """Stop a terminated or timed-out attempt: SIGTERM, later SIGKILL."""
        now = time.monotonic()
        if attempt.process.poll() is not None:
            return
        due = job.stop or (attempt.deadline is not None and now >= attempt.deadline)
        if due and attempt.kill_at is None:
            attempt.timed_out = not job.stop
            attempt.kill_at = now + STOP_GRACE
            self._signal(attempt.process, signal.SIGTERM)
        elif attempt.kill_at is not None and now >= attempt.kill_at:
            self._signal(attempt.process, signal.SIGKILL)

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)

    def _finish(self, job: Any, attempt: _Attempt, returncode: int) -> None:
        exit_code = 128 - returncode if returncode < 0 else returncode
        latest = job.latest_attempt
        latest["container"]["exitCode"] = exit_code
        if job.stop:
            reason = job.job_stopped_reason or "Terminated"
        elif attempt.timed_out:
            reason = TIMED_OUT
        else:
            reason = CONTAINER_EXITED
        latest["statusReason"] = reason
        job.exit_code = exit_code
        if exit_code == 0 and not job.stop and not attempt.timed_out:
            job._mark_stopped(success=True)
            return
        retry = job.sandbox_retry
        attempts = int(retry.get("attempts", 1) or 1)
        decision = retry_decision(
            list(retry.get("evaluateOnExit") or []), exit_code, reason, ""
        )
        if not job.stop and len(job.attempts) < attempts and decision == "RETRY":
            latest["stoppedAt"] = _now_ms()
            job.status = "RUNNABLE"
            with self._lock:
                self._queued.append(job)
                self._changed = True
            return
        job.job_stopped_reason = reason
        job._mark_stopped(success=False)

    def _log_dir(self) -> Path:
        assert self.log_dir is not None
        return self.log_dir

    def _start(self, job: Any) -> None:
        overrides = job.container_overrides
        properties = job.job_definition.container_properties or {}
        command = list(overrides.get("command") or properties.get("command") or [])
        env = {**os.environ, **self.env}
        # The "image" is this Python environment: its `kedro` comes first.
        env["PATH"] = os.pathsep.join(
            [str(Path(sys.executable).parent), env.get("PATH", os.defpath)]
        )
        for source in (properties, overrides):
            env.update({e["name"]: e["value"] for e in source.get("environment", [])})
        env.update(
            {
                "AWS_BATCH_JOB_ID": job.job_id,
                "AWS_BATCH_JOB_ATTEMPT": str(len(job.attempts) + 1),
                "AWS_BATCH_JQ_NAME": job.job_queue.name,
            }
        )
        index = arrays.array_index(job)
        if index is not None:
            env[arrays.ARRAY_INDEX_VARIABLE] = str(index)
        task_id = uuid.uuid4().hex
        job.log_stream_name = stream_name(job.job_definition.name, task_id)
        job.status = "RUNNING"
        job.job_started_at = datetime.datetime.now()
        job._start_attempt()
        job.latest_attempt["container"]["taskArn"] = (
            f"arn:aws:ecs:{job.job_definition._region}:"
            f"{job.job_definition.backend.account_id}:task/sandbox/{task_id}"
        )
        path = self._log_dir() / f"{task_id}.log"
        with path.open("wb") as log:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=self.workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                # A container whose command cannot start: Batch fails the attempt.
                log.write(f"CannotStartContainerError: {error}\n".encode())
                process = subprocess.Popen(
                    [sys.executable, "-c", "raise SystemExit(127)"],
                    start_new_session=True,
                )
        timeout = job.timeout or job.job_definition.timeout or {}
        seconds = timeout.get("attemptDurationSeconds")
        forwarder = LogForwarder(job._log_backend, job.log_stream_name, path)
        attempt = _Attempt(
            process=process,
            forwarder=forwarder,
            deadline=time.monotonic() + float(seconds) if seconds else None,
        )
        with self._lock:
            self._running[job.job_id] = (job, attempt)

    def _loop(self) -> None:
        # Bounded by the stop event, set when ``running()`` ends.
        while not self._stop.wait(TICK):
            self._tick()

    # --- installing it -------------------------------------------------------------

    @contextlib.contextmanager
    def running(self) -> Iterator[SandboxCompute]:
        """Hand moto's Batch jobs here until exit; then kill every job process
        still running and undo the patches."""
        with contextlib.ExitStack() as stack:
            if self.log_dir is None:
                self.log_dir = Path(
                    stack.enter_context(
                        tempfile.TemporaryDirectory(prefix="kedro-batch-sandbox-")
                    )
                )
            stack.enter_context(_patched_moto(self))
            thread = threading.Thread(
                target=self._loop, name="batch-sandbox-compute", daemon=True
            )
            thread.start()
            try:
                yield self
            finally:
                self._stop.set()
                thread.join(timeout=10)
                for _, attempt in list(self._running.values()):
                    self._signal(attempt.process, signal.SIGKILL)
                    attempt.process.wait(timeout=10)
                self._running.clear()


@contextlib.contextmanager
def _patched_moto(compute: SandboxCompute) -> Iterator[None]:
    """moto's simple Batch backend hands jobs to ``compute``; SubmitJob keeps
    its ``retryStrategy`` and refuses what Batch refuses of arrays;
    ``name:revision`` finds its job definition; array jobs are described,
    listed, cancelled and terminated as Batch does."""
    from moto.batch.exceptions import ClientException
    from moto.batch.models import BatchBackend, Job
    from moto.batch.responses import BatchResponse
    from moto.batch_simple.models import BatchSimpleBackend

    def accept(self: Any, include_start_attempt: bool, job: Any) -> None:
        self.backend._jobs[job.job_id] = job
        compute.accept(job)

    original_submit = BatchResponse.submit_job

    def submit_job(self: Any) -> str:
        # Checked before moto creates the parent and its children.
        problems = arrays.submission_problems(
            self._get_param("arrayProperties"),
            self._get_param("dependsOn"),
            self.batch_backend.get_job_by_id,
        )
        if problems:
            raise ClientException("; ".join(problems))
        _submitted.retry = self._get_param("retryStrategy")
        try:
            return original_submit(self)
        finally:
            _submitted.retry = None

    original_definitions = BatchBackend.get_job_definitions

    def get_job_definitions(self: Any, identifier: str) -> list[Any]:
        found: list[Any] = original_definitions(self, identifier)
        name, _, revision = identifier.partition(":")
        if not found and revision.isdigit() and not identifier.startswith("arn:"):
            definition = self.get_job_definition_by_name_revision(name, revision)
            found = [definition] if definition is not None else []
        return found

    original_describe = Job.describe
    original_describe_short = Job.describe_short

    def describe(self: Any) -> dict[str, Any]:
        # moto shows the container's exit code in ListJobs only.
        result: dict[str, Any] = original_describe(self)
        if self.exit_code is not None and "container" in result:
            result["container"]["exitCode"] = self.exit_code
        return result

    def describe_short(self: Any) -> dict[str, Any]:
        # A child's index, a parent's size (ListJobs' ArrayPropertiesSummary);
        # moto's ``describe`` starts from this and sets a parent's
        # ``statusSummary`` itself.
        result: dict[str, Any] = original_describe_short(self)
        index = arrays.array_index(self)
        size = arrays.array_size(self)
        if index is not None:
            result["arrayProperties"] = {"index": index}
        elif size is not None:
            result["arrayProperties"] = {"size": size}
        return result

    original_list = BatchBackend.list_jobs

    def list_jobs(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # A queue lists array parents, not their children (arrayJobId does).
        jobs: list[Any] = original_list(self, *args, **kwargs)
        if kwargs.get("array_job_id"):
            return jobs
        return [job for job in jobs if arrays.array_index(job) is None]

    original_cancel = BatchBackend.cancel_job

    def cancel_job(self: Any, job_id: str, reason: str) -> None:
        # CancelJob of a parent cancels its children that have not started.
        original_cancel(self, job_id, reason)
        for child in _children(self, job_id):
            if child.status in ("SUBMITTED", "PENDING", "RUNNABLE"):
                child.terminate(reason)
        compute.wake()

    original_terminate = BatchBackend.terminate_job

    def terminate_job(self: Any, job_id: str, reason: str) -> None:
        # TerminateJob of a parent stops every unfinished child.
        original_terminate(self, job_id, reason)
        for child in _children(self, job_id):
            if child.status not in arrays.FINISHED:
                child.terminate(reason)
        compute.wake()

    originals = [
        (
            BatchSimpleBackend,
            "_mark_job_as_finished",
            BatchSimpleBackend._mark_job_as_finished,
        ),
        (BatchResponse, "submit_job", original_submit),
        (BatchBackend, "get_job_definitions", original_definitions),
        (Job, "describe", original_describe),
        (Job, "describe_short", original_describe_short),
        (BatchBackend, "list_jobs", original_list),
        (BatchBackend, "cancel_job", original_cancel),
        (BatchBackend, "terminate_job", original_terminate),
    ]
    BatchSimpleBackend._mark_job_as_finished = accept  # type: ignore[method-assign]
    BatchResponse.submit_job = submit_job  # type: ignore[method-assign]
    BatchBackend.get_job_definitions = get_job_definitions  # type: ignore[method-assign]
    Job.describe = describe  # type: ignore[method-assign]
    Job.describe_short = describe_short  # type: ignore[method-assign]
    BatchBackend.list_jobs = list_jobs  # type: ignore[method-assign]
    BatchBackend.cancel_job = cancel_job  # type: ignore[method-assign]
    BatchBackend.terminate_job = terminate_job  # type: ignore[method-assign]
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def _children(backend: Any, job_id: str) -> list[Any]:
    """The children of array job ``job_id`` (none for any other job)."""
    job = backend.get_job_by_id(job_id)
    return list(job._child_jobs or []) if job is not None else []
