"""Our three engines' harnesses for the shipped contract suite
(``kedro_pipelinename.testing``): how to open each, and how to make its
``check`` find two missing resources. Nothing else is engine-specific."""

from __future__ import annotations

import contextlib
from typing import Any

import attrs
import pytest

from kedro_pipelinename.batch.engine import Engine, EngineRun
from kedro_pipelinename.engines.aws.api import make_client
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from kedro_pipelinename.engines.local.processes import LocalBatchEngine
from kedro_pipelinename.engines.local.settings import LocalBatchSettings
from kedro_pipelinename.engines.slurm.commands import SlurmCommands
from kedro_pipelinename.engines.slurm.engine import SlurmBatchEngine
from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings
from kedro_pipelinename.testing import EngineHarness
from tests.support.aws import BatchWorld, StrictLimits
from tests.support.moto_compute import MotoCompute


class LocalHarness(EngineHarness):
    name = "local"

    def open_engine(self, run: EngineRun) -> Engine:
        return LocalBatchEngine.open(run, LocalBatchSettings(terminate_timeout=2.0))

    def open_missing(self, run: EngineRun) -> Engine:
        # The local engine's resources are its jobs' programs: two missing ones.
        jobs = [
            attrs.evolve(
                job, command=(f"/nonexistent/python-{index}", *job.command[1:])
            )
            for index, job in enumerate(run.plan.jobs)
        ]
        return self.open_engine(
            attrs.evolve(run, plan=attrs.evolve(run.plan, jobs=jobs))
        )


class AWSHarness(EngineHarness):
    """AWS Batch: moto's server over HTTP; ``MotoCompute`` runs the jobs it
    accepts, in this process's machine."""

    name = "aws"

    def __init__(self, out: Any, request: pytest.FixtureRequest) -> None:
        super().__init__(out, request)
        self.world: BatchWorld = request.getfixturevalue("batch_world")
        self.limits = StrictLimits()  # counts every API call of every engine

    def running(self) -> contextlib.AbstractContextManager[object]:
        return MotoCompute(self.out).running()

    def backend_calls(self) -> int:
        return sum(self.limits.calls.values())

    def _open(self, run: EngineRun, queue: str, definition: str) -> Engine:
        settings = AWSBatchSettings(
            job_queue=queue,
            job_definition=definition,
            endpoint_url=self.world.endpoint,
            lookup_delay=0,
        )
        client = self.limits.install(make_client(settings))
        return AWSBatchEngine.with_client(run, settings, client)

    def open_engine(self, run: EngineRun) -> Engine:
        return self._open(run, self.world.queue, self.world.definition)

    def open_missing(self, run: EngineRun) -> Engine:
        return self._open(run, "no-such-queue", "no-such-definition")


class SlurmHarness(EngineHarness):
    """SLURM: a real one-node cluster (``support/slurm.py``)."""

    name = "slurm"

    def __init__(self, out: Any, request: pytest.FixtureRequest) -> None:
        super().__init__(out, request)
        request.getfixturevalue("slurm_cluster")
        self.calls: list[str] = []
        run_command = SlurmCommands.run
        calls = self.calls

        def counted(commands: SlurmCommands, name: str, *args: Any, **kw: Any) -> Any:
            calls.append(name)
            return run_command(commands, name, *args, **kw)

        # Every SLURM command an engine runs goes through SlurmCommands.run.
        request.getfixturevalue("monkeypatch").setattr(SlurmCommands, "run", counted)

    def backend_calls(self) -> int:
        return len(self.calls)

    def open_engine(self, run: EngineRun) -> Engine:
        return SlurmBatchEngine.open(run, SlurmBatchSettings())

    def open_missing(self, run: EngineRun) -> Engine:
        settings = SlurmBatchSettings(
            partition="no_such_partition",
            resources_by_namespace={"big": {"partition": "debug", "gres": "gpu:1"}},
        )
        return SlurmBatchEngine.open(run, settings)
