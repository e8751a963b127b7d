"""The harness: what the contract suite needs to know of one engine.

A contract job is a real process: a short Python script that records, in the
harness's ``out`` directory, the environment it got and which jobs had finished
when it started, sleeps if asked, and fails (exit code 3) if asked. An engine
runs it as it runs any job's command; the harness only builds jobs, opens
engines and looks at the job processes: what happens to them is the engine's.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import psutil
import pytest

from kedro_pipelinename.batch.kit import (
    ArrayIds,
    ArraySpec,
    ArraySubmission,
    BatchSettings,
    Engine,
    EngineRun,
    JobPlan,
    PlannedArray,
    PlannedJob,
    Submission,
)

RUN_ID = "2026-12-01T10.00.00.000Z"

#: Job names start with the run's ``job_name_prefix`` (``BatchSettings``'s
#: default), as every planned job's does: engines find a run's jobs by it.
PREFIX = "kedro-"

#: Fast polling: the contract is about what happens, not how quickly.
FAST = BatchSettings(poll_interval=0.05, max_poll_interval=0.2)

#: The exit code of a contract job made to fail.
FAILING_EXIT_CODE = 3

JOB_SCRIPT = r"""
import json, os, pathlib, sys, time
out, name = pathlib.Path(sys.argv[1]), sys.argv[2]
done = sorted(p.stem for p in out.glob("*.done"))
started = sorted(p.stem for p in out.glob("*.started"))
record = out / f"{name}.started.tmp"
record.write_text(json.dumps({
    "pid": os.getpid(),
    "env": dict(os.environ),
    "finished_before": done,
    "unfinished_at_start": len(set(started) - set(done)),
}))
os.replace(record, out / f"{name}.started")
for _ in range(int(float(os.environ.get("CONTRACT_SLEEP", "0")) * 20)):
    time.sleep(0.05)
if os.environ.get("CONTRACT_FAIL") == "1":
    print("contract job fails on purpose", flush=True)
    sys.exit(3)
(out / f"{name}.done").write_text("")
"""


#: What a child of a contract array runs: the job script, as the job its index
#: names (``sys.argv``: out, the index variable, failing indexes, job names).
ARRAY_JOB_SCRIPT = (
    r"""
import os, sys
out, variable, failing, *names = sys.argv[1:]
index = int(os.environ[variable])
if str(index) in failing.split(","):
    os.environ["CONTRACT_FAIL"] = "1"
sys.argv = [sys.argv[0], out, names[index]]
"""
    + JOB_SCRIPT
)


def named(*names: str) -> list[str]:
    """The job names of contract jobs called ``names``."""
    return [f"{PREFIX}{name}" for name in names]


class Recording:
    """Wraps an engine and records every submission (to check what was asked).

    The driver may call ``submit`` from several threads at once (up to
    ``spec.submit_concurrency``): the wrapper also records how many calls were
    in flight at most, and for each submission which jobs' submits had
    returned (with their ids) when it was sent.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.submissions: list[Submission] = []
        #: The arrays submitted (``submit_array``), for an engine with arrays.
        self.arrays: list[ArraySubmission] = []
        #: Per submitted job name: the job names -> ids returned before it.
        self.returned_before: dict[str, dict[str, str]] = {}
        self.max_in_flight = 0
        self.spec = engine.spec
        self.label = engine.label
        self._returned: dict[str, str] = {}
        self._in_flight = 0
        self._lock = threading.Lock()

    def submit(self, submission: Submission) -> str:
        with self._lock:
            self.submissions.append(submission)
            self.returned_before[submission.job.name] = dict(self._returned)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            job_id = self.engine.submit(submission)
        finally:
            with self._lock:
                self._in_flight -= 1
        with self._lock:
            self._returned[submission.job.name] = job_id
        return job_id

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.engine, name)
        if name == "submit_array":
            # Only an engine with arrays has it: the driver looks for it.
            def submit_array(array: ArraySubmission) -> ArrayIds:
                with self._lock:
                    self.arrays.append(array)
                ids: ArrayIds = attribute(array)
                return ids

            return submit_array
        return attribute


