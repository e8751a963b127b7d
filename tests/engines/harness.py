"""One harness per engine, so every contract test runs against every engine.

A contract job is a real process: a short Python script that records, in the
harness's directory, the environment it got and which jobs had finished when it
started, sleeps if asked, and fails if asked. The local engine runs it as a
process of its own; AWS Batch (moto's server over HTTP, with ``MotoCompute``)
runs it as the job's container command. The harness only builds jobs and opens
engines: what happens to them is the engine's.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kedro_pipelinename.batch.engine import Engine, EngineRun, Submission
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.settings import BatchSettings

RUN_ID = "2026-12-01T10.00.00.000Z"

#: Job names start with the run's ``job_name_prefix`` (``BatchSettings``'s
#: default), as every planned job's does: engines find a run's jobs by it.
PREFIX = "kedro-"


def named(*names: str) -> list[str]:
    """The job names of contract jobs called ``names``."""
    return [f"{PREFIX}{name}" for name in names]


#: Fast polling: the contract is about what happens, not how quickly.
FAST = BatchSettings(poll_interval=0.05, max_poll_interval=0.2)

JOB_SCRIPT = r"""
import json, os, pathlib, sys, time
out, name = pathlib.Path(sys.argv[1]), sys.argv[2]
done = sorted(p.stem for p in out.glob("*.done"))
started = sorted(p.stem for p in out.glob("*.started"))
(out / f"{name}.started").write_text(json.dumps({
    "pid": os.getpid(),
    "env": dict(os.environ),
    "finished_before": done,
    "unfinished_at_start": len(set(started) - set(done)),
}))
for _ in range(int(float(os.environ.get("CONTRACT_SLEEP", "0")) * 20)):
    time.sleep(0.05)
if os.environ.get("CONTRACT_FAIL") == "1":
    print("contract job fails on purpose", flush=True)
    sys.exit(3)
(out / f"{name}.done").write_text("")
"""


class Recording:
    """Wraps an engine and records every submission (to check what was asked)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.submissions: list[Submission] = []
        self.spec = engine.spec
        self.label = engine.label

    def submit(self, submission: Submission) -> str:
        self.submissions.append(submission)
        return self.engine.submit(submission)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def no_calls() -> int:
    """An engine with no remote side (local processes) calls nothing."""
    return 0


class Harness:
    """Builds contract jobs and opens engines of one kind.

    Args:
        name: The engine's name (the test id).
        open_engine: ``run -> engine``.
        out: Where the jobs record what they saw.
        open_missing: ``run -> engine`` whose settings (or, for the local
            engine, jobs' programs) name two resources that do not exist: its
            ``check`` must report both. ``run``'s plan has a job in the
            namespace ``big``.
        backend_calls: How many calls every engine of this harness has made to
            what runs the jobs (AWS Batch API calls, SLURM commands) so far.
    """

    def __init__(
        self,
        name: str,
        open_engine: Callable[[EngineRun], Engine],
        out: Path,
        *,
        open_missing: Callable[[EngineRun], Engine] | None = None,
        backend_calls: Callable[[], int] = no_calls,
    ) -> None:
        self.name = name
        self._open = open_engine
        self._open_missing = open_missing or open_engine
        self.backend_calls = backend_calls
        self.out = out

    def alive(self) -> list[str]:
        """The jobs whose process still runs (a zombie does not count)."""
        names = []
        for path in sorted(self.out.glob("*.started")):
            pid = json.loads(path.read_text())["pid"]
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2]
            except OSError:
                continue
            if state.split()[0] != "Z":
                names.append(path.stem)
        return names

    def job(
        self,
        name: str,
        parents: Sequence[str] = (),
        *,
        fail: bool = False,
        sleep: float = 0.0,
        env: Mapping[str, str] | None = None,
    ) -> PlannedJob:
        return PlannedJob(
            name=f"{PREFIX}{name}",
            group=name,
            namespace=None,
            nodes=(f"{name}.node",),
            tags=(),
            depends_on=named(*parents),
            command=(sys.executable, "-c", JOB_SCRIPT, str(self.out), PREFIX + name),
            env={
                "KEDRO_PIPELINENAME_RUN_ID": RUN_ID,
                "CONTRACT_FAIL": "1" if fail else "0",
                "CONTRACT_SLEEP": str(sleep),
                **(env or {}),
            },
        )

    def plan(self, jobs: Sequence[PlannedJob], run_id: str = RUN_ID) -> JobPlan:
        return JobPlan(
            run_id=run_id, pipeline_names=("contract",), grouping="none", jobs=jobs
        )

    def open(self, plan: JobPlan, settings: BatchSettings = FAST) -> Recording:
        run = EngineRun(plan=plan, settings=settings, project_path=self.out)
        return Recording(self._open(run))

    def open_missing(self, plan: JobPlan) -> Recording:
        """An engine for ``plan`` naming two resources that do not exist."""
        run = EngineRun(plan=plan, settings=FAST, project_path=self.out)
        return Recording(self._open_missing(run))

    def eventually_stopped(self) -> list[str]:
        """The jobs still running once every cancelled one had time to stop.

        An engine may stop a job after ``cancel`` returned (AWS Batch's
        TerminateJob is asynchronous); bounded: 200 looks, 50 ms apart.
        """
        for _ in range(200):
            if not self.alive():
                return []
            time.sleep(0.05)
        return self.alive()

    def started(self, name: str) -> dict[str, Any] | None:
        """What the job saw when it started, or ``None`` if it never did."""
        path = self.out / f"{self._full(name)}.started"
        if not path.exists():
            return None
        record: dict[str, Any] = json.loads(path.read_text())
        return record

    def finished(self, name: str) -> bool:
        """Whether the job ran to its end."""
        return (self.out / f"{self._full(name)}.done").exists()

    @staticmethod
    def _full(name: str) -> str:
        return name if name.startswith(PREFIX) else PREFIX + name
