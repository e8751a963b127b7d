"""``kedro batch status`` and ``cancel`` open a run's engine without its pre-flight.

Only a driver checks the run's resources (``Engine.check``): a run whose job
definition was deregistered, whose queue was disabled or whose partition is gone
since it started is still watched and cancelled, and watching it costs no
pre-flight call; a driver still refuses missing resources, all at once, before
it submits anything. On AWS Batch (moto's server behind a counting proxy) and on
SLURM (the real cluster, its commands wrapped by scripts that record each call).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.aws import BatchWorld
from tests.support.cli import cli_env, kedro_cli
from tests.support.commands_project import (
    AWS_RUNNER,
    batch,
    json_of,
    record,
    run_arguments,
    run_ids,
    write_commands_project,
)
from tests.support.fault_proxy import FaultProxy, fault_proxy
from tests.support.moto_compute import MotoCompute
from tests.support.slurm import SlurmCluster, slurm_cluster  # noqa: F401 (the fixture)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

SLURM_RUNNER = "kedro_pipelinename.batch.SlurmBatchRunner"
#: What AWS Batch's pre-flight asks (``AWSBatchEngine.check``), as the proxy
#: names the operations (their REST paths).
AWS_PREFLIGHT = ("describejobqueues", "describejobdefinitions")
KEDRO = (sys.executable, "-m", "kedro")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = write_commands_project(tmp_path / "proj")
    (project / "data" / "hold_report").touch()  # the report job runs until told
    return project


@pytest.fixture
def proxy(batch_world: BatchWorld) -> Iterator[FaultProxy]:
    with fault_proxy(batch_world.endpoint) as started:
        yield started


def _preflight_calls(proxy: FaultProxy) -> dict[str, int]:
    return {operation: proxy.count(operation) for operation in AWS_PREFLIGHT}


def _rounds(watched: Path) -> int:
    """How many documents ``status --watch --json`` printed (one per line)."""
    return sum(
        line.startswith('{"run_id"') for line in watched.read_text().splitlines()
    )


def _states(project: Path, run_id: str, *options: str) -> dict[str, str]:
    result = batch(project, "status", run_id, "--json", *options)
    # With --watch, one document per line and round: the last is the run's end.
    watched = "--watch" in options
    document = json.loads(result.stdout.splitlines()[-1]) if watched else None
    return {
        job["name"]: job["state"]
        for job in (document or json_of(result.stdout))["jobs"]
    }


def test_status_and_cancel_on_aws_work_without_the_definition_and_queue(
    project: Path, batch_world: BatchWorld, proxy: FaultProxy, start_driver: Any
) -> None:
    env = {
        # The driver, and so the run record, talk to moto through the proxy.
        "KEDRO_BATCH_ENDPOINT_URL": proxy.url,
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5",
        "KEDRO_BATCH_LOOKUP_DELAY": "0",
        "KEDRO_BATCH_EXECUTABLE": f"{sys.executable} -m kedro",
    }
    with MotoCompute(project).running() as compute:
        driver = start_driver(project, *run_arguments(AWS_RUNNER), env=env)
        wait_until((project / "data" / "report_waiting").exists, "the report job")
        (run_id,) = run_ids(project)
        by_driver = _preflight_calls(proxy)
        client = batch_world.client()
        (definition,) = client.describe_job_definitions(
            jobDefinitionName=batch_world.definition, status="ACTIVE"
        )["jobDefinitions"]
        client.deregister_job_definition(jobDefinition=definition["jobDefinitionArn"])
        client.update_job_queue(jobQueue=batch_world.queue, state="DISABLED")

        running = _states(project, run_id)
        watched = project / "watch.out"
        with watched.open("w") as output:
            watch = subprocess.Popen(
                [
                    *KEDRO,
                    "batch",
                    "status",
                    run_id,
                    "--watch",
                    "--json",
                    "--interval=0.1",
                ],
                cwd=project,
                env=cli_env(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until(lambda: _rounds(watched) >= 3, "three rounds of --watch")
                cancelled = batch(project, "cancel", run_id)
                watch.wait(timeout=120)
            finally:
                if watch.poll() is None:
                    watch.kill()
                    watch.wait()
        driver.communicate(timeout=120)
        wait_until(lambda: compute.alive() == 0, "the job processes to end")
        after = _states(project, run_id)

    assert by_driver == {"describejobqueues": 1, "describejobdefinitions": 1}
    assert running["kedro-report"] == "RUNNING"
    assert watch.returncode == 0, watched.read_text()
    assert f"Run {run_id} is cancelled" in cancelled.stdout
    assert after["kedro-report"] in ("CANCELLED", "FAILED")
    assert record(project, run_id)["state"] == "cancelled"
    # status, status --watch and cancel: no pre-flight call at all.
    assert _preflight_calls(proxy) == by_driver


def _recording_bin_dir(directory: Path, log: Path) -> Path:
    """SLURM's commands, each a script that appends its argv to ``log`` and runs
    the real one: what an engine opened with ``bin_dir=directory`` calls."""
    directory.mkdir()
    for name in ("sbatch", "squeue", "scancel", "sacct"):
        real = subprocess.run(
            ["sh", "-c", f"command -v {name}"], capture_output=True, text=True
        ).stdout.strip()
        if not real:
            continue
        script = directory / name
        script.write_text(
            f'#!/bin/sh\necho "{name} $*" >> {shlex.quote(str(log))}\n'
            f'exec {shlex.quote(real)} "$@"\n'
        )
        script.chmod(0o755)
    return directory


def _calls(log: Path, since: int = 0) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return lines[since:]


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> SlurmCluster:
    """The session's SLURM cluster (``support.slurm.slurm_cluster``)."""
    started: SlurmCluster = request.getfixturevalue("slurm_cluster")
    return started


