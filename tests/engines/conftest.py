"""The ``engine`` fixture: one harness per batch engine, ``[local]``, ``[aws]``
and ``[slurm]`` (a real one-node cluster, ``support/slurm.py``).

An engine is done when it passes ``test_engine_contract.py``; a new engine adds
its harness here (and nothing else).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Harness
from moto_compute import MotoCompute

from kedro_pipelinename.batch.aws import AWSBatchEngine, AWSBatchSettings, make_client
from kedro_pipelinename.batch.engine import Engine, EngineRun
from kedro_pipelinename.batch.local import LocalBatchEngine, LocalBatchSettings
from kedro_pipelinename.batch.slurm import SlurmBatchEngine, SlurmBatchSettings
from support.aws import BatchWorld
from support.slurm import slurm_cluster  # noqa: F401 (the fixture)


def _local(out: Path) -> Iterator[Harness]:
    def open_engine(run: EngineRun) -> Engine:
        settings = LocalBatchSettings(terminate_timeout=2.0)
        return LocalBatchEngine.open(run, settings)

    yield Harness("local", open_engine, out)


def _aws(out: Path, world: BatchWorld) -> Iterator[Harness]:
    def open_engine(run: EngineRun) -> Engine:
        settings = AWSBatchSettings(
            job_queue=world.queue,
            job_definition=world.definition,
            endpoint_url=world.endpoint,
            lookup_delay=0,
        )
        return AWSBatchEngine.with_client(run, settings, make_client(settings))

    # moto's server runs in this process: MotoCompute runs the jobs it accepts.
    with MotoCompute(out).running():
        yield Harness("aws", open_engine, out)


def _slurm(out: Path) -> Iterator[Harness]:
    def open_engine(run: EngineRun) -> Engine:
        return SlurmBatchEngine.open(run, SlurmBatchSettings())

    yield Harness("slurm", open_engine, out)


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
        yield from _slurm(out)
    else:
        yield from _aws(out, request.getfixturevalue("batch_world"))