class EngineHarness:
    """What the contract suite needs to know of your engine: subclass it.

    Write ``name`` and ``open_engine``; the rest has defaults for an engine whose
    jobs run on this machine (or on a file system and process table it shares).

    Attributes:
        name: The engine's entry-point name (``spec.name``).
        out: A directory the contract jobs write to, fresh for each test.
        request: The test's pytest request (``request.getfixturevalue(...)``
            gives your own fixtures: a server, a cluster).

    Example:
        >>> class MyHarness(EngineHarness):  # doctest: +SKIP
        ...     name = "mine"
        ...     def open_engine(self, run):
        ...         return MyEngine.open(run, MySettings())
    """

    name: ClassVar[str]

    def __init__(self, out: Path, request: pytest.FixtureRequest) -> None:
        self.out = out
        self.request = request

    # --- what you write -----------------------------------------------------------

    def open_engine(self, run: EngineRun) -> Engine:
        """Your engine opened for ``run`` (with settings for a test backend)."""
        raise NotImplementedError(f"{type(self).__name__} must define open_engine")

    def open_missing(self, run: EngineRun) -> Engine | None:
        """Your engine opened with settings (or, given ``run``'s jobs, programs)
        naming two resources that do not exist, whose ``check`` must report both;
        ``run``'s plan has a job in the namespace ``big``. ``None`` (the default):
        the engine has no ``check``, and the contract test of it is skipped."""
        return None

    def backend_calls(self) -> int:
        """How many calls every engine of this harness has made so far to what
        runs the jobs (API calls, cluster commands): ``open`` must make none.
        Default 0: an engine with no remote side."""
        return 0

    def running(self) -> contextlib.AbstractContextManager[object]:
        """Around each test: start what runs the jobs (a fake backend), stop it
        after. Default: nothing."""
        return contextlib.nullcontext()

    def job_command(self, name: str) -> list[str]:
        """The argv of the contract job called ``name``: the job script run by
        this interpreter. A job fails (exit code 3) when its environment says
        ``CONTRACT_FAIL=1``, which the suite sets in the job's ``env``: an engine
        that passes each job its environment makes it fail. Override it when
        your jobs start elsewhere (a container image with Python, and ``out``
        mounted)."""
        return [sys.executable, "-c", JOB_SCRIPT, str(self.out), name]

    def job_process(self, name: str) -> psutil.Process | None:
        """The live process of the job ``name``, or ``None`` once it is gone (a
        zombie counts as gone). Default: the pid the job recorded, looked up
        with psutil on this machine, and still running the job's script (a
        reused pid is not the job). Override it when jobs run on other hosts."""
        path = self.out / f"{name}.started"
        try:
            pid = int(json.loads(path.read_text())["pid"])
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            if str(self.out) not in process.cmdline():
                return None
        except (OSError, ValueError, KeyError, psutil.Error):
            return None
        return process

    # --- what the suite uses -------------------------------------------------------

    def alive(self) -> list[str]:
        """The jobs whose process still runs."""
        return [
            path.stem
            for path in sorted(self.out.glob("*.started"))
            if self.job_process(path.stem) is not None
        ]

    def kill_leftovers(self) -> list[str]:
        """Kill the job processes still running (after a test, whatever the
        engine did): the names killed."""
        killed = []
        for path in sorted(self.out.glob("*.started")):
            process = self.job_process(path.stem)
            if process is not None:
                with contextlib.suppress(psutil.Error):
                    process.kill()
                killed.append(path.stem)
        return killed

    def job(
        self,
        name: str,
        parents: Sequence[str] = (),
        *,
        fail: bool = False,
        sleep: float = 0.0,
        env: Mapping[str, str] | None = None,
    ) -> PlannedJob:
        """A contract job called ``kedro-<name>``, after ``parents``."""
        return PlannedJob(
            name=f"{PREFIX}{name}",
            group=name,
            namespace=None,
            nodes=(f"{name}.node",),
            tags=(),
            depends_on=named(*parents),
            command=tuple(self.job_command(PREFIX + name)),
            env={
                "KEDRO_PIPELINENAME_RUN_ID": RUN_ID,
                "CONTRACT_FAIL": "1" if fail else "0",
                "CONTRACT_SLEEP": str(sleep),
                **(env or {}),
            },
        )

    def array(
        self,
        name: str,
        members: Sequence[PlannedJob],
        index_variable: str,
        *,
        depends_on: Sequence[str] = (),
        pairs_with: Sequence[str] = (),
        failing: Sequence[int] = (),
    ) -> PlannedArray:
        """An array ``kedro-<name>`` of ``members`` (contract jobs): child *i*
        runs ``members[i]``'s job script, failing for the indexes ``failing``."""
        command = [
            *self.job_command(PREFIX + name)[:-2],
            str(self.out),
            index_variable,
            ",".join(str(index) for index in failing),
            *(job.name for job in members),
        ]
        command[command.index(JOB_SCRIPT)] = ARRAY_JOB_SCRIPT
        return PlannedArray(
            name=f"{PREFIX}{name}",
            jobs=members,
            pairs_with=named(*pairs_with),
            depends_on=named(*depends_on),
            spec=ArraySpec(
                pipelines=("contract",),
                template=("node",),
                offset=0,
                count=len(members),
                nodes_at=0,
                fingerprint="contract",
            ),
            command=command,
        )

    def plan(self, jobs: Sequence[PlannedJob], run_id: str = RUN_ID) -> JobPlan:
        """A plan of ``jobs``."""
        return JobPlan(
            run_id=run_id, pipeline_names=("contract",), grouping="none", jobs=jobs
        )

    def open(self, plan: JobPlan, settings: BatchSettings = FAST) -> Recording:
        """The engine opened for ``plan``, recording what is submitted."""
        run = EngineRun(plan=plan, settings=settings, project_path=self.out)
        return Recording(self.open_engine(run))

    def open_with_missing(self, plan: JobPlan) -> Recording | None:
        """``open_missing`` for ``plan``, recording; ``None`` if it has none."""
        run = EngineRun(plan=plan, settings=FAST, project_path=self.out)
        opened = self.open_missing(run)
        return None if opened is None else Recording(opened)

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


def iter_harness(
    harness_class: type[EngineHarness], out: Path, request: pytest.FixtureRequest
) -> Iterator[EngineHarness]:
    """A harness for one test, its backend running; afterwards no job process
    of the test is left running, whatever the engine did."""
    harness = harness_class(out, request)
    try:
        with harness.running():
            yield harness
    finally:
        harness.kill_leftovers()
