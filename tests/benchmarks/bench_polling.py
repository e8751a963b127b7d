"""Parent-aware polling: DescribeJobs calls per DAG level, vs per-job polling, and
driver CPU per job, for ``AWSBatchRunner``'s driver on jobs that take time.

Run: ``python -m tests.benchmarks.bench_polling [--chain 400] [--wide 500]
[--duration 0.25]``. Not part of the test run: it prints numbers.

moto's server and ``MotoCompute`` (tests/engines/moto_compute.py: a job waits
for its ``dependsOn`` parents, then runs its container command, here ``sleep
<duration>``) run in a *separate process*, so that this process's CPU time
(``time.process_time``) is the driver's alone, botocore included. Two DAGs:

- **chain**: ``--chain`` jobs, each depending on the one before: one level per
  job. Target: <= 1.2 DescribeJobs calls per level.
- **wide**: ``--wide`` jobs in layers of 50, each depending on 3 of the layer
  before, and a fan-in of 30 (``support.plans.wide_dag``). Target: >= 100x
  fewer DescribeJobs calls than per-job polling.

"Per-job polling" (Kedro's AWS Batch guide: one ``describe_jobs(jobs=[id])``
per unfinished job per check) is counted in the same run, at the same rounds:
each round it would have made one call per submitted, unfinished job. "All
unfinished" is what the driver did before (every unfinished job each round,
100 per call). Target for both DAGs: <= 2 ms of driver CPU per job in the
driver's own loop (what it spends outside the engine's calls); the total with
botocore's SubmitJob and DescribeJobs (at least one of each per job on a chain,
a few ms each on a shared 2-core machine) is printed beside it.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import Engine, EngineRun, JobState
from kedro_pipelinename.batch.plan import JobPlan
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.aws.api import make_client
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from tests.support.aws import (
    StrictLimits,
    create_batch_resources,
    moto_api,
    reset_moto,
)
from tests.support.plans import RUN_ID, plan_of, planned, wide_dag

REGION = "eu-west-1"
CALLS_PER_LEVEL_TARGET = 1.2
PER_JOB_RATIO_TARGET = 100.0
CPU_MS_PER_JOB_TARGET = 2.0
SERVER_START_TIMEOUT = 60.0
#: How the server process's line with its URL starts (Kedro logs to stdout too).
ENDPOINT_MARK = "moto endpoint: "


def serve(workdir: str) -> None:
    """The server process: moto's server with MotoCompute until stdin closes."""
    from moto.server import ThreadedMotoServer

    from tests.support.moto_compute import MotoCompute

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    moto_api(endpoint, "/moto-api/config", {"batch": {"use_docker": False}})
    try:
        with MotoCompute(Path(workdir)).running():
            print(f"{ENDPOINT_MARK}{endpoint}", flush=True)
            sys.stdin.read()  # until the benchmark closes it
    finally:
        server.stop()


