"""Submission at the API's rate: serial vs concurrent vs array submits behind 100 ms.

Run: ``python -m tests.benchmarks.bench_submit_rate [--clients 200] [--dag-jobs
2000] [--latency 0.1] [--slurm 1000] [--no-aws] [--no-dag] [--modes
serial,concurrent,arrays]`` (``--clients 2000``: the issue's 10,000 jobs;
``--slurm`` as root, where the tests' cluster can start; ``--modes``: the
columns of (a) and (c), ratios against the first).

moto's server and a ``FaultProxy`` adding ``--latency`` seconds to every call
(``tests/support/fault_proxy.py``) run in processes of their own, so this
process's CPU time is the driver's (botocore included). Each plan runs once per
column in this one run, with the same engine and settings but: ``serial``,
``submit_concurrency: 1`` (one SubmitJob at a time, as before); ``concurrent``,
the engine's default (``AWSBatchEngine.spec.submit_concurrency``); ``arrays``,
the engine's default and the driver given the plan's arrays
(``arrays.plan_arrays``, as ``arrays_for`` makes them: one SubmitJob with
``arrayProperties`` per fan-out of up to 10,000, ``N_TO_N`` between them). Calls
are counted on the wire (botocore's ``before-send``, after the rate limit).

(a) The seed-shaped plan: N clients x 5 nodes (prepare -> features -> fit ->
    score -> report), one job per node (commands that differ only in
    ``--nodes``: 5 arrays of N, checked): SubmitJob calls, DescribeJobs calls
    per DAG level, wall time from the driver's start to the last submit
    returned, and driver CPU per job (the whole run: opening the engine and its
    pre-flight, planning the arrays, submits and polls; minus a one-client
    run's, as the cost paid once per run). moto creates the children of an
    array (``<id>:<i>``) and runs them (without docker) like other jobs.
(b) A non-uniform wide DAG (``tests/support/plans.py``'s ``wide_dag``: layers
    of 50, three parents each, a fan-in of 30; no arrays): the sustained
    SubmitJob rate (submits per second of the up-front burst: those sent
    before the driver's first poll; the deferred fan-in goes after its parents)
    against the configured limit (``submit_rate``, default 40/s); goal >= 80 %.
    Its CPU per job is then split by where it went: ``engine.submit`` (the
    submit threads' SubmitJob calls), ``engine.poll`` (DescribeJobs, in the
    driver's thread) and the rest (``print_split``).
(c) ``--slurm 1000``: a 1,000-job fan-out (``client_<i>.fit``) on the tests'
    SLURM cluster (``tests/support/slurm.py``), held (``#SBATCH --hold``:
    nothing runs), then cancelled by the driver: sbatch calls and time to the
    last submission, per job (serial, concurrent) and as job arrays (one
    ``sbatch --array`` per ``MaxArraySize`` members, 1001 by default).

Targets: concurrent (b) >= 80 % of the limit; driver CPU <= 2 ms per job; arrays:
(a) <= 20 SubmitJob calls and <= 30 s to the last submit, <= 0.2 ms CPU per job;
(c) <= 20 sbatch calls.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kedro_pipelinename.batch.arrays import PlannedArray, plan_arrays
from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import (
    ArraySubmission,
    Engine,
    EngineRun,
    Submission,
)
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from tests.benchmarks.bench_batch import REGION, start_moto
from tests.support.aws import create_batch_resources, reset_moto
from tests.support.plans import plan_of, planned, wide_dag

NODES = ("prepare", "features", "fit", "score", "report")
CPU_MS_PER_JOB_TARGET = 2.0
RATE_TARGET = 0.8
PROXY_START_TIMEOUT = 30.0


def seed_plan(clients: int) -> JobPlan:
    """``clients`` x the 5-node chain, one job per node, in Kedro's order (level
    by level)."""
    jobs: list[PlannedJob] = []
    for level, node in enumerate(NODES):
        for client in range(1, clients + 1):
            parents = [f"kedro-client_{client}-{NODES[level - 1]}"] if level else []
            jobs.append(
                planned(
                    f"kedro-client_{client}-{node}",
                    depends_on=parents,
                    namespace=f"client_{client}",
                    nodes=[f"client_{client}.{node}"],
                )
            )
    return plan_of(jobs)


def arrays_of(plan: JobPlan, engine: Engine) -> tuple[PlannedArray, ...]:
    """The arrays the driver gets for ``plan`` (as ``arrays.arrays_for`` makes
    them, from every node of the plan: the seed plan's pipelines)."""
    spec = engine.spec
    assert spec.array_index_variable is not None
    return plan_arrays(
        plan,
        node_names=[node for job in plan.jobs for node in job.nodes],
        limit=engine.max_array_size(),  # type: ignore[attr-defined]
        job_names=spec.job_names,
        prefix="kedro",
        executable=["kedro"],
        index_variable=spec.array_index_variable,
        key=getattr(engine, "array_key", None),
    )


def check_arrays(arrays: tuple[PlannedArray, ...], count: int, size: int) -> None:
    """The fan-out must become ``count`` arrays of ``size`` (else the column
    would measure per-job submission under another name)."""
    sizes = [array.size for array in arrays]
    if sizes != [size] * count:
        raise RuntimeError(f"expected {count} arrays of {size}, planned {sizes}")


def start_proxy(upstream: str, latency: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.fault_proxy",
            upstream,
            f"--latency={latency}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(PROXY_START_TIMEOUT)
    if not line or not line[0].startswith("http"):
        process.kill()
        raise RuntimeError("the latency proxy did not start")
    return process, line[0].strip()


class Measured:
    """Wire counts and times of one driver run (before-send, after the limit)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.submit_sent: list[float] = []
        self.submit_returned: list[float] = []
        self.first_poll: float | None = None
        #: Thread CPU seconds in ``engine.submit`` (the submit threads) and
        #: ``engine.poll`` (the driver's thread): where the CPU per job goes.
        self.submit_cpu = 0.0
        self.poll_cpu = 0.0
        self._lock = threading.Lock()

    def on_send(self, request: Any, **_: Any) -> None:
        operation = request.url.rsplit("/", 1)[-1].lower()
        with self._lock:
            self.calls[operation] += 1
            if operation == "submitjob":
                self.submit_sent.append(time.monotonic())
            elif operation == "describejobs" and self.first_poll is None:
                self.first_poll = time.monotonic()


def run(
    plan: JobPlan,
    world_settings: AWSBatchSettings,
    concurrency: int | None,
    arrays: bool = False,
) -> dict[str, Any]:
    measured = Measured()
    settings = BatchSettings(
        poll_interval=1.0, max_poll_interval=2.0, submit_concurrency=concurrency
    )
    engine_run = EngineRun(plan=plan, settings=settings, project_path=Path.cwd())
    open_start = time.process_time()
    engine = AWSBatchEngine.open(engine_run, world_settings)
    # As a driver does: the pre-flight validates every request offline once.
    assert engine.check() == []
    open_cpu = time.process_time() - open_start
    engine.client.meta.events.register("before-send.batch", measured.on_send)
    submit = engine.submit

    def timed_submit(submission: Submission) -> str:
        started = time.thread_time()
        job_id = submit(submission)
        spent = time.thread_time() - started
        with measured._lock:
            measured.submit_returned.append(time.monotonic())
            measured.submit_cpu += spent
        return job_id

    engine.submit = timed_submit  # type: ignore[method-assign]
    submit_array = engine.submit_array

    def timed_submit_array(array: ArraySubmission) -> Any:
        ids = submit_array(array)
        with measured._lock:
            measured.submit_returned.append(time.monotonic())
        return ids

    engine.submit_array = timed_submit_array  # type: ignore[method-assign]
    poll = engine.poll

    def timed_poll(job_ids: Any) -> Any:
        started = time.thread_time()
        try:
            return poll(job_ids)
        finally:
            measured.poll_cpu += time.thread_time() - started

    engine.poll = timed_poll  # type: ignore[method-assign]
    cpu_start, wall_start = time.process_time(), time.monotonic()
    # Planning the arrays is the driver's work too (``arrays_for``).
    planned_arrays = arrays_of(plan, engine) if arrays else ()
    if arrays and len(plan.jobs) >= 2 * len(NODES):
        check_arrays(planned_arrays, len(NODES), len(plan.jobs) // len(NODES))
    outcome = Driver(plan, engine, settings, LogProgress(), arrays=planned_arrays).run()
    cpu = time.process_time() - cpu_start + open_cpu
    engine.close()
    assert outcome.ok, outcome
    # The up-front burst: what was sent before the driver's first poll (the
    # deferred fan-in goes later, after its parents succeeded).
    first_poll = measured.first_poll or float("inf")
    sent = [at for at in measured.submit_sent if at < first_poll]
    rate = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 else 0.0
    return {
        "submits": measured.calls["submitjob"],
        "describes": measured.calls["describejobs"],
        "to_last_submit": max(measured.submit_returned) - wall_start,
        "cpu": cpu,
        "rate": rate,
        "submit_cpu": measured.submit_cpu,
        "poll_cpu": measured.poll_cpu,
    }


def per_job_cpu_ms(result: dict[str, Any], baseline: float, jobs: int) -> float:
    """Driver CPU per job minus a one-job run's (the client, the pre-flight, the
    first poll: paid once per run, not per job)."""
    return 1000 * max(float(result["cpu"]) - baseline, 0.0) / max(jobs - 1, 1)


def fresh_settings(endpoint: str, proxy_url: str) -> AWSBatchSettings:
    reset_moto(endpoint)
    world = create_batch_resources(endpoint, REGION)
    return AWSBatchSettings(
        job_queue=world.queue,
        job_definition=world.definition,
        endpoint_url=proxy_url,
        region=REGION,
        lookup_delay=0.5,
    )


MODES = (("serial", 1), ("concurrent", None))
#: Label, ``submit_concurrency``, arrays: the seed plan's columns (a, c).
ARRAY_MODES = (
    *((label, width, False) for label, width in MODES),
    ("arrays", None, True),
)
SUBMITS_TARGET = 20
SECONDS_TARGET = 30.0
ARRAY_CPU_MS_PER_JOB_TARGET = 0.2


def bench_aws(arguments: argparse.Namespace) -> list[str]:
    failures: list[str] = []
    modes = [mode for mode in ARRAY_MODES if mode[0] in arguments.modes]
    moto, endpoint = start_moto()
    proxy, proxy_url = start_proxy(endpoint, arguments.latency)
    limit = AWSBatchSettings(job_queue="q", job_definition="d").submit_rate
    try:
        baselines = {
            label: run(
                seed_plan(1), fresh_settings(endpoint, proxy_url), concurrency, arrays
            )["cpu"]
            for label, concurrency, arrays in modes
        }
        plan = seed_plan(arguments.clients)
        print(
            f"(a) seed-shaped plan: {arguments.clients} clients x {len(NODES)} "
            f"nodes = {len(plan.jobs)} jobs, {arguments.latency * 1000:g} ms a call"
        )
        print(
            f"    {'mode':<11} {'SubmitJob':>9} {'DescribeJobs':>12} "
            f"{'per level':>9} {'to last submit s':>16} {'CPU ms/job':>10}"
        )
        seed: dict[str, dict[str, Any]] = {}
        for label, concurrency, arrays in modes:
            result = run(plan, fresh_settings(endpoint, proxy_url), concurrency, arrays)
            seed[label] = result
            result["cpu_ms"] = per_job_cpu_ms(result, baselines[label], len(plan.jobs))
            print(
                f"    {label:<11} {result['submits']:>9} {result['describes']:>12} "
                f"{result['describes'] / len(NODES):>9.1f} "
                f"{result['to_last_submit']:>16.1f} {result['cpu_ms']:>10.2f}"
            )
        # Ratios against the first column measured (serial unless left out).
        base = modes[0][0]
        for label in seed:
            if label != base:
                speedup = seed[base]["to_last_submit"] / seed[label]["to_last_submit"]
                calls = seed[base]["submits"] / max(seed[label]["submits"], 1)
                print(
                    f"    {base} / {label}: {speedup:.1f}x the time to the last "
                    f"submit, {calls:.0f}x the SubmitJob calls"
                )
        if (
            "concurrent" in seed
            and seed["concurrent"]["cpu_ms"] > CPU_MS_PER_JOB_TARGET
        ):
            failures.append(f"(a) {seed['concurrent']['cpu_ms']:.2f} ms/job > 2 ms")
        if "arrays" in seed:
            result = seed["arrays"]
            if result["submits"] > SUBMITS_TARGET:
                failures.append(f"(a) arrays: {result['submits']} SubmitJob > 20")
            if result["to_last_submit"] > SECONDS_TARGET:
                failures.append(
                    f"(a) arrays: {result['to_last_submit']:.1f} s to the last "
                    f"submit > 30 s"
                )
            if result["cpu_ms"] > ARRAY_CPU_MS_PER_JOB_TARGET:
                failures.append(f"(a) arrays: {result['cpu_ms']:.2f} ms/job > 0.2 ms")
        if arguments.no_dag:
            return failures
        dag = wide_dag(arguments.dag_jobs, fan_in=30)
        print(
            f"(b) non-uniform wide DAG: {len(dag.jobs)} jobs; limit "
            f"submit_rate = {limit:g}/s"
        )
        print(
            f"    {'mode':<11} {'SubmitJob':>9} {'rate /s':>8} {'of limit':>8} "
            f"{'to last submit s':>16} {'CPU ms/job':>10}"
        )
        splits: list[tuple[str, dict[str, Any], float]] = []
        for label, concurrency in MODES:
            if label not in baselines:
                continue
            result = run(dag, fresh_settings(endpoint, proxy_url), concurrency)
            share = result["rate"] / limit
            cpu = per_job_cpu_ms(result, baselines[label], len(dag.jobs))
            print(
                f"    {label:<11} {result['submits']:>9} {result['rate']:>8.1f} "
                f"{share:>8.0%} {result['to_last_submit']:>16.1f} {cpu:>10.2f}"
            )
            splits.append((label, result, cpu))
            if label == "concurrent":
                if share < RATE_TARGET:
                    failures.append(f"(b) {share:.0%} of the limit < 80 %")
                if cpu > CPU_MS_PER_JOB_TARGET:
                    failures.append(f"(b) {cpu:.2f} ms/job > 2 ms")
        print_split(splits, len(dag.jobs))
    finally:
        for process in (proxy, moto):
            process.terminate()
            process.wait(timeout=30)
    return failures


def print_split(splits: list[tuple[str, dict[str, Any], float]], jobs: int) -> None:
    """(b)'s CPU per job by where it went: the ``engine.submit`` calls (the
    submit threads: building, validating and sending each SubmitJob), the
    ``engine.poll`` calls (the driver's thread: DescribeJobs), and the rest
    (the driver's rounds, progress, hand-offs between threads, opening the
    engine and its pre-flight, minus the one-client run's baseline)."""
    print("    CPU ms/job  SubmitJob calls   polling   the rest")
    for label, result, cpu in splits:
        submits = 1000 * float(result["submit_cpu"]) / jobs
        polls = 1000 * float(result["poll_cpu"]) / jobs
        print(
            f"    {label:<11} {submits:>15.2f} {polls:>9.2f} "
            f"{cpu - submits - polls:>10.2f}"
        )


class _StopAfterSubmitting(LogProgress):
    """Stops the run (as Ctrl-C does: the driver cancels every job) at the
    first progress update, which comes after the fan-out's one submit round."""

    def update(self, summary: Any) -> None:
        raise KeyboardInterrupt


def bench_slurm(jobs: int, modes: list[str]) -> list[str]:
    """(c): a ``jobs``-member fan-out (``client_<i>.fit``, one job per
    namespace), held (``--hold``: submitted, never started): serial and
    concurrent ``sbatch``, then as job arrays (one ``sbatch --array`` per
    ``MaxArraySize`` members); the driver then cancels them."""
    import tempfile

    from kedro_pipelinename.engines.slurm.commands import SlurmCommands
    from kedro_pipelinename.engines.slurm.engine import SlurmBatchEngine
    from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings
    from tests.support.slurm import SLURM_CONF, running_cluster

    calls: Counter[str] = Counter()

    class Counting(SlurmCommands):
        def run(self, name: str, arguments: Any) -> Any:
            calls[name] += 1
            return super().run(name, arguments)

    plan = plan_of(
        [
            planned(
                f"kedro-client_{number}-fit",
                namespace=f"client_{number}",
                nodes=[f"client_{number}.fit"],
            )
            for number in range(1, jobs + 1)
        ]
    )
    failures: list[str] = []
    print(f"(c) SLURM: a {jobs}-job fan-out, held, on the tests' one-node cluster")
    print(f"    {'mode':<11} {'sbatch':>6} {'to last submit s':>16}")
    seconds: dict[str, float] = {}
    with running_cluster() as cluster:
        os.environ[SLURM_CONF] = str(cluster.conf)
        for label, concurrency, arrays in ARRAY_MODES:
            if label not in modes:
                continue
            calls.clear()
            settings = BatchSettings(
                poll_interval=1.0, max_poll_interval=2.0, submit_concurrency=concurrency
            )
            slurm_settings = SlurmBatchSettings(
                extra_directives=("--hold",),
                log_dir=tempfile.mkdtemp(prefix="bench-submit-rate-"),
            )
            engine_run = EngineRun(
                plan=plan, settings=settings, project_path=Path.cwd()
            )
            engine = SlurmBatchEngine(
                slurm_settings, engine_run, commands=Counting(None)
            )
            returned: list[float] = []
            submit, submit_array = engine.submit, engine.submit_array

            def timed(
                submission: Submission,
                submit: Any = submit,
                returned: list[float] = returned,
            ) -> str:
                job_id = str(submit(submission))
                returned.append(time.monotonic())
                return job_id

            def timed_array(
                array: ArraySubmission,
                submit_array: Any = submit_array,
                returned: list[float] = returned,
            ) -> Any:
                ids = submit_array(array)
                returned.append(time.monotonic())
                return ids

            engine.submit = timed  # type: ignore[method-assign]
            engine.submit_array = timed_array  # type: ignore[method-assign]
            started = time.monotonic()
            planned_arrays = arrays_of(plan, engine) if arrays else ()
            if arrays:
                size = engine.max_array_size()
                expected = [min(size, jobs - start) for start in range(0, jobs, size)]
                if [array.size for array in planned_arrays] != [
                    count for count in expected if count > 1
                ]:
                    raise RuntimeError(
                        f"expected arrays of {expected}, planned "
                        f"{[array.size for array in planned_arrays]}"
                    )
            try:
                Driver(
                    plan,
                    engine,
                    settings,
                    _StopAfterSubmitting(),
                    arrays=planned_arrays,
                ).run()
            except KeyboardInterrupt:
                pass
            finally:
                engine.close()
            seconds[label] = max(returned) - started
            print(f"    {label:<11} {calls['sbatch']:>6} {seconds[label]:>16.2f}")
            if arrays and calls["sbatch"] > SUBMITS_TARGET:
                failures.append(f"(c) arrays: {calls['sbatch']} sbatch > 20")
    base = next(iter(seconds), None)
    for label, value in seconds.items():
        if label != base and base is not None:
            print(
                f"    {base} / {label}: {seconds[base] / value:.1f}x the time "
                f"to the last submit"
            )
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--dag-jobs", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument(
        "--slurm",
        type=int,
        default=0,
        metavar="JOBS",
        help="also (c): a JOBS-job fan-out on the tests' SLURM cluster (1000)",
    )
    parser.add_argument("--no-aws", action="store_true", help="skip (a) and (b)")
    parser.add_argument("--no-dag", action="store_true", help="skip (b)")
    parser.add_argument(
        "--modes",
        type=lambda text: [mode for mode in text.split(",") if mode],
        default=[mode[0] for mode in ARRAY_MODES],
        help="the columns of (a) and (c), of serial,concurrent,arrays (all); "
        "ratios are against the first",
    )
    arguments = parser.parse_args()
    known = [mode[0] for mode in ARRAY_MODES]
    unknown = [mode for mode in arguments.modes if mode not in known]
    if unknown or not arguments.modes:
        parser.error(f"--modes: {','.join(unknown)!r}; choose of {','.join(known)}")
    logging.disable(logging.WARNING)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    failures = [] if arguments.no_aws else bench_aws(arguments)
    if arguments.slurm:
        failures += bench_slurm(arguments.slurm, arguments.modes)
    print("targets met" if not failures else "TARGETS MISSED: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
