"""Per-job overhead of the SLURM engine against the local engine, same plan.

Run: ``python -m tests.benchmarks.bench_slurm [--jobs 12]`` (as root where the
SLURM packages can be installed: it starts the tests' one-node cluster,
``tests/support/slurm.py``, and stops it after).

Both engines run the same two plans of trivial jobs (the contract suite's job
script, ``kedro_pipelinename/testing/harness.py``: a Python process that records
what it saw and exits) through the shared ``Driver`` with the same fast polling, so the
time per job is the engine's overhead plus a Python start:

- **chain**: ``--jobs`` jobs, each depending on the one before (latency: the
  time from a parent's end to its child's start);
- **wide**: ``--jobs`` independent jobs, two at a time (the node's CPUs; a
  throughput bound).

SLURM's main scheduler starts jobs on a one-second tick, so expect about a
second per job in the chain, whatever this package does; ``squeue`` calls are
counted to show that polling stays one call per round.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import Engine, EngineRun
from kedro_pipelinename.batch.plan import PlannedJob
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.local.processes import LocalBatchEngine
from kedro_pipelinename.engines.local.settings import LocalBatchSettings
from kedro_pipelinename.engines.slurm.commands import SlurmCommands
from kedro_pipelinename.engines.slurm.engine import SlurmBatchEngine
from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings
from kedro_pipelinename.testing import EngineHarness
from tests.support.slurm import SLURM_CONF, running_cluster

SETTINGS = BatchSettings(max_parallel=2, poll_interval=0.05, max_poll_interval=0.2)


class Harness(EngineHarness):
    """A contract-job harness opening engines with ``open_engine``."""

    def __init__(
        self, name: str, open_engine: Callable[[EngineRun], Engine], out: Path
    ) -> None:
        super().__init__(out, request=None)  # type: ignore[arg-type]
        self.name = name  # type: ignore[misc]
        self._open_engine = open_engine

    def open_engine(self, run: EngineRun) -> Engine:
        return self._open_engine(run)


def _plans(harness: Harness, size: int) -> dict[str, list[PlannedJob]]:
    chain = [harness.job("c0")]
    chain += [harness.job(f"c{n}", [f"c{n - 1}"]) for n in range(1, size)]
    wide = [harness.job(f"w{n}") for n in range(size)]
    return {"chain": chain, "wide": wide}


def _timed(
    name: str, open_engine: Callable[[EngineRun], Engine], size: int
) -> dict[str, float]:
    seconds = {}
    for shape, jobs in _plans(Harness(name, open_engine, Path()), size).items():
        out = Path(tempfile.mkdtemp(prefix=f"bench-{name}-{shape}-"))
        harness = Harness(name, open_engine, out)
        plan = harness.plan(_plans(harness, size)[shape])
        engine = harness.open(plan, SETTINGS)
        started = time.perf_counter()
        try:
            outcome = Driver(
                plan, cast(Engine, engine), SETTINGS, LogProgress(interval=3600)
            ).run()
        finally:
            engine.close()
        assert outcome.ok, outcome.failures
        seconds[shape] = (time.perf_counter() - started) / len(jobs)
    return seconds


#: SLURM commands run, by name, across every engine of the benchmark.
CALLS: Counter[str] = Counter()


class _Counting(SlurmCommands):
    def run(
        self, name: str, arguments: Sequence[str]
    ) -> subprocess.CompletedProcess[str]:
        CALLS[name] += 1
        return super().run(name, arguments)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12)
    size = parser.parse_args(argv).jobs

    def local(run: EngineRun) -> Engine:
        return LocalBatchEngine.open(run, LocalBatchSettings())

    def slurm(run: EngineRun) -> Engine:
        settings = SlurmBatchSettings()
        return SlurmBatchEngine(settings, run, commands=_Counting(None))

    with running_cluster() as cluster:
        os.environ[SLURM_CONF] = str(cluster.conf)
        results = {"local": _timed("local", local, size)}
        results["slurm"] = _timed("slurm", slurm, size)
    print(f"{size} jobs per plan; seconds per job (wall time / jobs):")
    print(f"  {'plan':<6} {'local':>8} {'slurm':>8} {'ratio':>7}")
    for shape in ("chain", "wide"):
        local_s, slurm_s = results["local"][shape], results["slurm"][shape]
        print(f"  {shape:<6} {local_s:8.3f} {slurm_s:8.3f} {slurm_s / local_s:6.1f}x")
    print(f"SLURM commands for {2 * size} jobs: {dict(sorted(CALLS.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
