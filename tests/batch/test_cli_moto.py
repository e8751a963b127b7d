"""A real Kedro project run by the stock ``kedro run --runner ...AWSBatchRunner``
against moto's server: the commands, environments and dependencies that reach
AWS Batch, pre-flight refusals, the dry run and a failing run.

moto's simple Batch backend does not run the commands; it marks each job
SUCCEEDED (or FAILED with ``MOTO_SIMPLE_BATCH_FAIL_AFTER``), so these tests check
what a container would be asked to run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.aws import BatchWorld
from tests.support.batch_project import MEMORY_CATALOG, write_batch_project
from tests.support.cli import kedro_cli, pipelines_flag, run_options

pytestmark = pytest.mark.slow

RUNNER = "--runner=kedro_pipelinename.batch.AWSBatchRunner"
RUN_ID_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")


def _batch_env(world: BatchWorld, **extra: str) -> dict[str, str]:
    return {
        "KEDRO_BATCH_ENDPOINT_URL": world.endpoint,
        "KEDRO_BATCH_POLL_INTERVAL": "0.05",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.2",
        "KEDRO_BATCH_LOOKUP_DELAY": "0",
        **extra,
    }


def _run_arguments() -> list[str]:
    return [
        "run",
        f"{pipelines_flag()}=train",
        "--env=batch_env",
        "--params=smoothing=2.0",
        RUNNER,
    ]


def test_stock_cli_submits_one_job_per_namespace_inside_the_named_pipeline(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = write_batch_project(tmp_path / "proj")
    # One Batch job per planned job (the clients' array: the next test).
    env = _batch_env(batch_world, KEDRO_BATCH_ARRAYS="false")

    kedro_cli(project, *_run_arguments(), env=env)

    jobs = {job["jobName"]: job for job in batch_world.jobs()}
    assert sorted(jobs) == ["kedro-client_1", "kedro-client_2", "kedro-report"]
    flags = run_options()
    assert {name: job["container"]["command"] for name, job in jobs.items()} == {
        f"kedro-{group}": [
            "kedro",
            "run",
            f"{pipelines_flag()}=train",
            f"{flags['node_names']}={nodes}",
            "--env=batch_env",
            "--params=smoothing=2.0",
        ]
        for group, nodes in (
            ("client_1", "client_1.prepare,client_1.fit"),
            ("client_2", "client_2.prepare,client_2.fit"),
            ("report", "report"),
        )
    }
    environments = {
        name: {item["name"]: item["value"] for item in job["container"]["environment"]}
        for name, job in jobs.items()
    }
    run_ids = {env["KEDRO_PIPELINENAME_RUN_ID"] for env in environments.values()}
    (run_id,) = run_ids
    assert RUN_ID_PATTERN.match(run_id)
    assert {env["KEDRO_ENV"] for env in environments.values()} == {"batch_env"}
    assert {job["tags"]["kedro-pipelinename:run-id"] for job in jobs.values()} == {
        run_id
    }
    report_parents = {entry["jobId"] for entry in jobs["kedro-report"]["dependsOn"]}
    assert report_parents == {
        jobs["kedro-client_1"]["jobId"],
        jobs["kedro-client_2"]["jobId"],
    }


def test_the_clients_go_as_one_array_job_whose_children_find_their_nodes(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = write_batch_project(tmp_path / "proj")

    kedro_cli(project, *_run_arguments(), env=_batch_env(batch_world))

    jobs = {job["jobName"]: job for job in batch_world.jobs()}
    assert sorted(jobs) == ["kedro-client_1-and-1-more", "kedro-report"]
    array = jobs["kedro-client_1-and-1-more"]
    assert array["arrayProperties"]["size"] == 2
    command = array["container"]["command"]
    # Every child runs the same command: `kedro batch child`, its spec, the
    # variable Batch sets to its index, then the run's command without --nodes.
    assert command[:3] == ["kedro", "batch", "child"]
    assert "--index-from=AWS_BATCH_JOB_ARRAY_INDEX" in command
    assert command[command.index("--") + 1 :] == [
        "kedro",
        "run",
        f"{pipelines_flag()}=train",
        "--env=batch_env",
        "--params=smoothing=2.0",
    ]
    spec = json.loads(command[3].removeprefix("--array="))
    assert spec["template"] == ["prepare", "fit"] and spec["count"] == 2
    # The report waits on the array as a whole: one dependency.
    assert jobs["kedro-report"]["dependsOn"] == [{"jobId": array["jobId"]}]


def test_preflight_lists_every_memory_dataset_between_jobs_and_submits_nothing(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = write_batch_project(tmp_path / "proj", catalog=MEMORY_CATALOG)
    # group_in_memory (the default) would run every job's nodes as one job.
    env = _batch_env(batch_world, KEDRO_BATCH_GROUP_IN_MEMORY="false")

    result = kedro_cli(project, *_run_arguments(), env=env, check=False)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "nothing was submitted" in output
    for client in ("client_1", "client_2"):
        assert re.search(
            rf"Dataset '{client}\.metrics' .*written by job 'kedro-{client}' and read "
            rf"by job\(s\) kedro-report",
            output,
        ), output
    assert "client_1.rows" not in output  # stays inside its job
    assert batch_world.jobs() == []


def test_dry_run_prints_and_writes_the_plan_and_calls_no_aws_api(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = write_batch_project(tmp_path / "proj")
    plan_file = tmp_path / "plan.json"
    arguments = _run_arguments()
    # Nothing listens on port 9: any AWS call would fail the run.
    env = _batch_env(batch_world, KEDRO_BATCH_ENDPOINT_URL="http://127.0.0.1:9")
    if "runner_params" in run_options():  # Kedro 1.6+: --runner-params
        arguments.append(f"--runner-params=dry_run=true,plan_file={plan_file}")
    else:
        env.update(KEDRO_BATCH_DRY_RUN="true", KEDRO_BATCH_PLAN_FILE=str(plan_file))

    result = kedro_cli(project, *arguments, env=env)

    plan = json.loads(plan_file.read_text())
    assert [job["name"] for job in plan["jobs"]] == [
        "kedro-client_1",
        "kedro-client_2",
        "kedro-report",
    ]
    assert plan["jobs"][2]["depends_on"] == ["kedro-client_1", "kedro-client_2"]
    assert plan["pipeline_names"] == ["train"]
    for name in ("kedro-client_1", "kedro-client_2", "kedro-report"):
        assert name in result.stdout
    assert batch_world.jobs() == []


def test_failed_jobs_raise_with_reason_logs_and_the_resume_command(
    batch_world: BatchWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_batch_project(tmp_path / "proj")
    # moto's server runs in this process: every job submitted now fails.
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    env = _batch_env(batch_world, KEDRO_BATCH_ARRAYS="false")

    result = kedro_cli(project, *_run_arguments(), env=env, check=False)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    jobs = {job["jobName"]: job for job in batch_world.jobs()}
    client_1 = jobs["kedro-client_1"]["jobId"]
    assert (
        "Job 'kedro-client_1' (nodes: client_1.prepare, client_1.fit) failed" in output
    )
    assert f"CloudWatch Logs stream kedro-project/default/{client_1}" in output
    # Its parents failed first: fail_fast cancelled it before Batch failed it.
    run_id = jobs["kedro-report"]["tags"]["kedro-pipelinename:run-id"]
    assert f"Cancelling 1 unfinished job(s) of run {run_id}: kedro-report" in output
    # The run's own command again, with its settings and run id: it adopts what
    # succeeded and runs the rest.
    variables = " ".join(f"{name}={value}" for name, value in sorted(env.items()))
    assert (
        f"{variables} KEDRO_PIPELINENAME_RUN_ID={run_id} kedro run "
        f"{pipelines_flag()}=train --env=batch_env --params=smoothing=2.0 {RUNNER}"
    ) in " ".join(output.split())


def test_without_the_patch_the_runner_refuses_the_unnamed_pipeline(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = write_batch_project(tmp_path / "proj")
    env = _batch_env(batch_world, KEDRO_PIPELINENAME_DISABLE="1")

    result = kedro_cli(project, *_run_arguments(), env=env, check=False)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "AWSBatchRunner cannot run a pipeline without a name" in output
    assert batch_world.jobs() == []
