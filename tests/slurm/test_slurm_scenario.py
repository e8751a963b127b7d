"""The feature request's scenario on a real SLURM cluster, through ``kedro run``.

The project is the demo's (``kedro_pipelinename.demo.project``): two per-client
training pipelines from one namespaced factory, an ``evaluation`` pipeline as
``__default__`` whose node names overlap theirs, and ``{namespace}.X`` dataset
factories. Its ``batch:`` block asks for one job per node, two at a time; no
SLURM setting is given anywhere.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from tests.support.background import background_driver
from tests.support.cli import kedro_cli, pipelines_option
from tests.support.demo import (
    CLIENT_1_TRAIN_OUTPUTS,
    SLOW_PROFILE,
    node_runs,
    read_outputs,
)
from tests.support.processes import eventually_dead
from tests.support.slurm import SlurmCluster
from tests.support.waiting import poll_until, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

RUNNER = "kedro_pipelinename.batch.SlurmBatchRunner"
#: Every driver is bounded (seconds).
DEADLINE = 150
#: Rich wraps log lines at COLUMNS; the paths under pytest's tmp are long.
WIDE = {"COLUMNS": "1000"}
JOBS = ("fit", "prepare", "profile", "score")

#: Appended to nodes.py, this ``split_rows`` (the node ``prepare``) fails once
#: the slow ``profile`` job runs beside it (bounded wait): the first job fails.
FAILING_PREPARE = """

def split_rows(raw, test_every):
    import time
    from pathlib import Path

    for _ in range(600):
        if Path("logs/slow_job.json").exists():
            break
        time.sleep(0.1)
    raise RuntimeError("prepare failed on purpose")
