"""The feature request's fan-out at 50 clients through ``kedro run``: on AWS
Batch (moto's server, the sandbox's compute) and on a real SLURM cluster the 50
client jobs go as one array job, every child finds its client, and the outputs
equal a plain ``kedro run``'s. The submissions are counted where they land."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.aws import BatchWorld
from tests.support.batch_project import PROJECT_DATASETS
from tests.support.cli import kedro_cli, pipelines_option
from tests.support.moto_compute import MotoCompute
from tests.support.projects import write_project
from tests.support.slurm import SlurmCluster, slurm_cluster

__all__ = ["slurm_cluster"]  # the SLURM test's fixture

pytestmark = [pytest.mark.slow, pytest.mark.fanout]

CLIENTS = [f"client_{number:02d}" for number in range(1, 51)]
DEADLINE = 600
WIDE = {"COLUMNS": "1000"}

NODES = """
def prepare(raw):
    return sorted(raw)


def fit(rows):
    return {"mean": sum(rows) / len(rows)}


def report(*metrics):
    return [metric["mean"] for metric in metrics]
"""

REGISTRY = f"""
from kedro.pipeline import Pipeline, node, pipeline

from proj.nodes import fit, prepare, report

CLIENTS = {CLIENTS!r}


def client_pipeline(namespace):
    return pipeline(
        [
            node(prepare, "raw", "rows", name="prepare"),
            node(fit, "rows", "metrics", name="fit"),
        ],
        namespace=namespace,
    )


def register_pipelines():
    train = Pipeline([])
    for client in CLIENTS:
        train += client_pipeline(client)
    train += Pipeline(
        [node(report, [f"{{c}}.metrics" for c in CLIENTS], "report", name="report")]
    )
    return {{"__default__": train, "train": train}}
"""

CATALOG = """
"{namespace}.{name}":
  type: proj.datasets.JSONFile
  filepath: data/{namespace}/{name}.json
report:
  type: proj.datasets.JSONFile
  filepath: data/report.json
"""

PARAMETERS = """
aws_batch:
  job_queue: kedro-queue
  job_definition: kedro-project
"""


def _project(root: Path) -> Path:
    project = write_project(
        root,
        modules={"datasets": PROJECT_DATASETS, "nodes": NODES},
        registry=REGISTRY,
        catalog=CATALOG,
        parameters=PARAMETERS,
    )
    for number, client in enumerate(CLIENTS, start=1):
        raw = project / "data" / client / "raw.json"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(str([number * 3, number, number * 2]))
    return project


def _outputs(project: Path) -> dict[str, str]:
    return {
        str(path.relative_to(project / "data")): path.read_text()
        for path in sorted((project / "data").rglob("*.json"))
    }


@pytest.fixture(scope="module")
def plain_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    project = _project(tmp_path_factory.mktemp("plain") / "proj")
    kedro_cli(project, "run", *pipelines_option("train"), timeout=DEADLINE)
    return _outputs(project)


def _run(project: Path, runner: str, env: dict[str, str]) -> str:
    result = kedro_cli(
        project,
        "run",
        *pipelines_option("train"),
        f"--runner=kedro_pipelinename.batch.{runner}",
        env={**WIDE, **env},
        timeout=DEADLINE,
    )
    return result.stdout + result.stderr


def test_fifty_clients_on_aws_batch_are_one_array_job(
    batch_world: BatchWorld, tmp_path: Path, plain_outputs: dict[str, str]
) -> None:
    project = _project(tmp_path / "proj")
    env = {
        "KEDRO_BATCH_ENDPOINT_URL": batch_world.endpoint,
        "KEDRO_BATCH_POLL_INTERVAL": "0.2",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "1",
        "KEDRO_BATCH_LOOKUP_DELAY": "0",
        "KEDRO_BATCH_EXECUTABLE": f"{sys.executable} -m kedro",
    }

    with MotoCompute(project, slots=2).running():
        _run(project, "AWSBatchRunner", env)

    assert _outputs(project) == plain_outputs
    # Two SubmitJob calls: the clients' array job and the report.
    jobs = {job["jobName"]: job for job in batch_world.jobs()}
    assert sorted(jobs) == ["kedro-client_01-and-49-more", "kedro-report"]
    array = jobs["kedro-client_01-and-49-more"]
    assert array["arrayProperties"]["size"] == 50
    assert jobs["kedro-report"]["dependsOn"] == [{"jobId": array["jobId"]}]
    assert {job["status"] for job in jobs.values()} == {"SUCCEEDED"}


@pytest.mark.slurm
def test_fifty_clients_on_slurm_are_one_job_array(
    slurm_cluster: SlurmCluster, tmp_path: Path, plain_outputs: dict[str, str]
) -> None:
    project = _project(tmp_path / "proj")

    _run(project, "SlurmBatchRunner", {})

    assert _outputs(project) == plain_outputs
    (log_dir,) = (project / "logs" / "slurm_batch").iterdir()
    run_id = log_dir.name
    # %F: the array's job id (a plain job's own): two sbatch calls.
    rows = slurm_cluster.command(
        "squeue", "--array", "--states=all", "-h", "-o", "%F|%j|%T|%k"
    ).splitlines()
    ours = [row.split("|") for row in rows if f"run={run_id} " in row]
    assert len(ours) == 51
    assert {state for _, _, state, _ in ours} == {"COMPLETED"}
    submitted = {(array_id, name) for array_id, name, _, _ in ours}
    assert sorted(name for _, name in submitted) == [
        "kedro-client_01-and-49-more",
        "kedro-report",
    ]
