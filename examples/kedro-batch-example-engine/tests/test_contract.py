"""The example engine through kedro-pipelinename's contract suite: the harness
says how to open the engine, and how to make its ``check`` find two missing
resources (two jobs whose programs do not exist)."""

from __future__ import annotations

import attrs
from kedro_batch_example_engine import ExampleEngine, ExampleSettings

from kedro_pipelinename.batch import EngineRun
from kedro_pipelinename.testing import EngineContract, EngineHarness


class ExampleHarness(EngineHarness):
    name = "example"

    def open_engine(self, run: EngineRun) -> ExampleEngine:
        return ExampleEngine.open(run, ExampleSettings())

    def open_missing(self, run: EngineRun) -> ExampleEngine:
        jobs = [
            attrs.evolve(job, command=(f"/nonexistent/python-{index}", *job.command))
            for index, job in enumerate(run.plan.jobs)
        ]
        return self.open_engine(
            attrs.evolve(run, plan=attrs.evolve(run.plan, jobs=jobs))
        )


class TestExampleEngine(EngineContract):
    harness = ExampleHarness
