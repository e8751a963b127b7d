"""A compute environment for moto's in-process Batch: jobs really run.

moto's server (in this process, without docker) marks a Batch job finished the
moment it is submitted and never looks at ``dependsOn``. For the engine contract
AWS Batch must behave as it does: a job waits in ``PENDING`` until its parents
succeeded (and fails with "Dependent Job failed" when one failed), waits in
``RUNNABLE``, then runs its container command (here: a local process with the
job's ``containerOverrides`` environment), ``RUNNING`` until it exits;
``TerminateJob`` stops it. Everything the engine sees still comes through boto3
over HTTP from moto's server; only the compute is ours.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: How often the compute looks at its jobs (seconds).
TICK = 0.02


class MotoCompute:
    """Runs the jobs moto accepts; start with ``running()``.

    Args:
        workdir: The jobs' working directory (a container's would be the image's).
        capacity: ``False``: a compute environment with no capacity, where every
            job stays RUNNABLE until it is terminated.
    """

    def __init__(self, workdir: Path, *, capacity: bool = True) -> None:
        self.workdir = workdir
        self.capacity = capacity
        self._queued: list[Any] = []
        self._running: dict[str, tuple[Any, subprocess.Popen[bytes]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def accept(self, job: Any) -> None:
        """What moto's submit calls instead of finishing the job at once."""
        job.status = "PENDING" if job.depends_on else "RUNNABLE"
        with self._lock:
            self._queued.append(job)

    def alive(self) -> int:
        """How many job processes run now."""
        with self._lock:
            return sum(process.poll() is None for _, process in self._running.values())

    def _tick(self) -> None:
        with self._lock:
            queued, self._queued = self._queued, []
        still_queued = []
        for job in queued:
            if job.stop:
                job._mark_stopped(success=False)
                continue
            parents = [job.all_jobs[d["jobId"]] for d in job.depends_on or []]
            if any(parent.status == "FAILED" for parent in parents):
                job.job_stopped_reason = "Dependent Job failed"
                job._mark_stopped(success=False)
            elif self.capacity and all(p.status == "SUCCEEDED" for p in parents):
                self._start(job)
            else:
                still_queued.append(job)
        with self._lock:
            self._queued = still_queued + self._queued
        for job_id, (job, process) in list(self._running.items()):
            if job.stop and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            returncode = process.poll()
            if returncode is None:
                continue
            job.exit_code = returncode
            # DescribeJobs shows it in the attempt (moto's job container omits it).
            job.latest_attempt["container"]["exitCode"] = returncode
            job._mark_stopped(success=returncode == 0 and not job.stop)
            with self._lock:
                del self._running[job_id]

    def _start(self, job: Any) -> None:
        overrides = job.container_overrides
        env = {**os.environ}
        env.update({e["name"]: e["value"] for e in overrides.get("environment", [])})
        job.status = "RUNNING"
        job.job_started_at = datetime.datetime.now()
        job._start_attempt()
        log = (self.workdir / f"{job.job_id}.log").open("wb")
        process = subprocess.Popen(
            list(overrides["command"]),
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        with self._lock:
            self._running[job.job_id] = (job, process)

    def _loop(self) -> None:
        # Bounded by the stop event, set when the fixture ends.
        while not self._stop.wait(TICK):
            self._tick()

    @contextlib.contextmanager
    def running(self) -> Iterator[MotoCompute]:
        """Patch moto's simple Batch backend to hand jobs here; undo on exit,
        killing every job process still running."""
        from moto.batch_simple.models import BatchSimpleBackend

        compute = self

        def accept(self: Any, include_start_attempt: bool, job: Any) -> None:
            self.backend._jobs[job.job_id] = job
            job.log_stream_name = job._stream_name
            compute.accept(job)

        original = BatchSimpleBackend._mark_job_as_finished
        BatchSimpleBackend._mark_job_as_finished = accept  # type: ignore[method-assign]
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            BatchSimpleBackend._mark_job_as_finished = original  # type: ignore[method-assign]
            self._stop.set()
            thread.join(timeout=10)
            for _, process in self._running.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
