"""The local engine: every job of the plan a process on this machine.

Planning, pre-flight checks, commands, environment, run id, ``fail_fast``,
progress and the resume hint are ``BatchRunner``'s, shared with AWS Batch; only
where a job runs differs. Each job is ``kedro run --pipelines <names> --nodes ...``
in a subprocess:

- in its **own session and process group** (``start_new_session=True``): Ctrl-C
  in the terminal reaches only the driver, which then terminates every job's
  whole group (SIGTERM, then SIGKILL after ``terminate_timeout`` seconds), so no
  job and no process a job started outlives the run unseen (SIGTERM to the
  driver does the same: the shared driver turns it into an exception);
- started only when all of its parents succeeded (the engine declares
  ``max_parents=0``), and at most ``max_parallel`` at once (default: the number
  of CPUs);
- with the driver's environment plus the job's (``KEDRO_PIPELINENAME_RUN_ID``,
  ``KEDRO_ENV``, ``extra_env``), in the project directory;
- writing its output to ``<log_dir>/<run id>/<job>.log`` (default ``log_dir``:
  ``<project>/logs/local_batch``), and each later attempt of the job (a resumed
  run) to ``<job>.<attempt>.log``, so no attempt's log is overwritten; a failed
  job's last lines are in the error.

Like a container, a job ends with its main process: whatever it left running in
its process group is killed when it exits.

Each job's main process is ``supervise.py``, which runs the command and writes
its exit code to ``<job>.exit`` beside the log, and the driver writes
``<job>.json`` (pid, start time) when it starts the job. That is how a later
driver of the same run id finds the jobs (``find_jobs``), even when the first
one was killed: a finished job is adopted as it ended; a job still running
without its driver (nobody can wait for it any more) is killed, its group with
it, and run again, so a job never runs twice at once.

POSIX only (process groups and ``os.waitid``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, ClassVar, Final

import attrs

from ...batch.kit import (
    BatchError,
    BatchSettings,
    BatchSettingsError,
    EngineBase,
    EngineRun,
    EngineSpec,
    JobNameRule,
    JobState,
    JobStatus,
    Submission,
    argv_argument,
    atomic_write,
    environment_variable,
    is_running,
    logger_for,
    path_component,
    plan_text,
    process_start,
    where_to_set,
)
from .settings import LocalBatchSettings

logger = logger_for(__name__)

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


def _tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` non-blank lines of a job's log."""
    try:
        with path.open(errors="replace") as log:
            last = deque((line.rstrip() for line in log if line.strip()), lines)
    except OSError:
        return []
    return list(last)


#: Every job's main process: runs the command and records its exit code.
SUPERVISOR: Final = Path(__file__).with_name("supervise.py")

#: What ``Popen`` or ``open`` fail with when the machine is full.
_EXHAUSTED: Final = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN, errno.E2BIG}
)
#: File descriptors one running job holds in the driver: its log file, and
#: while it starts, the two ends of ``Popen``'s error pipe.
FDS_PER_JOB: Final = 3
#: File descriptors kept for the driver itself (Python, Kedro, logging, the
#: run record, the engines' files).
FDS_RESERVED: Final = 64
#: Megabytes of a job's supervisor (``supervise.py``) while its job runs
#: (``python -m tests.benchmarks.bench_supervisor``: 9.2 MB).
SUPERVISOR_MEMORY: Final = 10


def _available_memory_mb() -> float | None:
    """``MemAvailable`` of ``/proc/meminfo`` (Linux), in MB; else ``None``."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def _open_files_limit() -> int | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return None
    return None if soft == resource.RLIM_INFINITY else int(soft)


def machine_parallelism(
    asked: int | None,
    *,
    job_memory: float,
    cpus: int | None = None,
    available_memory: float | None = None,
    open_files: int | None = None,
) -> tuple[int | None, str | None]:
    """How many jobs this machine can run at once, and why fewer than asked.

    The least of ``asked`` and what each resource allows: its CPUs, its
    available memory over ``job_memory`` plus a supervisor's, and its
    open-file limit (``FDS_PER_JOB`` each, ``FDS_RESERVED`` kept); at least 1.
    The arguments other than ``asked`` default to this machine's.

    Returns:
        ``(jobs, None)`` when ``asked`` fits, else ``(fewer, why)``.

    Example:
        >>> machine_parallelism(1000, job_memory=100, cpus=2, available_memory=8000,
        ...                     open_files=1024)
        (2, '2 CPUs')
    """
    cpus = _cpus() if cpus is None else cpus
    memory = _available_memory_mb() if available_memory is None else available_memory
    files = _open_files_limit() if open_files is None else open_files
    limits = [(cpus, f"{cpus} CPUs")]
    if memory is not None:
        fit = int(memory // (job_memory + SUPERVISOR_MEMORY))
        limits.append(
            (
                fit,
                f"{memory:.0f} MB of memory available for jobs of {job_memory:g} "
                f"MB (setting job_memory) and their {SUPERVISOR_MEMORY} MB "
                f"supervisors",
            )
        )
    if files is not None:
        fit = (files - FDS_RESERVED) // FDS_PER_JOB
        limits.append((fit, f"an open-file limit of {files} (ulimit -n)"))
    allowed, why = min(limits, key=lambda limit: limit[0])
    allowed = max(1, allowed)
    if asked is not None and asked <= allowed:
        return asked, None
    return allowed, why


def supervisor_argv(exit_file: Path, command: Sequence[str]) -> list[str]:
    """The argv of a job's main process: ``supervise.py`` around ``command``."""
    # -I -S: no site-packages or .pth files to import (a .pth of an editable
    # install may import a lot): ~1 MB less per running job.
    return [sys.executable, "-I", "-S", str(SUPERVISOR), str(exit_file), "--", *command]