@pytest.mark.slurm
def test_status_and_cancel_on_slurm_run_no_test_only_and_outlive_the_partition(
    project: Path, cluster: SlurmCluster, start_driver: Any, tmp_path: Path
) -> None:
    partition = f"gone{os.getpid()}"
    cluster.command(
        "scontrol",
        "create",
        f"PartitionName={partition}",
        f"Nodes={cluster.node}",
    )
    log = tmp_path / "slurm-calls.log"
    env = {
        "KEDRO_BATCH_PARTITION": partition,
        "KEDRO_BATCH_BIN_DIR": str(_recording_bin_dir(tmp_path / "bin", log)),
        "KEDRO_BATCH_POLL_INTERVAL": "0.2",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5",
        "KEDRO_BATCH_EXECUTABLE": f"{sys.executable} -m kedro",
    }
    try:
        driver = start_driver(project, *run_arguments(SLURM_RUNNER), env=env)
        wait_until((project / "data" / "report_waiting").exists, "the report job")
        (run_id,) = run_ids(project)
        by_driver = _calls(log)
        # No new job may run there; its jobs still run (SLURM refuses to delete
        # a partition with jobs).
        cluster.command(
            "scontrol", "update", f"PartitionName={partition}", "State=INACTIVE"
        )

        running = _states(project, run_id)
        cancelled = batch(project, "cancel", run_id)
        driver.communicate(timeout=120)
        wait_until(lambda: cluster.queued(f"run={run_id} ") == [], "the jobs")
        cluster.command("scontrol", "delete", f"PartitionName={partition}")
        after = _states(project, run_id, "--watch")
        by_commands = _calls(log, since=len(by_driver))
    finally:
        cluster.cancel_all()
        subprocess.run(
            ["scontrol", "delete", f"PartitionName={partition}"],
            env=cluster.env,
            capture_output=True,
            check=False,
        )

    test_only = [call for call in by_driver if call.startswith("sbatch --test-only")]
    assert len(test_only) == 1, by_driver
    assert running["kedro-report"] == "RUNNING"
    assert f"Run {run_id} is cancelled" in cancelled.stdout
    assert after["kedro-report"] in ("CANCELLED", "FAILED")
    # status, cancel (and the driver it stopped) and status --watch: squeue and
    # scancel, never sbatch.
    assert [call for call in by_commands if call.startswith("sbatch")] == []
    assert any(call.startswith("scancel") for call in by_commands)


def test_an_aws_driver_still_refuses_a_missing_definition_before_submitting(
    project: Path, batch_world: BatchWorld, proxy: FaultProxy
) -> None:
    parameters = project / "conf" / "base" / "parameters.yml"
    parameters.write_text(
        parameters.read_text().replace("kedro-project", "no-such-definition")
    )
    env = {"KEDRO_BATCH_ENDPOINT_URL": proxy.url}

    result = kedro_cli(project, *run_arguments(AWS_RUNNER), env=env, check=False)

    assert result.returncode != 0
    assert "'no-such-definition' does not exist" in result.stdout + result.stderr
    assert _preflight_calls(proxy) == {
        "describejobqueues": 1,
        "describejobdefinitions": 1,
    }
    assert proxy.count("submitjob") == 0
    assert batch_world.jobs() == []


@pytest.mark.slurm
def test_a_slurm_driver_still_refuses_missing_resources_before_submitting(
    project: Path, cluster: SlurmCluster
) -> None:
    resources = {
        "client_1": {"partition": "no_such_partition"},
        "client_2": {"gres": "gpu:1"},
    }
    env = {
        "KEDRO_BATCH_RESOURCES_BY_NAMESPACE": json.dumps(resources),
        "KEDRO_BATCH_EXECUTABLE": f"{sys.executable} -m kedro",
    }

    result = kedro_cli(project, *run_arguments(SLURM_RUNNER), env=env, check=False)

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    # Both at once, from the pre-flight (sbatch itself would stop at the first).
    assert "2 problems with the batch settings; nothing was submitted" in output
    assert "Invalid partition name specified" in output
    assert "'gres': 'gpu:1'" in output
    assert not list((project / "logs").rglob("*.job"))  # no submission record
    assert cluster.queued("run=") == []
