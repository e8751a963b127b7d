"""``LocalBatchRunner``: the jobs of ``AWSBatchRunner``, as processes on this machine.

Planning, pre-flight checks, commands, environment, run id, ``fail_fast``,
progress and the resume hint are ``BatchRunner``'s, shared with AWS Batch; only
where a job runs differs. Each job is ``kedro run --pipelines <names> --nodes ...``
in a subprocess:

- in its **own session and process group** (``start_new_session=True``): Ctrl-C
  in the terminal reaches only the driver, which then terminates every job's
  whole group (SIGTERM, then SIGKILL after ``terminate_timeout`` seconds), so no
  job and no process a job started outlives the run unseen (SIGTERM to the
  driver does the same: the shared driver turns it into an exception);
- started only when all of its parents succeeded (the backend says it can hold
  no unfinished dependency), and at most ``max_parallel`` at once (default: the
  number of CPUs);
- with the driver's environment plus the job's (``KEDRO_PIPELINENAME_RUN_ID``,
  ``KEDRO_ENV``, ``extra_env``), in the project directory;
- writing its output to ``<log_dir>/<run id>/<job>.log`` (default ``log_dir``:
  ``<project>/logs/local_batch``); a failed job's last lines are in the error.

Like a container, a job ends with its main process: whatever it left running in
its process group is killed when it exits.

POSIX only (process groups and ``os.waitid``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

from attrs import define

from ..backend import JobState, JobStatus, Submission
from ..errors import BatchSettingsError
from ..settings import check_int, check_positive_number, setting

logger = logging.getLogger(__name__)

#: How often ``wait`` looks for a job that exited (seconds): a finished job's
#: children start within this, whatever the driver's poll interval.
EXIT_CHECK_INTERVAL: Final = 0.05

#: Jobs' environment additions that only change how output is written: output
#: reaches the log file as it happens (a killed job loses nothing), and rich does
#: not wrap Kedro's log lines at 80 columns. A value the driver has wins.
OUTPUT_ENV_DEFAULTS: Final[Mapping[str, str]] = {
    "PYTHONUNBUFFERED": "1",
    "COLUMNS": "200",
}


def _check_log_dir(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BatchSettingsError(
            attribute.name,
            f"Batch setting '{attribute.name}' must be a directory path; got "
            f"{value!r}.",
        )


@define(frozen=True, kw_only=True)
class LocalBatchSettings:
    """Settings only ``LocalBatchRunner`` uses (resolved like ``BatchSettings``).

    Attributes:
        log_dir: Where each run's job logs go (a ``<run id>`` directory is made
            in it); relative paths are relative to the project. Default
            ``logs/local_batch``.
        terminate_timeout: Seconds a terminated job's process group has to exit
            after SIGTERM before it gets SIGKILL.
        tail_lines: How many last lines of a failed job's log the error shows.

    Example:
        >>> LocalBatchSettings(tail_lines=5).terminate_timeout
        5.0
    """

    log_dir: str | None = setting(None, validator=_check_log_dir)
    terminate_timeout: float = setting(
        5.0, validator=check_positive_number(), parse="float"
    )
    tail_lines: int = setting(20, validator=check_int(1, optional=False), parse="int")


def driver_kedro() -> str:
    """``<this interpreter> -m kedro``: the Kedro (and patch) the driver runs.

    A ``kedro`` found on ``PATH`` may belong to another environment, or be absent
    when the driver's virtualenv is not activated.
    """
    return shlex.join([sys.executable, "-m", "kedro"])


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back until a started job is registered.

    An exception raised inside ``Popen`` after the fork would lose the only
    handle on a running job, and nothing would terminate it. Python-level
    handlers (``KeyboardInterrupt``, the driver's SIGTERM exit) are replaced by
    recorders for the block, then restored and called for what arrived. A
    blocked signal mask is not used: the job would inherit it and ignore the
    SIGTERM that terminates it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def record(signal_number: int, frame: object) -> None:
        received.append(signal_number)

    deferred: dict[int, Any] = {}
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signal_number)
        if callable(handler):
            deferred[signal_number] = handler
            signal.signal(signal_number, record)
    try:
        yield
    finally:
        for saved_number, saved_handler in deferred.items():
            signal.signal(saved_number, saved_handler)
        for arrived in received:
            deferred[arrived](arrived, None)


class _JobProcess:
    """One job: a subprocess leading its own session and process group."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
    ) -> None:
        self.log_path = log_path
        self.returncode: int | None = None
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = log_path.open("wb")
        try:
            self._process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            raise
        self.pid = self._process.pid

    def poll(self) -> int | None:
        """The exit code once the main process exited (its group then killed)."""
        if self.returncode is not None:
            return self.returncode
        if not self.has_exited():
            return None
        self.signal_group(signal.SIGKILL)
        self._finish(self._process.wait())
        return self.returncode

    def has_exited(self) -> bool:
        """Whether the main process exited, without reaping it.

        Until it is reaped, an exited process keeps its pid, so its group id
        cannot be reused before ``poll`` killed the rest of the group.
        """
        if self.returncode is not None:
            return True
        try:
            state = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped elsewhere; Popen.wait() will tell
            return True
        return state is not None

    def signal_group(self, signal_number: int) -> None:
        """Send ``signal_number`` to the job's whole process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal_number)

    def kill(self) -> None:
        """SIGKILL the group and reap the main process."""
        if self.returncode is not None:
            return
        self.signal_group(signal.SIGKILL)
        self._finish(self._process.wait())

    def _finish(self, returncode: int) -> None:
        self.returncode = returncode
        self._log.close()

    def tail(self, lines: int) -> list[str]:
        """The last ``lines`` non-blank lines of the job's log."""
        try:
            with self.log_path.open(errors="replace") as log:
                last = deque((line.rstrip() for line in log if line.strip()), lines)
        except OSError:
            return []
        return list(last)


