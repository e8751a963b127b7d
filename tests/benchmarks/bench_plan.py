"""Plan + pre-flight of a batch run: linear in jobs and edges.

Run: ``python -m tests.benchmarks.bench_plan [--sizes 10 1000 4000 8000]
[--repeats 3] [--profile N]``.

Each case builds its pipeline in this process (``kedro_pipelinename`` installed,
the pipeline named ``train``, registered as such in a fake registry), then times
what ``BatchRunner._run`` does before it submits anything: ``plan_jobs`` (groups,
dependencies, names, each job's ``kedro run`` argv and env) and ``run_preflight``
(names, registry, persistence of every dataset between jobs, through a catalog
whose one ``{name}`` factory persists everything). Kedro's own pipeline work
(``nodes``, ``node_dependencies``, ``outputs()``, ...) is inside the timing: every
repetition gets a fresh pipeline and catalog, built outside it. The time is this
process's CPU time (other work on a shared machine counts less than in wall
time), the median of ``--repeats`` repetitions.

Cases:

- **chain N**: ``N`` single-node jobs, each reading the one before (``grouping:
  none``). The extra time beyond the 10-job chain is what grows with ``N``.
- **fan-in N**: ``N`` source jobs and one job reading all of them (``N``
  dependencies of one job; AWS Batch takes at most 20 ``dependsOn`` per job, which
  the driver handles at submit time; the plan keeps every parent).
- **namespace 400**: one job of a 400-node chain in namespace ``ns``.

Targets (issue 12): extra time of chain 4,000 <= 4.8x that of chain 1,000, and
<= 1 ms per job for chain 4,000, fan-in 4,000 and per node of namespace 400.
``--profile N`` prints cProfile's top functions for chain ``N`` instead.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import logging
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node

import kedro_pipelinename  # noqa: F401  (installs the patch: pipeline.name)
from kedro_pipelinename.batch.plan import JobPlan, plan_jobs
from kedro_pipelinename.batch.preflight import run_preflight
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.run.context import RunContext
from tests.support.batch_project import persisted_dataset_type
from tests.support.plans import RUN_ID

CONTEXT = RunContext(
    run_id=RUN_ID, pipeline_names=("train",), env="prod", runtime_params={"alpha": 1}
)
RATIO_TARGET = 4.8
MS_PER_JOB_TARGET = 1.0
FAN_IN = 4_000
NAMESPACE_NODES = 400


def identity(*values: object) -> object:
    return values[0] if values else None


def _named(nodes: list[Any]) -> Pipeline:
    built = Pipeline(nodes)
    built.name = "train"  # type: ignore[attr-defined]
    return built


def chain(size: int) -> Pipeline:
    return _named(
        [
            node(identity, f"d{index}", f"d{index + 1}", name=f"n{index}")
            for index in range(size)
        ]
    )


def fan_in(parents: int) -> Pipeline:
    sources = [
        node(identity, "raw", f"part{index}", name=f"source{index}")
        for index in range(parents)
    ]
    sink = node(
        identity, [f"part{index}" for index in range(parents)], "all", name="sink"
    )
    return _named([*sources, sink])


def namespace_job(size: int) -> Pipeline:
    return _named(
        [
            node(
                identity,
                "raw" if index == 0 else f"ns.d{index}",
                f"ns.d{index + 1}",
                name=f"n{index}",
                namespace="ns",
            )
            for index in range(size)
        ]
    )


def catalog() -> Any:
    return DataCatalog.from_config(
        {"{name}": {"type": persisted_dataset_type(), "filepath": "data/{name}.json"}}
    )


def plan_and_check(pipeline: Pipeline, settings: BatchSettings, data: Any) -> JobPlan:
    """What ``BatchRunner._run`` does before anything is submitted."""
    plan = plan_jobs(pipeline, settings=settings, context=CONTEXT)
    run_preflight(plan, pipeline, data, {"train": pipeline}, "BenchRunner")
    return plan


def measure(
    build: Callable[[], Pipeline], settings: BatchSettings, repeats: int
) -> tuple[float, JobPlan]:
    """Median CPU seconds of plan + pre-flight, on a fresh pipeline and catalog."""
    times = []
    plan = None
    for _ in range(repeats):
        pipeline, data = build(), catalog()
        gc.collect()
        start = time.process_time()
        plan = plan_and_check(pipeline, settings, data)
        times.append(time.process_time() - start)
    assert plan is not None
    return statistics.median(times), plan


def profile(size: int) -> None:
    pipeline, data = chain(size), catalog()
    profiler = cProfile.Profile()
    profiler.enable()
    plan_and_check(pipeline, BatchSettings(grouping="none"), data)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 4000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", type=int, metavar="N")
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    if arguments.profile:
        profile(arguments.profile)
        return 0
    none = BatchSettings(grouping="none")
    measure(lambda: chain(10), none, 1)  # warm-up: imports, Kedro's CLI, params
    failures = []
    print(f"{'case':<16} {'jobs':>6} {'CPU s':>8} {'extra s':>8} {'ms/job':>7}")
    sizes = sorted(set(arguments.sizes) | {10})
    chain_times = {}
    for size in sizes:
        seconds, plan = measure(functools.partial(chain, size), none, arguments.repeats)
        assert len(plan.jobs) == size
        chain_times[size] = seconds
        extra = seconds - chain_times[10]
        print(
            f"{'chain':<16} {size:>6} {seconds:>8.3f} {extra:>8.3f} "
            f"{1000 * seconds / size:>7.3f}"
        )
    for small, large in ((1000, 4000), (4000, 8000)):
        if small in chain_times and large in chain_times:
            ratio = (chain_times[large] - chain_times[10]) / (
                chain_times[small] - chain_times[10]
            )
            linear = large / small
            # 4.8x for 4,000 vs 1,000 (issue 12) is linear plus 20 %; the same
            # slack for any other pair.
            target = RATIO_TARGET / 4 * linear
            print(
                f"extra time of chain {large} / chain {small}: {ratio:.2f}x "
                f"(linear: {linear:.1f}x, target <= {target:.1f}x)"
            )
            if ratio > target:
                failures.append(f"chain {large}/{small}: {ratio:.2f}x")
    if 4000 in chain_times and 1000 * chain_times[4000] / 4000 > MS_PER_JOB_TARGET:
        failures.append(f"chain 4000: {1000 * chain_times[4000] / 4000:.3f} ms/job")

    seconds, plan = measure(lambda: fan_in(FAN_IN), none, arguments.repeats)
    assert len(plan.job("kedro-sink").depends_on) == FAN_IN
    per_job = 1000 * seconds / len(plan.jobs)
    print(f"{'fan-in':<16} {len(plan.jobs):>6} {seconds:>8.3f} {'':>8} {per_job:>7.3f}")
    if per_job > MS_PER_JOB_TARGET:
        failures.append(f"fan-in {FAN_IN}: {per_job:.3f} ms/job")

    seconds, plan = measure(
        lambda: namespace_job(NAMESPACE_NODES), BatchSettings(), arguments.repeats
    )
    assert [len(job.nodes) for job in plan.jobs] == [NAMESPACE_NODES]
    per_node = 1000 * seconds / NAMESPACE_NODES
    print(
        f"{'namespace (1 job)':<16} {NAMESPACE_NODES:>6} {seconds:>8.3f} {'':>8} "
        f"{per_node:>7.3f}  (ms per node)"
    )
    if per_node > MS_PER_JOB_TARGET:
        failures.append(f"namespace {NAMESPACE_NODES}: {per_node:.3f} ms/node")
    print("targets met" if not failures else "TARGETS MISSED: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