class Counting:
    """An engine that counts, per round, what per-job polling would have asked,
    and the CPU time spent in the engine's calls (botocore's, mostly)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.spec = engine.spec
        self.label = engine.label
        self.rounds = 0
        self.per_job_calls = 0
        self.all_unfinished_calls = 0
        self.ids_asked = 0
        self.engine_cpu = 0.0
        self._unfinished: set[str] = set()

    def submit(self, submission: Any) -> str:
        cpu = time.process_time()
        job_id = self.engine.submit(submission)
        self.engine_cpu += time.process_time() - cpu
        self._unfinished.add(job_id)
        return job_id

    def poll(self, job_ids: Sequence[str]) -> Mapping[str, JobState]:
        self.rounds += 1
        self.ids_asked += len(job_ids)
        self.per_job_calls += len(self._unfinished)
        self.all_unfinished_calls += math.ceil(len(self._unfinished) / 100)
        cpu = time.process_time()
        states = self.engine.poll(job_ids)
        self.engine_cpu += time.process_time() - cpu
        self._unfinished -= {i for i, state in states.items() if state.status.finished}
        return states

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def chain(length: int) -> JobPlan:
    return plan_of(
        [
            planned(f"job-{n:04d}", depends_on=[f"job-{n - 1:04d}"] if n else [])
            for n in range(length)
        ]
    )


def levels(plan: JobPlan) -> int:
    depth: dict[str, int] = {}
    for job in plan.jobs:  # parents before children
        depth[job.name] = 1 + max((depth[p] for p in job.depends_on), default=0)
    return max(depth.values())


def measure(
    plan: JobPlan, endpoint: str, duration: float, settings: BatchSettings
) -> dict[str, Any]:
    reset_moto(endpoint)
    world = create_batch_resources(endpoint, REGION)
    command = ("sleep", f"{duration:g}")
    plan = attrs.evolve(
        plan, jobs=[attrs.evolve(job, command=command) for job in plan.jobs]
    )
    aws = AWSBatchSettings(
        job_queue=world.queue,
        job_definition=world.definition,
        endpoint_url=endpoint,
        region=REGION,
        lookup_delay=0.0,
    )
    limits = StrictLimits()
    client = limits.install(make_client(aws))
    run = EngineRun(plan=plan, settings=settings, project_path=Path.cwd())
    engine = Counting(AWSBatchEngine.with_client(run, aws, client))
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        outcome = Driver(plan, engine, settings, LogProgress()).run()  # type: ignore[arg-type]
    finally:
        engine.close()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert outcome.ok, outcome
    return {
        "jobs": len(plan.jobs),
        "levels": levels(plan),
        "calls": limits.calls,
        "rounds": engine.rounds,
        "ids_asked": engine.ids_asked,
        "per_job_calls": engine.per_job_calls,
        "all_unfinished_calls": engine.all_unfinished_calls,
        "cpu_ms_per_job": 1000 * cpu / len(plan.jobs),
        "own_cpu_ms_per_job": 1000 * (cpu - engine.engine_cpu) / len(plan.jobs),
        "wall": wall,
    }


def report(name: str, result: dict[str, Any]) -> list[str]:
    describe = result["calls"]["DescribeJobs"]
    per_level = describe / result["levels"]
    ratio = result["per_job_calls"] / describe
    cpu = result["cpu_ms_per_job"]
    own = result["own_cpu_ms_per_job"]
    print(
        f"{name}: {result['jobs']} jobs, {result['levels']} levels, "
        f"{result['rounds']} rounds, {result['wall']:.1f} s\n"
        f"  DescribeJobs {describe} ({per_level:.2f} per level; ids asked "
        f"{result['ids_asked']}); SubmitJob {result['calls']['SubmitJob']}; "
        f"all calls {dict(result['calls'])}\n"
        f"  per-job polling would make {result['per_job_calls']} "
        f"({ratio:.0f}x more); all unfinished, 100 per call: "
        f"{result['all_unfinished_calls']}\n"
        f"  driver CPU {own:.2f} ms/job in the driver's own loop; {cpu:.2f} ms/job "
        f"with the engine's SubmitJob and DescribeJobs calls (botocore)"
    )
    missed = []
    if name == "chain" and per_level > CALLS_PER_LEVEL_TARGET:
        missed.append(f"chain: {per_level:.2f} calls/level > 1.2")
    if name == "wide" and ratio < PER_JOB_RATIO_TARGET:
        missed.append(f"wide: {ratio:.0f}x < 100x")
    if own > CPU_MS_PER_JOB_TARGET:
        missed.append(f"{name}: {own:.2f} ms/job > 2 ms in the driver's loop")
    return missed


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=400)
    parser.add_argument("--wide", type=int, default=500)
    parser.add_argument("--duration", type=float, default=0.25)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    parser.add_argument("--max-poll-interval", type=float, default=2.0)
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
    )
    settings = BatchSettings(
        poll_interval=arguments.poll_interval,
        max_poll_interval=arguments.max_poll_interval,
    )
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-polling-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.bench_polling",
            "--serve",
            str(workdir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = ""
        # Bounded: the server writes a few log lines, then its URL, or exits.
        for line in server.stdout:
            if line.startswith(ENDPOINT_MARK):
                endpoint = line[len(ENDPOINT_MARK) :].strip()
                break
        if not endpoint:
            raise RuntimeError("moto's server did not start")
        print(
            f"run {RUN_ID}; jobs sleep {arguments.duration:g} s; poll interval "
            f"{arguments.poll_interval:g} to {arguments.max_poll_interval:g} s"
        )
        missed = []
        if arguments.chain:
            result = measure(
                chain(arguments.chain), endpoint, arguments.duration, settings
            )
            missed += report("chain", result)
        if arguments.wide:
            plan = wide_dag(arguments.wide, fan_in=30)
            missed += report(
                "wide", measure(plan, endpoint, arguments.duration, settings)
            )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=SERVER_START_TIMEOUT)
    print("targets met" if not missed else "TARGETS MISSED: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
