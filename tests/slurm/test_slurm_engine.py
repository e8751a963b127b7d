"""What only the SLURM engine does, against the real cluster, through the
shared driver (the contract suite, ``tests/engines``, runs it too)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

import attrs
import pytest

from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import Engine, EngineRun, JobStatus, check_engine
from kedro_pipelinename.batch.errors import BatchSettingsError
from kedro_pipelinename.batch.events import RunOutcome
from kedro_pipelinename.batch.plan import PlannedJob
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.slurm.commands import QueueRow, SlurmCommands
from kedro_pipelinename.engines.slurm.engine import SlurmBatchEngine
from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings
from kedro_pipelinename.testing import FAST, EngineHarness, named
from tests.engines.harnesses import SlurmHarness
from tests.support.slurm import SlurmCluster

pytestmark = [pytest.mark.slow, pytest.mark.slurm]


class _Forgetful(SlurmCommands):
    """SLURM's commands as they answer once ``MinJobAge`` passed: ``squeue``
    shows none of the jobs (and this cluster has no ``sacct``)."""

    def squeue(
        self, job_ids: Sequence[str] | None = None, user: str | None = None
    ) -> list[QueueRow]:
        return []


@pytest.fixture
def harness(
    slurm_cluster: SlurmCluster, tmp_path: Path, request: pytest.FixtureRequest
) -> EngineHarness:
    out = tmp_path / "jobs"
    out.mkdir()
    return SlurmHarness(out, request)


def _run(
    harness: EngineHarness, jobs: list[PlannedJob], settings: BatchSettings = FAST
) -> RunOutcome:
    plan = harness.plan(jobs)
    engine = harness.open(plan, settings)
    try:
        return Driver(plan, cast(Engine, engine), settings, LogProgress()).run()
    finally:
        engine.close()


def test_a_job_slurm_forgot_is_resolved_from_its_exit_file_never_assumed_done(
    harness: EngineHarness,
) -> None:
    jobs = [harness.job("a"), harness.job("b", fail=True)]
    settings = BatchSettings(fail_fast=False, poll_interval=0.05, max_poll_interval=0.2)
    first = _run(harness, jobs, settings)
    plan = harness.plan(jobs)
    run = EngineRun(plan=plan, settings=FAST, project_path=harness.out)
    forgetful = SlurmBatchEngine(SlurmBatchSettings(), run, commands=_Forgetful(None))

    found = forgetful.find_jobs()

    assert {name: state.job_id for name, state in found.items()} == first.job_ids
    assert (found["kedro-a"].status, found["kedro-a"].exit_code) == (
        JobStatus.SUCCEEDED,
        0,
    )
    assert (found["kedro-b"].status, found["kedro-b"].exit_code) == (
        JobStatus.FAILED,
        3,
    )
    # Without its exit file (a job killed before it could write one), a job
    # SLURM forgot failed.
    exit_file = next(forgetful.log_dir.glob("kedro-a.*.exit"))
    exit_file.unlink()
    state = forgetful.poll([found["kedro-a"].job_id])[found["kedro-a"].job_id]
    assert state.status is JobStatus.FAILED
    assert "wrote no exit file" in str(state.reason)


def test_slurm_itself_cancels_the_dependents_of_a_failed_job(
    harness: EngineHarness, slurm_cluster: SlurmCluster
) -> None:
    jobs = [harness.job("bad", fail=True), harness.job("after_bad", ["bad"])]
    settings = BatchSettings(fail_fast=False, poll_interval=0.05, max_poll_interval=0.2)

    outcome = _run(harness, jobs, settings)

    failures = {failure.job: failure for failure in outcome.failures}
    assert sorted(failures) == named("after_bad", "bad")
    # Submitted up front with afterok, it never ran: SLURM cancelled it
    # (--kill-on-invalid-dep=yes), not the driver (no fail_fast here).
    dependent = failures["kedro-after_bad"]
    assert dependent.caused_by_dependency
    assert "CANCELLED (DependencyNeverSatisfied)" in str(dependent.reason)
    assert harness.started("after_bad") is None
    assert slurm_cluster.queued(f"run={harness.plan([]).run_id} ") == []


def test_values_reach_the_job_verbatim_never_as_shell(harness: EngineHarness) -> None:
    tricky = "a b 'c' \"d\" $(touch pwned) `touch pwned` ; touch pwned \\ %j"
    jobs = [harness.job("quoted", env={"TRICKY": tricky})]

    outcome = _run(harness, jobs)

    assert outcome.ok
    started = harness.started("quoted")
    assert started is not None
    assert started["env"]["TRICKY"] == tricky
    assert not list(harness.out.rglob("pwned"))


def test_resources_go_to_sbatch_per_namespace_and_tag(
    harness: EngineHarness, slurm_cluster: SlurmCluster
) -> None:
    job = attrs.evolve(harness.job("sized"), namespace="train", tags=("small",))
    settings = SlurmBatchSettings(
        time_limit="10",
        memory="200M",
        resources_by_namespace={"train": {"time_limit": "5", "memory": "300M"}},
        resources_by_tag={"small": {"memory": "100M"}},
    )
    plan = harness.plan([job])
    run = EngineRun(plan=plan, settings=FAST, project_path=harness.out)
    engine = SlurmBatchEngine.open(run, settings)
    try:
        outcome = Driver(plan, engine, FAST, LogProgress()).run()
    finally:
        engine.close()

    assert outcome.ok
    shown = slurm_cluster.command(
        "scontrol", "show", "job", "-o", outcome.job_ids["kedro-sized"]
    )
    assert "TimeLimit=00:05:00" in shown
    assert "MinMemoryNode=100M" in shown


def test_resources_slurm_refuses_are_all_reported_before_any_submission(
    harness: EngineHarness, slurm_cluster: SlurmCluster
) -> None:
    jobs = [
        harness.job("plain"),
        attrs.evolve(harness.job("ns"), namespace="big"),
    ]
    settings = SlurmBatchSettings(
        partition="no_such_partition",
        resources_by_namespace={"big": {"partition": "debug", "gres": "gpu:1"}},
    )
    run = EngineRun(plan=harness.plan(jobs), settings=FAST, project_path=harness.out)

    engine = SlurmBatchEngine.open(run, settings)
    with pytest.raises(BatchSettingsError) as raised:
        check_engine(engine)

    message = str(raised.value)
    assert len(raised.value.problems) == 2, message
    assert "no_such_partition" in message
    assert "Invalid partition name specified" in message
    assert "'gres': 'gpu:1'" in message
    assert slurm_cluster.queued(f"run={run.run_id} ") == []


def test_a_node_name_with_newlines_runs_no_shell_in_the_job(
    harness: EngineHarness,
) -> None:
    # Kedro checks node names but not namespaces: a namespace from data can hold
    # a newline. Before the fix, "# Nodes: <names>" in the script ran this line.
    marker = harness.out / "injected"
    hostile = f"nl\ntouch {marker}\n#"
    job = attrs.evolve(
        harness.job("hostile", env={"HOSTILE": hostile}),
        namespace=hostile,
        nodes=(f"{hostile}.node",),
    )

    outcome = _run(harness, [job])

    assert outcome.ok
    assert not marker.exists()
    started = harness.started("hostile")
    assert started is not None
    assert started["env"]["HOSTILE"] == hostile


def test_job_scripts_hold_no_value_and_only_their_owner_reads_them(
    harness: EngineHarness,
) -> None:
    secret = "s3cr3t-token-value"
    job = harness.job("private", env={"API_TOKEN": secret})

    outcome = _run(harness, [job])

    assert outcome.ok
    started = harness.started("private")
    assert started is not None
    assert started["env"]["API_TOKEN"] == secret
    (log_dir,) = (harness.out / "logs" / "slurm_batch").iterdir()
    script = log_dir / "kedro-private.sbatch"
    data = log_dir / "kedro-private.data"
    assert secret not in script.read_text()
    assert str(harness.out) not in script.read_text()
    modes = {path.name: path.stat().st_mode & 0o777 for path in (log_dir, script, data)}
    assert modes == {log_dir.name: 0o700, script.name: 0o700, data.name: 0o600}
