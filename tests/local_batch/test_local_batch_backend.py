"""``LocalBatchEngine`` on plain shell jobs: process groups, logs, termination.

No Kedro here: each job is ``sh -c`` so that what the backend does to processes
is seen directly, in milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kedro_pipelinename.batch import BatchSettingsError, LocalBatchRunner
from kedro_pipelinename.batch.engine import JobStatus, Submission
from kedro_pipelinename.batch.plan import PlannedJob
from kedro_pipelinename.engines.local import processes as local
from kedro_pipelinename.engines.local.processes import LocalBatchEngine
from kedro_pipelinename.engines.local.settings import LocalBatchSettings
from tests.support.processes import group_exists, is_alive
from tests.support.waiting import final_status, wait_until

RUN_ID = "2026-01-15T10.30.00.000Z"
DEADLINE = 30.0


def _job(name: str, script: str) -> Submission:
    return Submission(
        job=PlannedJob(
            name=name,
            group=name,
            namespace=None,
            nodes=[f"{name}_node"],
            tags=[],
            depends_on=[],
            command=["sh", "-c", script],
            env={"JOB_MARKER": name},
        )
    )


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBatchEngine]:
    backend = LocalBatchEngine(
        LocalBatchSettings(terminate_timeout=0.5, tail_lines=3),
        run_id=RUN_ID,
        project_path=tmp_path,
    )
    yield backend
    backend.close()


def test_job_runs_in_the_project_with_the_job_env_and_logs_to_its_file(
    backend: LocalBatchEngine, tmp_path: Path
) -> None:
    job_id = backend.submit(_job("a", 'echo "$JOB_MARKER in $(pwd)"'))

    assert final_status(backend, job_id, timeout=DEADLINE) is JobStatus.SUCCEEDED
    log = tmp_path / "logs" / "local_batch" / RUN_ID / "a.log"
    assert log.read_text() == f"a in {tmp_path}\n"
    assert backend.poll([job_id])[job_id].log_location == str(log)


def test_failed_job_reports_exit_code_log_and_its_last_lines(
    backend: LocalBatchEngine,
) -> None:
    job_id = backend.submit(
        _job("b", "for i in 1 2 3 4 5; do echo line $i; done; exit 3")
    )

    assert final_status(backend, job_id, timeout=DEADLINE) is JobStatus.FAILED
    state = backend.poll([job_id])[job_id]
    assert state.exit_code == 3
    assert state.reason is not None and state.reason.endswith("exited with code 3")
    assert state.detail == (
        f"last 3 line(s) of {state.log_location}:\nline 3\nline 4\nline 5"
    )


def test_processes_a_job_leaves_behind_are_killed_when_it_exits(
    backend: LocalBatchEngine, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    job_id = backend.submit(_job("c", f"sleep 300 & echo $! > {pid_file}; exit 0"))

    assert final_status(backend, job_id, timeout=DEADLINE) is JobStatus.SUCCEEDED
    child = int(pid_file.read_text())
    try:
        wait_until(
            lambda: not is_alive(child),
            "the job's leftover child was killed",
            timeout=DEADLINE,
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def test_terminate_sends_sigterm_then_kills_a_group_that_ignores_it(
    backend: LocalBatchEngine, tmp_path: Path
) -> None:
    ready, terminated = tmp_path / "ready", tmp_path / "got-sigterm"
    # The sleep inherits SIGTERM ignored; the shell notes SIGTERM and keeps waiting.
    script = (
        f"trap '' TERM; sleep 300 & trap 'touch {terminated}' TERM; "
        f"touch {ready}; wait; wait"
    )
    job_id = backend.submit(_job("d", script))
    wait_until(ready.exists, "the job started", timeout=DEADLINE)

    backend.cancel([job_id], "test")

    # SIGTERM came first (the shell's trap ran), and SIGKILL ended the group.
    assert terminated.exists()
    state = backend.poll([job_id])[job_id]
    assert state.exit_code == -signal.SIGKILL
    pgid = backend.process_group(job_id)
    # The group's processes may linger a moment as zombies until init reaps them.
    wait_until(
        lambda: not group_exists(pgid), "the job's group is gone", timeout=DEADLINE
    )


def test_terminate_lets_a_job_finish_its_sigterm_handler(tmp_path: Path) -> None:
    backend = LocalBatchEngine(
        LocalBatchSettings(terminate_timeout=DEADLINE),
        run_id=RUN_ID,
        project_path=tmp_path,
    )
    ready = tmp_path / "ready"
    job_id = backend.submit(
        _job("f", f"trap 'sleep 0.2; exit 7' TERM; touch {ready}; sleep 300 & wait")
    )
    try:
        wait_until(ready.exists, "the job started", timeout=DEADLINE)

        backend.cancel([job_id], "test")

        # Its own exit code, not SIGKILL's: the handler ran to its end.
        assert backend.poll([job_id])[job_id].exit_code == 7
    finally:
        backend.close()


class _CountingClock:
    """Stands in for ``time`` in ``batch.local.processes``: its seconds pass only in
    ``sleep``, which also sleeps for real so that jobs run meanwhile."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        time.sleep(seconds)


def test_wait_returns_as_soon_as_a_job_exits(
    backend: LocalBatchEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = tmp_path / "go"
    job_id = backend.submit(_job("e", f"until [ -e {go} ]; do sleep 0.01; done"))
    clock = _CountingClock()
    monkeypatch.setattr(local, "time", clock)
    go.touch()  # the job exits while wait() checks

    backend.wait(DEADLINE)

    # Long before the deadline's number of checks, and because the job exited.
    assert clock.sleeps < DEADLINE / local.EXIT_CHECK_INTERVAL / 10
    assert backend.poll([job_id])[job_id].status is JobStatus.SUCCEEDED


def test_wait_does_not_sleep_once_a_job_has_exited(
    backend: LocalBatchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = backend.submit(_job("g", "exit 0"))
    # Blocks until the job's process exited, leaving it for the backend to reap.
    os.waitid(os.P_PID, backend.process_group(job_id), os.WEXITED | os.WNOWAIT)
    clock = _CountingClock()
    monkeypatch.setattr(local, "time", clock)

    backend.wait(DEADLINE)

    assert clock.sleeps == 0


def test_unknown_and_invalid_local_settings_are_errors_naming_them() -> None:
    with pytest.raises(BatchSettingsError, match=r"'log_dri'.*Did you mean log_dir"):
        LocalBatchRunner(log_dri="x")
    with pytest.raises(BatchSettingsError, match="terminate_timeout"):
        LocalBatchRunner(terminate_timeout=-1).resolve_settings()


def test_ctrl_c_while_a_job_starts_is_raised_once_the_job_is_registered() -> None:
    from kedro_pipelinename.engines.local.processes import _signals_deferred

    # As in a terminal: Python's Ctrl-C handler (a pytest started in the
    # background by a non-interactive shell inherits SIGINT ignored).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        registered = []
        with pytest.raises(KeyboardInterrupt), _signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)  # arrives mid-start
            time.sleep(0.05)  # Python runs signal handlers between bytecodes
            registered.append("job")

        assert registered == ["job"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
