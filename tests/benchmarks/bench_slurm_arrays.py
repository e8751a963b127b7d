"""A uniform fan-out on SLURM: one job per member against one job array.

Run: ``python -m tests.benchmarks.bench_slurm_arrays [--jobs 1000]`` (as root
where the SLURM packages can be installed: it starts the tests' one-node
cluster, ``tests/support/slurm.py``, and stops it after).

Each way submits ``--jobs`` members of one fan-out through the SLURM engine
(``client_<i>``, the same job per namespace) and prints the ``sbatch`` calls and
the seconds to the last submission:

- **per job, serial**: ``submit`` one job at a time;
- **per job, 8 at once**: ``submit`` from ``SUBMIT_CONCURRENCY`` threads (the
  driver's width for SLURM, ``EngineSpec.submit_concurrency``);
- **array**: one ``submit_array`` (arrays of at most the cluster's
  ``MaxArraySize``, 1001 by default, so up to 1,001 members take one call).

Every job is submitted held (``--hold`` in ``extra_directives``), so nothing
runs and the timings are submission only; all are cancelled after each way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kedro_pipelinename.batch.engine import ArraySubmission, EngineRun, Submission
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.slurm.commands import SlurmCommands
from kedro_pipelinename.engines.slurm.engine import (
    SUBMIT_CONCURRENCY,
    SlurmBatchEngine,
)
from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings
from tests.support.plans import RUN_ID, planned
from tests.support.slurm import SLURM_CONF, running_cluster


class _Counting(SlurmCommands):
    def __init__(self) -> None:
        super().__init__(None)
        self.sbatch_calls = 0

    def sbatch(self, arguments: Sequence[str]) -> str:
        self.sbatch_calls += 1
        return super().sbatch(arguments)


def _engine(members: Sequence[PlannedJob]) -> tuple[SlurmBatchEngine, _Counting]:
    plan = JobPlan(
        run_id=RUN_ID, pipeline_names=("train",), grouping="namespace", jobs=members
    )
    project = Path(tempfile.mkdtemp(prefix="bench-slurm-arrays-"))
    run = EngineRun(plan=plan, settings=BatchSettings(), project_path=project)
    commands = _Counting()
    settings = SlurmBatchSettings(extra_directives=("--hold",))
    return SlurmBatchEngine(settings, run, commands=commands), commands


def _per_job(width: int) -> Callable[[SlurmBatchEngine, list[PlannedJob]], list[str]]:
    def submit(engine: SlurmBatchEngine, members: list[PlannedJob]) -> list[str]:
        def one(job: PlannedJob) -> str:
            return engine.submit(Submission(job=job))

        if width == 1:
            return [one(job) for job in members]
        with ThreadPoolExecutor(width) as pool:
            return list(pool.map(one, members))

    return submit


def _array(engine: SlurmBatchEngine, members: list[PlannedJob]) -> list[str]:
    ids: list[str] = []
    limit = engine.max_array_size()
    for start in range(0, len(members), limit):
        part = members[start : start + limit]
        array = ArraySubmission(
            name=f"array-{start}", jobs=part, command=("true",), env={}
        )
        ids.append(engine.submit_array(array).array_id)
    return ids


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    size = parser.parse_args(argv).jobs
    members = [
        planned(f"fit-client_{index}", namespace=f"client_{index}")
        for index in range(size)
    ]
    ways: dict[str, Callable[[SlurmBatchEngine, list[PlannedJob]], list[str]]] = {
        "per job, serial": _per_job(1),
        f"per job, {SUBMIT_CONCURRENCY} at once": _per_job(SUBMIT_CONCURRENCY),
        "array": _array,
    }
    with running_cluster() as cluster:
        os.environ[SLURM_CONF] = str(cluster.conf)
        print(f"{size} members of one fan-out, SLURM {cluster.node}:")
        print(f"{'way':<22}{'sbatch calls':>14}{'s to last submit':>18}")
        for label, submit in ways.items():
            engine, commands = _engine(members)
            start = time.perf_counter()
            ids = submit(engine, members)
            seconds = time.perf_counter() - start
            print(f"{label:<22}{commands.sbatch_calls:>14}{seconds:>18.2f}")
            engine.cancel(ids, "benchmark")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
