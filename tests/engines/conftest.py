"""The ``engine`` fixture: one harness per batch engine, ``[local]``, ``[aws]``
and ``[slurm]`` (a real one-node cluster, ``support/slurm.py``).

An engine is done when it passes ``test_engine_contract.py``; a new engine adds
its harness here (and nothing else).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from harness import Harness
from moto_compute import MotoCompute

from kedro_pipelinename.batch.aws import AWSBatchEngine, AWSBatchSettings, make_client
from kedro_pipelinename.batch.engine import Engine, EngineRun
from kedro_pipelinename.batch.local import LocalBatchEngine, LocalBatchSettings
from kedro_pipelinename.batch.slurm import SlurmBatchEngine, SlurmBatchSettings
from kedro_pipelinename.batch.slurm.commands import SlurmCommands
from support.aws import BatchWorld, StrictLimits
from support.slurm import slurm_cluster  # noqa: F401 (the fixture)


def _local(out: Path) -> Iterator[Harness]:
    def open_engine(run: EngineRun) -> Engine:
        settings = LocalBatchSettings(terminate_timeout=2.0)
        return LocalBatchEngine.open(run, settings)

    def open_missing(run: EngineRun) -> Engine:
        # The local engine's resources are its jobs' programs: two missing ones.
        jobs = [
            attrs.evolve(
                job, command=(f"/nonexistent/python-{index}", *job.command[1:])
            )
            for index, job in enumerate(run.plan.jobs)
        ]
        plan = attrs.evolve(run.plan, jobs=jobs)
        return open_engine(attrs.evolve(run, plan=plan))

    yield Harness("local", open_engine, out, open_missing=open_missing)


def _aws(out: Path, world: BatchWorld) -> Iterator[Harness]:
    limits = StrictLimits()  # counts every API call of every engine opened here

    def open_with(run: EngineRun, queue: str, definition: str) -> Engine:
        settings = AWSBatchSettings(
            job_queue=queue,
            job_definition=definition,
            endpoint_url=world.endpoint,
            lookup_delay=0,
        )
        client = limits.install(make_client(settings))
        return AWSBatchEngine.with_client(run, settings, client)

    def open_engine(run: EngineRun) -> Engine:
        return open_with(run, world.queue, world.definition)

    def open_missing(run: EngineRun) -> Engine:
        return open_with(run, "no-such-queue", "no-such-definition")

    # moto's server runs in this process: MotoCompute runs the jobs it accepts.
    with MotoCompute(out).running():
        yield Harness(
            "aws",
            open_engine,
            out,
            open_missing=open_missing,
            backend_calls=lambda: sum(limits.calls.values()),
        )


def _slurm(out: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    calls: list[str] = []
    run_command = SlurmCommands.run

    def counted(self: SlurmCommands, name: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return run_command(self, name, *args, **kwargs)

    # Every SLURM command an engine runs goes through SlurmCommands.run.
    monkeypatch.setattr(SlurmCommands, "run", counted)

    def open_engine(run: EngineRun) -> Engine:
        return SlurmBatchEngine.open(run, SlurmBatchSettings())

    def open_missing(run: EngineRun) -> Engine:
        settings = SlurmBatchSettings(
            partition="no_such_partition",
            resources_by_namespace={"big": {"partition": "debug", "gres": "gpu:1"}},
        )
        return SlurmBatchEngine.open(run, settings)

    yield Harness(
        "slurm",
        open_engine,
        out,
        open_missing=open_missing,
        backend_calls=lambda: len(calls),
    )


@pytest.fixture(params=["local", "aws", pytest.param("slurm", marks=pytest.mark.slurm)])
def engine(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Harness]:
    """A harness for one engine; every job process it started is gone after."""
    for name in list(os.environ):
        if name.startswith("KEDRO_BATCH_"):
            monkeypatch.delenv(name)
    out = tmp_path / "jobs"
    out.mkdir()
    if request.param == "local":
        yield from _local(out)
    elif request.param == "slurm":
        request.getfixturevalue("slurm_cluster")
        yield from _slurm(out, monkeypatch)
    else:
        yield from _aws(out, request.getfixturevalue("batch_world"))