"""


def _argv() -> list[str]:
    return [
        sys.executable,
        "-m",
        "kedro",
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
    ]


def _run_id(project: DemoProject) -> str:
    (log_dir,) = (project.path / "logs" / "slurm_batch").iterdir()
    return log_dir.name


def _jobs_left(cluster: SlurmCluster, run_id: str) -> list[tuple[str, str]]:
    """The run's jobs still in squeue (pending, running, completing), once
    cancelled ones had time to go (bounded: 20 s, SLURM's KillWait is 5 s)."""
    poll_until(lambda: not cluster.queued(f"run={run_id} "), timeout=20, interval=0.2)
    return cluster.queued(f"run={run_id} ")


@pytest.fixture(scope="module")
def slurm_run(
    slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DemoProject, str]:
    """The scenario after one ``kedro run --pipelines client_1_train`` on SLURM."""
    project = write_demo_project(tmp_path_factory.mktemp("slurm") / "client-models")
    result = kedro_cli(
        project.path,
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
        env=WIDE,
        timeout=DEADLINE,
    )
    return project, result.stdout + result.stderr


def test_a_slurm_run_writes_the_outputs_of_a_plain_run(
    slurm_run: tuple[DemoProject, str],
) -> None:
    project, _ = slurm_run

    assert read_outputs(project) == CLIENT_1_TRAIN_OUTPUTS
    records = node_runs(project)
    assert {record["pipeline"] for record in records} == {"client_1_train"}
    assert len({record["run_id"] for record in records}) == 1


def test_every_node_runs_in_its_own_slurm_job_submitted_up_front(
    slurm_run: tuple[DemoProject, str], slurm_cluster: SlurmCluster
) -> None:
    project, output = slurm_run
    run_id = _run_id(project)
    log_dir = project.path / "logs" / "slurm_batch" / run_id

    records = [json.loads(path.read_text()) for path in log_dir.glob("*.job")]
    assert sorted((r["name"], r["nodes"]) for r in records) == [
        (f"kedro-client_1-{job}", [f"client_1.{job}"]) for job in JOBS
    ]
    # SLURM ran each one: its state, and the node's own log line in its output.
    rows = slurm_cluster.command(
        "squeue", "--states=all", "-h", "-o", "%i|%j|%T|%k"
    ).splitlines()
    states = {
        row.split("|")[1]: row.split("|")[2] for row in rows if f"run={run_id} " in row
    }
    assert states == {f"kedro-client_1-{job}": "COMPLETED" for job in JOBS}
    for record in records:
        name, job_id = record["name"], record["job_id"]
        text = (log_dir / f"{name}.{job_id}.out").read_text() + (
            log_dir / f"{name}.{job_id}.err"
        ).read_text()
        assert record["nodes"][0] in text, name
    # score went to SLURM before its parent fit finished: SLURM, not the
    # driver, held it back until fit succeeded (afterok). Its other parents
    # (prepare, profile) are named too when they had not succeeded yet: that
    # depends on how fast the machine ran them.
    text = " ".join(output.split())
    ids = {record["name"]: record["job_id"] for record in records}
    submitted = re.search(
        rf"submitted as SLURM job {ids['kedro-client_1-score']} \(nodes: "
        rf"client_1\.score; after ([0-9, ]+)\)",
        text,
    )
    assert submitted is not None, text
    assert ids["kedro-client_1-fit"] in submitted.group(1).split(", ")
    assert submitted.start() < text.index("Job kedro-client_1-fit succeeded.")


def test_a_rerun_with_the_same_run_id_submits_no_job_twice(
    slurm_run: tuple[DemoProject, str],
) -> None:
    project, _ = slurm_run
    run_id = _run_id(project)

    result = kedro_cli(
        project.path,
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
        env={**WIDE, "KEDRO_PIPELINENAME_RUN_ID": run_id},
        timeout=DEADLINE,
    )

    output = " ".join((result.stdout + result.stderr).split())
    assert "adopted 4 (4 succeeded)" in output
    assert "submitted as SLURM job" not in output
    log_dir = project.path / "logs" / "slurm_batch" / run_id
    assert len(list(log_dir.glob("*.job"))) == 4


def test_a_failed_node_fails_the_run_and_cancels_the_rest(
    demo_project: DemoProject, slurm_cluster: SlurmCluster
) -> None:
    nodes_py = demo_project.path / "src" / demo_project.package / "nodes.py"
    nodes_py.write_text(nodes_py.read_text() + SLOW_PROFILE + FAILING_PREPARE)

    result = kedro_cli(
        demo_project.path,
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
        env=WIDE,
        check=False,
        timeout=DEADLINE,
    )

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    run_id = _run_id(demo_project)
    # BatchJobError: the job's nodes, SLURM's state and node, exit code, output.
    assert "Job 'kedro-client_1-prepare' (nodes: client_1.prepare) failed" in output
    assert re.search(r"reason: SLURM job \d+ FAILED \(NonZeroExitCode\) on ", output)
    assert "exit code: 1" in output
    assert "RuntimeError: prepare failed on purpose" in output
    assert re.search(r"logs: \S+/kedro-client_1-prepare\.\d+\.out", output)
    assert "To resume the run:" in output
    # fail_fast cancelled the sleeping job, and fit and score never ran:
    # nothing of the run is left in squeue, and the sleeping node's process is gone.
    assert "fail_fast: job kedro-client_1-prepare of the same run failed" in output
    assert _jobs_left(slurm_cluster, run_id) == []
    slow = json.loads((demo_project.path / "logs" / "slow_job.json").read_text())
    assert eventually_dead(slow["pid"])
    assert not (demo_project.data_dir / "client_1" / "metrics.json").exists()


def test_ctrl_c_cancels_every_job_of_the_run(
    demo_project: DemoProject, slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    nodes_py = demo_project.path / "src" / demo_project.package / "nodes.py"
    nodes_py.write_text(nodes_py.read_text() + SLOW_PROFILE)
    marker = demo_project.path / "logs" / "slow_job.json"
    log = tmp_path / "driver.log"

    with background_driver(_argv(), cwd=demo_project.path, log=log, env=WIDE) as driver:
        wait_until(marker.exists, "the slow node running in its SLURM job", driver)
        driver.send_signal(signal.SIGINT)
        returncode = driver.wait(timeout=DEADLINE)

    output = " ".join(log.read_text().split())
    assert returncode != 0, output[-3000:]
    assert "Cancelling SLURM job(s)" in output
    assert _jobs_left(slurm_cluster, _run_id(demo_project)) == []
    assert eventually_dead(json.loads(marker.read_text())["pid"])
    assert not (demo_project.data_dir / "client_1" / "metrics.json").exists()


#: Appended to nodes.py, this ``profile_rows`` runs until the test releases it
#: (bounded: 120 s), so that a second driver starts while the first is live.
HELD_PROFILE = """

def profile_rows(raw):
    import json, os, time
    from pathlib import Path

    Path("logs/slow_job.json").write_text(json.dumps({"pid": os.getpid()}))
    for _ in range(1200):
        if Path("logs/release").exists():
            break
        time.sleep(0.1)
    return {"count": len(raw), "max": max(raw), "min": min(raw)}
"""


def test_a_second_driver_of_a_live_slurm_run_refuses_and_nodes_run_once(
    demo_project: DemoProject, slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    nodes_py = demo_project.path / "src" / demo_project.package / "nodes.py"
    nodes_py.write_text(nodes_py.read_text() + HELD_PROFILE)
    marker = demo_project.path / "logs" / "slow_job.json"

    with background_driver(
        _argv(), cwd=demo_project.path, log=tmp_path / "first.log", env=WIDE
    ) as first:
        wait_until(marker.exists, "the held node running in its SLURM job", first)
        run_id = _run_id(demo_project)
        second = kedro_cli(
            demo_project.path,
            "run",
            *pipelines_option("client_1_train"),
            f"--runner={RUNNER}",
            env={**WIDE, "KEDRO_PIPELINENAME_RUN_ID": run_id},
            check=False,
            timeout=DEADLINE,
        )
        (demo_project.path / "logs" / "release").touch()
        returncode = first.wait(timeout=DEADLINE)

    output = " ".join((tmp_path / "first.log").read_text().split())
    refusal = " ".join((second.stdout + second.stderr).split())
    assert second.returncode != 0
    assert f"Run {run_id} is held by another driver (pid {first.pid} on" in refusal
    assert returncode == 0, output[-3000:]
    ran = sorted(run["node"] for run in node_runs(demo_project))
    assert len(ran) == len(set(ran))  # every node ran once
    record = json.loads(
        (demo_project.path / "logs" / "batch" / run_id / "run.json").read_text()
    )
    assert [driver["pid"] for driver in record["drivers"]] == [first.pid]
    assert {len(job["attempts"]) for job in record["jobs"]} == {1}
    assert record["state"] == "succeeded"
