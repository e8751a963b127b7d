"""One MLflow run per batch run on AWS Batch (moto's server, jobs really
running as local processes: ``MotoCompute``), with kedro-mlflow 2 and a real
MLflow server."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.aws import BatchWorld
from tests.support.cli import kedro_cli, pipelines_flag
from tests.support.commands_project import batch, run_ids
from tests.support.moto_compute import MotoCompute
from tests.tracking.mlflow_server import (
    assert_finished_with_every_node,
    experiment_runs,
    write_tracking_project,
)

pytestmark = pytest.mark.slow

AWS_PARAMETERS = """
aws_batch:
  job_queue: kedro-queue
  job_definition: kedro-project
"""


def _aws_env(batch_world: BatchWorld) -> dict[str, str]:
    return {
        "KEDRO_BATCH_ENDPOINT_URL": batch_world.endpoint,
        # The jobs' `kedro` is this interpreter's (PATH may have another).
        "KEDRO_BATCH_EXECUTABLE": str(Path(sys.executable).parent / "kedro"),
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5",
        "KEDRO_BATCH_LOOKUP_DELAY": "0.2",
    }


def _aws_project(tracking_uri: str, tmp_path: Path) -> tuple[str, Path]:
    """A new experiment's name and the tracking project logging into it."""
    experiment = f"proj-{uuid.uuid4().hex[:8]}"
    project = write_tracking_project(
        tmp_path / "proj",
        tracking_uri=tracking_uri,
        experiment=experiment,
        parameters=AWS_PARAMETERS,
    )
    return experiment, project


def _run_on_aws(
    project: Path, batch_world: BatchWorld, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``kedro run`` of ``train`` with the AWS Batch runner, on moto."""
    return kedro_cli(
        project,
        "run",
        f"{pipelines_flag()}=train",
        "--runner=kedro_pipelinename.batch.AWSBatchRunner",
        env=_aws_env(batch_world),
        check=check,
    )


@pytest.mark.usefixtures("kedro_mlflow")
def test_a_four_job_run_on_aws_batch_is_one_mlflow_run(
    tracking_uri: str, batch_world: BatchWorld, tmp_path: Path
) -> None:
    experiment, project = _aws_project(tracking_uri, tmp_path)

    with MotoCompute(project).running():
        result = _run_on_aws(project, batch_world)

    (run_id,) = run_ids(project)
    # The three clients' one-node jobs as one array job: its children log into
    # the one run too.
    assert sorted(job["jobName"] for job in batch_world.jobs()) == [
        "kedro-report",
        "kedro-train-client_1-and-2-more",
    ]
    runs = experiment_runs(tracking_uri, experiment)
    assert len(runs) == 1, result.stderr[-3000:]
    (run,) = runs
    assert_finished_with_every_node(run)
    assert (
        run.data.tags["kedro_pipelinename.run_id"],
        run.data.tags["kedro_pipelinename.engine"],
    ) == (run_id, "aws")


@pytest.mark.usefixtures("kedro_mlflow")
def test_a_failed_run_on_aws_batch_resumed_continues_the_same_mlflow_run(
    tracking_uri: str, batch_world: BatchWorld, tmp_path: Path
) -> None:
    experiment, project = _aws_project(tracking_uri, tmp_path)
    (project / "data" / "fail_once_client_2").write_text("")

    with MotoCompute(project).running():
        first = _run_on_aws(project, batch_world, check=False)
        (run_id,) = run_ids(project)
        (failed,) = experiment_runs(tracking_uri, experiment)
        assert failed.info.status == "FAILED", first.stderr[-3000:]
        resumed = batch(project, "resume", run_id, env=_aws_env(batch_world))

    runs = experiment_runs(tracking_uri, experiment)
    assert [run.info.run_id for run in runs] == [failed.info.run_id], (
        resumed.stdout + resumed.stderr
    )[-3000:]
    (run,) = runs
    assert_finished_with_every_node(run)
    assert run.data.tags["kedro_pipelinename.engine"] == "aws"
