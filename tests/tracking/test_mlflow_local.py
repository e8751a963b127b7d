"""One MLflow run per batch run, on the local engine, with a real MLflow server
and kedro-mlflow 2: every job logs into it, tagged, and its status is the
batch run's, also across a failure and its resume."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.background import background_driver
from tests.support.cli import kedro_cli, pipelines_flag
from tests.support.commands_project import batch, run_ids
from tests.support.waiting import DEADLINE, wait_until
from tests.tracking.mlflow_server import (
    JOBS,
    METRICS,
    assert_finished_with_every_node,
    experiment_runs,
    write_tracking_project,
)

pytestmark = pytest.mark.slow

LOCAL_RUNNER = "--runner=kedro_pipelinename.batch.LocalBatchRunner"
ENV = {"KEDRO_BATCH_POLL_INTERVAL": "0.1", "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5"}


def _experiment() -> str:
    return f"proj-{uuid.uuid4().hex[:8]}"


def _run(project: Path, check: bool = True, **env: str) -> str:
    result = kedro_cli(
        project,
        "run",
        f"{pipelines_flag()}=train",
        LOCAL_RUNNER,
        env={**ENV, **env},
        check=check,
    )
    return result.stdout + result.stderr


@pytest.mark.usefixtures("kedro_mlflow")
def test_a_four_job_run_with_kedro_mlflow_is_one_mlflow_run(
    tracking_uri: str, tmp_path: Path
) -> None:
    experiment = _experiment()
    project = write_tracking_project(
        tmp_path / "proj", tracking_uri=tracking_uri, experiment=experiment
    )

    output = _run(project)

    (run_id,) = run_ids(project)
    for job in JOBS:
        assert job in output
    runs = experiment_runs(tracking_uri, experiment)
    assert len(runs) == 1, [run.info.run_id for run in runs]
    (run,) = runs
    assert_finished_with_every_node(run)
    tags = run.data.tags
    assert (
        tags["kedro_pipelinename.run_id"],
        tags["kedro_pipelinename.pipelines"],
        tags["kedro_pipelinename.engine"],
    ) == (run_id, "train", "local")


@pytest.mark.usefixtures("kedro_mlflow")
def test_a_failed_run_resumed_continues_the_same_mlflow_run(
    tracking_uri: str, tmp_path: Path
) -> None:
    experiment = _experiment()
    project = write_tracking_project(
        tmp_path / "proj", tracking_uri=tracking_uri, experiment=experiment
    )
    (project / "data" / "fail_once_client_2").write_text("")

    first = _run(project, check=False)

    (run_id,) = run_ids(project)
    (failed,) = experiment_runs(tracking_uri, experiment)
    assert failed.info.status == "FAILED", first[-3000:]
    assert "client_2.score" not in failed.data.metrics

    resumed = batch(project, "resume", run_id, env=ENV)

    runs = experiment_runs(tracking_uri, experiment)
    assert [run.info.run_id for run in runs] == [failed.info.run_id], (
        resumed.stdout + resumed.stderr
    )[-3000:]
    (run,) = runs
    assert_finished_with_every_node(run)
    assert run.data.tags["kedro_pipelinename.run_id"] == run_id


@pytest.mark.parametrize("stop", ["kedro batch cancel", "Ctrl-C"])
@pytest.mark.usefixtures("kedro_mlflow")
def test_a_stopped_run_is_a_killed_mlflow_run(
    tracking_uri: str, tmp_path: Path, stop: str
) -> None:
    experiment = _experiment()
    project = write_tracking_project(
        tmp_path / "proj", tracking_uri=tracking_uri, experiment=experiment
    )
    (project / "data" / "hold_client_1").write_text("")
    argv = [sys.executable, "-m", "kedro", "run", f"{pipelines_flag()}=train"]
    log = tmp_path / "driver.log"

    with background_driver(
        [*argv, LOCAL_RUNNER], cwd=project, log=log, env=ENV
    ) as driver:
        wait_until((project / "data" / "started_client_1").exists, "job 1", driver)
        if stop == "Ctrl-C":
            os.killpg(driver.pid, signal.SIGINT)
        else:
            (run_id,) = run_ids(project)
            batch(project, "cancel", run_id, env=ENV)
        driver.wait(timeout=DEADLINE)

    (run,) = experiment_runs(tracking_uri, experiment)
    assert run.info.status == "KILLED", log.read_text()[-3000:]


def test_plain_mlflow_without_kedro_mlflow_is_one_run_with_the_setting(
    tracking_uri: str, tmp_path: Path
) -> None:
    experiment = _experiment()
    project = write_tracking_project(
        tmp_path / "proj",
        tracking_uri=tracking_uri,
        experiment=experiment,
        kedro_mlflow=False,
    )

    _run(
        project,
        KEDRO_BATCH_TRACKING="mlflow",
        MLFLOW_TRACKING_URI=tracking_uri,
        MLFLOW_EXPERIMENT_NAME=experiment,
    )

    (run_id,) = run_ids(project)
    (run,) = experiment_runs(tracking_uri, experiment)
    assert_finished_with_every_node(run)
    assert run.data.tags["kedro_pipelinename.run_id"] == run_id


def test_plain_mlflow_continues_the_run_an_orchestrator_named(
    tracking_uri: str, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    experiment = _experiment()
    project = write_tracking_project(
        tmp_path / "proj",
        tracking_uri=tracking_uri,
        experiment=experiment,
        kedro_mlflow=False,
    )
    client = MlflowClient(tracking_uri=tracking_uri)
    given = client.create_run(client.create_experiment(experiment)).info.run_id

    _run(
        project,
        KEDRO_BATCH_TRACKING="mlflow",
        MLFLOW_TRACKING_URI=tracking_uri,
        MLFLOW_RUN_ID=given,
    )

    (run,) = experiment_runs(tracking_uri, experiment)
    assert (run.info.run_id, run.info.status) == (given, "FINISHED")
    assert {key: run.data.metrics[key] for key in METRICS} == METRICS