#: What the local engine declares (see ``engine.py`` of the batch core).
SPEC: Final = EngineSpec(
    name="local",
    settings=LocalBatchSettings,
    # Processes cannot wait for other processes: a job starts once its parents
    # succeeded, so the driver submits it only then.
    max_parents=0,
    # Names become file names (<job>.log, <job>.json): no path separators or
    # dots, and distinct on a case-insensitive file system (macOS).
    job_names=JobNameRule(max_length=128, characters="A-Za-z0-9_-"),
    statuses={
        "running": JobStatus.RUNNING,
        "succeeded": JobStatus.SUCCEEDED,
        "failed": JobStatus.FAILED,
    },
    setting_defaults={
        "max_parallel": os.cpu_count() or 1,
        "executable": driver_kedro(),
        # A local process is checked in microseconds, and wait() returns when a
        # job exits, so these only bound how stale the progress display gets.
        "poll_interval": 0.5,
        "max_poll_interval": 2.0,
    },
)


def _recorded_exit(path: Path) -> int | None:
    """The exit code ``supervise.py`` recorded, or ``None`` if it recorded none."""
    try:
        code = json.loads(path.read_text())["exit_code"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, int) else None


def _attempt_log(log_dir: Path, name: str) -> Path:
    """The log of a new attempt of job ``name``: ``<job>.log`` for the first,
    ``<job>.<n>.log`` for the n-th (an earlier attempt's log is evidence)."""
    path = log_dir / f"{name}.log"
    # Bounded: one attempt per driver of the run.
    for attempt in range(2, 100_000):
        if not path.exists():
            return path
        path = log_dir / f"{name}.{attempt}.log"
    return path


def _recorded_log(log_dir: Path, name: str) -> Path:
    """The log ``submit`` recorded for job ``name`` (``<job>.json``)."""
    try:
        log = json.loads((log_dir / f"{name}.json").read_text()).get("log")
    except (OSError, ValueError, AttributeError):
        log = None
    return Path(log) if isinstance(log, str) else log_dir / f"{name}.log"


def _write_record(path: Path, record: Mapping[str, Any]) -> None:
    atomic_write(path, json.dumps(record))


