"""``EngineBase``, the engine kit: its defaults, and an incomplete subclass
refused by name."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from kedro_pipelinename.batch.engine import (
    EngineBase,
    EngineRun,
    EngineSpec,
    JobState,
    JobStatus,
    Submission,
    engine_checks,
    engine_problem,
)
from kedro_pipelinename.batch.naming import JobNameRule
from kedro_pipelinename.batch.plan import JobPlan
from kedro_pipelinename.batch.settings import BatchSettings

SPEC = EngineSpec(
    name="kit",
    job_names=JobNameRule(max_length=64),
    statuses={"done": JobStatus.SUCCEEDED},
)


class KitEngine(EngineBase[str]):
    spec = SPEC
    label = "kit"

    def submit(self, submission: Submission) -> str:
        return submission.job.name

    def poll(self, job_ids: Sequence[str]) -> Mapping[str, JobState]:
        return {}

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        pass


def _run(tmp_path: Path) -> EngineRun:
    plan = JobPlan(run_id="r", pipeline_names=("a",), grouping="none", jobs=[])
    return EngineRun(plan=plan, settings=BatchSettings(), project_path=tmp_path)


def test_a_kit_engine_gets_every_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    run = _run(tmp_path)

    opened = KitEngine.open(run, "its settings")
    opened.wait(0.25)

    assert engine_problem(KitEngine) is None
    assert (opened.run, opened.settings) == (run, "its settings")
    assert engine_checks(opened) == []
    assert opened.find_jobs() == {}
    assert slept == [0.25]  # wait sleeps: no busy loop in the driver
    opened.close()  # does nothing, raises nothing


def test_a_kit_engine_missing_a_required_method_is_refused_by_name() -> None:
    class Incomplete(EngineBase[None]):
        spec = SPEC
        label = "incomplete"

        def submit(self, submission: Submission) -> str:
            return ""

    assert (
        engine_problem(Incomplete) == f"{Incomplete!r} does not implement cancel, poll"
    )