class LocalBatchBackend:
    """Runs each submitted job at once as a local subprocess (see the module doc).

    Args:
        settings: The local settings (log directory, terminate timeout, tail).
        run_id: The run's id; the job logs go to ``<log_dir>/<run_id>/``.
        project_path: The project directory: the jobs' working directory.
        environ: The environment the jobs start from; ``os.environ`` by default.

    Example:
        >>> backend = LocalBatchBackend(
        ...     LocalBatchSettings(), run_id=plan.run_id, project_path=Path.cwd()
        ... )  # doctest: +SKIP
    """

    label = "local processes"
    #: Processes cannot wait for other processes: a job starts once its parents
    #: succeeded, so the driver submits it only then.
    max_unfinished_dependencies = 0

    def __init__(
        self,
        settings: LocalBatchSettings,
        *,
        run_id: str,
        project_path: Path,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._settings = settings
        self._project_path = project_path
        log_dir = Path(settings.log_dir or "logs/local_batch")
        if not log_dir.is_absolute():
            log_dir = project_path / log_dir
        self.log_dir = log_dir / run_id
        self._environ = dict(os.environ if environ is None else environ)
        self._jobs: dict[str, _JobProcess] = {}

    def submit(self, submission: Submission) -> str:
        """Start the job's process; its id is the job name (unique in the run)."""
        job = submission.job
        if submission.depends_on:  # the driver never does this (see above)
            raise ValueError(
                f"Job {job.name!r} was submitted before its parents "
                f"{list(submission.depends_on)} finished; local jobs cannot wait."
            )
        env = {**OUTPUT_ENV_DEFAULTS, **self._environ, **job.env}
        log_path = self.log_dir / f"{job.name}.log"
        with _signals_deferred():
            process = _JobProcess(
                job.command, env=env, cwd=self._project_path, log_path=log_path
            )
            self._jobs[job.name] = process
        logger.info(
            "Job %s started (pid %d, nodes: %s); log: %s",
            job.name,
            process.pid,
            ", ".join(job.nodes),
            log_path,
        )
        return job.name

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """``RUNNING`` while the process runs, then ``SUCCEEDED`` or ``FAILED``."""
        return {
            job_id: self._state(job_id) for job_id in job_ids if job_id in self._jobs
        }

    def process_group(self, job_id: str) -> int:
        """The process group id of a submitted job (its main process's pid).

        Raises:
            KeyError: For a job this backend did not start.
        """
        return self._jobs[job_id].pid

    def _state(self, job_id: str) -> JobState:
        process = self._jobs[job_id]
        returncode = process.poll()
        location = str(process.log_path)
        if returncode is None:
            return JobState(
                job_id=job_id, status=JobStatus.RUNNING, log_location=location
            )
        if returncode == 0:
            return JobState(
                job_id=job_id,
                status=JobStatus.SUCCEEDED,
                exit_code=0,
                log_location=location,
            )
        lines = process.tail(self._settings.tail_lines)
        detail = (
            f"last {len(lines)} line(s) of {location}:\n" + "\n".join(lines)
            if lines
            else f"{location} is empty"
        )
        return JobState(
            job_id=job_id,
            status=JobStatus.FAILED,
            reason=f"the job's process (pid {process.pid}) "
            f"{_describe_exit(returncode)}",
            detail=detail,
            exit_code=returncode,
            log_location=location,
        )

    def terminate(self, job_ids: Sequence[str], reason: str) -> None:
        """SIGTERM every job's group at once; SIGKILL what is left after the timeout.

        A second interruption while waiting (Ctrl-C again) kills at once.
        """
        running = [
            self._jobs[job_id]
            for job_id in job_ids
            if job_id in self._jobs and self._jobs[job_id].poll() is None
        ]
        if not running:
            return
        for process in running:
            logger.warning(
                "Terminating job process group %d (%s): %s",
                process.pid,
                process.log_path.stem,
                reason,
            )
            process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self._settings.terminate_timeout
        try:
            # Bounded by the deadline.
            while time.monotonic() < deadline:
                if all(process.poll() is not None for process in running):
                    return
                time.sleep(EXIT_CHECK_INTERVAL)
        finally:
            for process in running:
                process.kill()

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``; return as soon as a running job exits."""
        deadline = time.monotonic() + max(0.0, seconds)
        running = [p for p in self._jobs.values() if p.returncode is None]
        # Bounded by the deadline; each round is one waitid() per running job.
        while True:
            if any(process.has_exited() for process in running):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(EXIT_CHECK_INTERVAL, left))

    def close(self) -> None:
        """Kill whatever is still running (the driver terminates jobs first)."""
        for process in self._jobs.values():
            process.kill()
