"""An example batch engine: each job a background process on this machine."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence

from attrs import define

from kedro_pipelinename.batch.kit import (
    BatchSettingsError,
    EngineBase,
    EngineRun,
    EngineSpec,
    JobNameRule,
    JobState,
    JobStatus,
    Submission,
    setting,
)

#: Runs the job's command, then writes its exit code to the file ``$0`` (so a
#: later driver of the run finds how the job ended).
RUN_AND_RECORD = 'code=0; "$@" || code=$?; echo $code > "$0.tmp"; mv "$0.tmp" "$0"'


@define(frozen=True, kw_only=True)
class ExampleSettings:
    """Set in the ``example_batch:`` block, ``batch:`` or ``KEDRO_BATCH_LOG_DIR``."""

    log_dir: str = setting("logs/example_batch")


class ExampleEngine(EngineBase[ExampleSettings]):
    spec = EngineSpec(
        name="example",
        settings=ExampleSettings,
        max_parents=0,  # the driver submits a job once its parents succeeded
        job_names=JobNameRule(max_length=128),
        statuses={
            "running": JobStatus.RUNNING,
            "succeeded": JobStatus.SUCCEEDED,
            "failed": JobStatus.FAILED,
        },
        parameters_block="example_batch",
    )
    label = "example background processes"

    def __init__(self, run: EngineRun, settings: ExampleSettings) -> None:
        super().__init__(run, settings)
        self.directory = run.project_path / settings.log_dir / run.run_id
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def check(self) -> list[BatchSettingsError]:
        programs = sorted({job.command[0] for job in self.run.plan.jobs})
        return [
            BatchSettingsError("executable", f"No program {program!r} on PATH.")
            for program in programs
            if shutil.which(program) is None
        ]

    def submit(self, submission: Submission) -> str:
        job = submission.job
        self.directory.mkdir(parents=True, exist_ok=True)
        exit_file = self.directory / f"{job.name}.exit"
        exit_file.unlink(missing_ok=True)  # an earlier driver's try of this job
        with open(self.directory / f"{job.name}.log", "wb") as log:
            self.processes[job.name] = subprocess.Popen(
                ["/bin/sh", "-c", RUN_AND_RECORD, str(exit_file), *job.command],
                env={**os.environ, **job.env},
                cwd=self.run.project_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: cancel stops all
            )
        return job.name

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        states = {job_id: self._state(job_id) for job_id in job_ids}
        return {job_id: state for job_id, state in states.items() if state}

    def find_jobs(self) -> dict[str, JobState]:
        # A job still running when its driver died is not found: a rerun starts
        # it again (the local engine kills such a job first).
        names = [path.stem for path in sorted(self.directory.glob("*.exit"))]
        return self.poll(names)

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        for job_id in job_ids:
            process = self.processes.get(job_id)
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                self._state(job_id)  # records how it ended

    def close(self) -> None:
        self.cancel(list(self.processes), "the driver closed the engine")

    def _state(self, name: str) -> JobState | None:
        exit_file = self.directory / f"{name}.exit"
        process = self.processes.get(name)
        if not exit_file.exists() and process is not None:
            if process.poll() is None:
                return self._job_state(name, "running", None)
            exit_file.write_text(str(process.returncode))  # killed: no exit code
        if not exit_file.exists():
            return None  # not this run's job, or still starting elsewhere
        code = int(exit_file.read_text())
        return self._job_state(name, "succeeded" if code == 0 else "failed", code)

    def _job_state(self, name: str, word: str, code: int | None) -> JobState:
        log = str(self.directory / f"{name}.log")
        return JobState(
            job_id=name,
            name=name,
            status=self.spec.status(word),
            engine_status=word,
            exit_code=code,
            log_location=log,
        )