class LocalBatchEngine(EngineBase[LocalBatchSettings]):
    """Runs each submitted job at once as a local subprocess (see the module doc).

    Args:
        settings: The local settings (log directory, terminate timeout, tail).
        run_id: The run's id; the job logs go to ``<log_dir>/<run_id>/``.
        project_path: The project directory: the jobs' working directory.
        environ: The environment the jobs start from; ``os.environ`` by default.

    Example:
        >>> engine = LocalBatchEngine(
        ...     LocalBatchSettings(), run_id=plan.run_id, project_path=Path.cwd()
        ... )  # doctest: +SKIP
    """

    spec: ClassVar[EngineSpec] = SPEC
    label = "local processes"

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
        self.log_dir = log_dir / path_component(run_id, source="the run id")
        self._environ = dict(os.environ if environ is None else environ)
        self._jobs: dict[str, _JobProcess] = {}
        #: The run it was opened for (``check`` checks its jobs' programs).
        self._run: EngineRun | None = None

    @classmethod
    def open(cls, run: EngineRun, settings: LocalBatchSettings) -> LocalBatchEngine:
        """An engine running the jobs in the run's project directory; nothing
        is started or written (see ``check``)."""
        engine = cls(settings, run_id=run.run_id, project_path=run.project_path)
        engine._run = run
        return engine

    @classmethod
    def bound_settings(
        cls, settings: BatchSettings, engine_settings: LocalBatchSettings | None
    ) -> BatchSettings:
        """``settings`` with ``max_parallel`` capped by what this machine can hold
        (``machine_parallelism``), with one warning that says what was asked,
        what is used and why. Every runner on this engine gets it:
        ``LocalBatchRunner`` and ``BatchRunner`` with ``engine: local``."""
        job_memory = (engine_settings or LocalBatchSettings()).job_memory
        asked = settings.max_parallel
        used, why = machine_parallelism(asked, job_memory=job_memory)
        if why is None:
            return settings
        logger.warning(
            "max_parallel=%s asked; running at most %d job(s) at once: %s.",
            "all" if asked is None else asked,
            used,
            why,
        )
        return attrs.evolve(settings, max_parallel=used)

    def check(self) -> list[BatchSettingsError]:
        """The run's pre-flight: every job's program can be started here (a
        misspelt ``executable`` would fail every job, one after another). When
        it passes, the plan and where the logs go are logged: the driver starts
        the jobs next (here, not in ``open``: ``kedro batch status`` opens the
        engine too)."""
        run = self._run
        if run is None:
            return []
        # A job's program is looked up on the PATH it gets (supervise.py runs it).
        programs = {
            job.command[0]: {**self._environ, **job.env}.get("PATH")
            for job in run.plan.jobs
            if job.command
        }
        problems = [
            BatchSettingsError(
                "executable",
                f"Batch setting 'executable' names the program {program!r}, which "
                f"is not an executable file here (looked for in the project "
                f"directory and on PATH). {where_to_set('executable')}",
            )
            for program, path in programs.items()
            if not self._startable(program, path)
        ]
        if not problems:
            logger.info("%s", plan_text(run.plan, self.spec.name).rstrip())
            logger.info(
                "Running %d job(s) as local processes, at most %s at once; job logs "
                "in %s",
                len(run.plan.jobs),
                run.settings.max_parallel or "all",
                self.log_dir,
            )
        return problems

    def _startable(self, program: str, search_path: str | None) -> bool:
        if os.sep in program:  # a path, relative to the jobs' directory
            path = self._project_path / program
            return path.is_file() and os.access(path, os.X_OK)
        return shutil.which(program, path=search_path) is not None

    def submit(self, submission: Submission) -> str:
        """Start the job's process; its id is the job name (unique in the run)."""
        job = submission.job
        if submission.depends_on:  # the driver never does this (see above)
            raise ValueError(
                f"Job {job.name!r} was submitted before its parents "
                f"{list(submission.depends_on)} finished; local jobs cannot wait."
            )
        # Pre-flight checked these for a planned run; a job given straight to
        # the engine is checked here, before anything starts.
        name = path_component(job.name, source="the job's name")
        source = f"job {name!r}"
        command = [argv_argument(part, source=source) for part in job.command]
        job_env = dict(
            environment_variable(key, value, source=source)
            for key, value in job.env.items()
        )
        env = {**OUTPUT_ENV_DEFAULTS, **self._environ, **job_env}
        log_path = _attempt_log(self.log_dir, name)
        exit_file = self.log_dir / f"{name}.exit"
        exit_file.unlink(missing_ok=True)  # an earlier driver's try of this job
        argv = supervisor_argv(exit_file, command)
        with _signals_deferred():
            try:
                process = _JobProcess(
                    argv, env=env, cwd=self._project_path, log_path=log_path
                )
            except OSError as error:
                if error.errno not in _EXHAUSTED:
                    raise
                raise BatchError(
                    f"Job {name!r} could not start: {error.strerror} "
                    f"({len(self.running())} job(s) of this run running; open-file "
                    f"limit {_open_files_limit()}). Lower the batch setting "
                    f"max_parallel, or raise the limit (ulimit -n) or free memory."
                ) from None
            self._jobs[job.name] = process
        _write_record(
            self._record_path(job.name),
            {
                "pid": process.pid,
                "start": process_start(process.pid),
                "log": str(log_path),
            },
        )
        logger.info(
            # The pid is the job's supervisor's, which leads the process group
            # the job's `kedro run` runs in: say group, not process.
            "Job %s started (process group %d, nodes: %s); log: %s",
            job.name,
            process.pid,
            ", ".join(job.nodes),
            log_path,
        )
        return job.name

    def _record_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.json"

    def running(self) -> list[str]:
        """The jobs this engine started whose process has not been reaped."""
        return [name for name, job in self._jobs.items() if job.returncode is None]

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """``running`` while the process runs, then ``succeeded`` or ``failed``.

        Jobs another driver started (``kedro batch status`` asks from another
        process) are read from their records (``<job>.json``, ``<job>.exit``).
        """
        states: dict[str, JobState] = {}
        for job_id in job_ids:
            if job_id in self._jobs:
                states[job_id] = self._state(job_id)
                continue
            state = self._recorded_state(job_id)
            if state is not None:
                states[job_id] = state
        return states

    def _read_record(self, name: str) -> tuple[int, str | None] | None:
        """The pid and start time ``submit`` recorded for job ``name``, if any."""
        path = self._record_path(name)
        try:
            record = json.loads(path.read_text())
            pid = int(record["pid"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            logger.warning("Ignoring the unreadable job record %s.", path)
            return None
        start = record.get("start")
        return pid, start if isinstance(start, str) else None

    def _recorded_state(self, name: str) -> JobState | None:
        """The state of a job another process started, from its records."""
        record = self._read_record(name)
        if record is None:
            return None
        pid, start = record
        exit_code = _recorded_exit(self.log_dir / f"{name}.exit")
        if exit_code is not None:
            return self._state_of(name, exit_code, pid)
        location = str(_recorded_log(self.log_dir, name))
        if is_running(pid, start):
            return _local_state(name, "running", log_location=location)
        return _local_state(
            name,
            "failed",
            reason=f"the job's process group ({pid}) is gone and recorded no exit "
            f"code (killed)",
            log_location=location,
        )

    def process_group(self, job_id: str) -> int:
        """The process group id of a submitted job (its main process's pid).

        Raises:
            KeyError: For a job this engine did not start.
        """
        return self._jobs[job_id].pid

    def _state(self, job_id: str) -> JobState:
        process = self._jobs[job_id]
        return self._state_of(job_id, process.poll(), process.pid)

    def _state_of(self, job_id: str, returncode: int | None, pid: int) -> JobState:
        process = self._jobs.get(job_id)
        log = process.log_path if process else _recorded_log(self.log_dir, job_id)
        location = str(log)
        if returncode is None:
            return _local_state(job_id, "running", log_location=location)
        if returncode == 0:
            return _local_state(job_id, "succeeded", exit_code=0, log_location=location)
        lines = _tail(Path(location), self._settings.tail_lines)
        detail = (
            f"last {len(lines)} line(s) of {location}:\n" + "\n".join(lines)
            if lines
            else f"{location} is empty"
        )
        return _local_state(
            job_id,
            "failed",
            reason=f"the job's command (process group {pid}) "
            f"{_describe_exit(returncode)}",
            detail=detail,
            exit_code=returncode,
            log_location=location,
        )

    def find_jobs(self) -> dict[str, JobState]:
        """The jobs an earlier driver of this run started, from their records.

        A finished job is reported as it ended. A job whose process still runs
        (its driver was killed) is killed with its group and left out, so the
        driver runs it again rather than twice at once.
        """
        found: dict[str, JobState] = {}
        for path in sorted(self.log_dir.glob("*.json")):
            name = path.stem
            record = None if name in self._jobs else self._read_record(name)
            if record is None:
                continue
            pid, start = record
            exit_code = _recorded_exit(self.log_dir / f"{name}.exit")
            if exit_code is not None:
                found[name] = self._state_of(name, exit_code, pid)
                continue
            if is_running(pid, start):
                logger.warning(
                    "Job %s (process group %d) of run %s is still running without its "
                    "driver; killing its process group to run it again.",
                    name,
                    pid,
                    self.log_dir.name,
                )
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        return found

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        """SIGTERM every job's group at once; SIGKILL what is left after the timeout.

        A second interruption while waiting (Ctrl-C again) kills at once.
        """
        self._cancel_recorded(
            [job_id for job_id in job_ids if job_id not in self._jobs], reason
        )
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

    def _cancel_recorded(self, job_ids: Sequence[str], reason: str) -> None:
        """Stop jobs another driver started (``kedro batch cancel``).

        Their groups get SIGTERM, then SIGKILL after the timeout; a pid is
        signalled only while it is still the recorded process (its start time
        matches), so a reused pid is never hit.
        """
        running: dict[int, str | None] = {}
        for job_id in job_ids:
            record = self._read_record(job_id)
            if record is not None and is_running(*record):
                logger.warning(
                    "Terminating job process group %d (%s): %s",
                    record[0],
                    job_id,
                    reason,
                )
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(record[0], signal.SIGTERM)
                running[record[0]] = record[1]
        deadline = time.monotonic() + self._settings.terminate_timeout
        # Bounded by the deadline.
        while running and time.monotonic() < deadline:
            running = {
                pid: start for pid, start in running.items() if is_running(pid, start)
            }
            time.sleep(EXIT_CHECK_INTERVAL)
        for pid, start in running.items():
            if is_running(pid, start):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)

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
        """Kill whatever is still running (the driver cancels jobs first)."""
        for process in self._jobs.values():
            process.kill()


def _local_state(job_id: str, word: str, **details: Any) -> JobState:
    """A ``JobState`` in the local engine's words."""
    return JobState(
        job_id=job_id,
        status=SPEC.status(word),
        engine_status=word,
        name=job_id,
        **details,
    )
