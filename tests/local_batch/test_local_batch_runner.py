"""``LocalBatchRunner`` through the stock ``kedro run --runner``, on the scenario.

The project's ``batch:`` parameters ask for one job per node, two at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from tests.support.background import background_driver, printed_resume_command
from tests.support.cli import (
    kedro_cli,
    pipelines_option,
    run_command,
    run_options,
)
from tests.support.demo import (
    SLOW_PROFILE,
    node_runs,
    read_outputs,
    version_directories,
)
from tests.support.processes import descendants, group_gone, is_alive
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

RUNNER = "kedro_pipelinename.batch.LocalBatchRunner"

#: Every test process is bounded (seconds).
DEADLINE = 120

#: Rich wraps log lines at COLUMNS; the job log paths under pytest's tmp are long.
WIDE = {"COLUMNS": "1000"}

#: And this ``fit_model`` fails, once the slow job is running (bounded wait).
FAILING_FIT = """

def fit_model(train_rows, smoothing):
    import time
    from pathlib import Path

    for _ in range(600):
        if Path("logs/slow_job.json").exists():
            break
        time.sleep(0.1)
    raise RuntimeError("fit failed on purpose")
"""


def _run_with_local_batch(
    project: DemoProject, *, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return kedro_cli(
        project.path,
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
        env={**WIDE, **(env or {})},
        check=check,
        timeout=DEADLINE,
    )


def _driver_argv() -> list[str]:
    return [
        sys.executable,
        "-m",
        "kedro",
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
    ]


#: A run's own flags, which its resume command must carry: a param, and (Kedro
#: 1.6+) a runner argument.
OWN_FLAGS = ["--params=client_1.smoothing=3.0"] + (
    ["--runner-params=max_parallel=2,fail_fast=true"]
    if "runner_params" in run_options()
    else []
)


@pytest.fixture
def kill_slow_job(demo_project: DemoProject) -> Iterator[None]:
    """After the test, kill the slow job's group if a failure left it running."""
    yield
    marker = demo_project.path / "logs" / "slow_job.json"
    if marker.exists():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(json.loads(marker.read_text())["pgid"], signal.SIGKILL)


def test_local_batch_run_matches_a_plain_run_with_one_process_per_job(
    demo_project: DemoProject, plain_run: DemoProject
) -> None:
    result = _run_with_local_batch(demo_project)

    assert read_outputs(demo_project) == read_outputs(plain_run)
    records = node_runs(demo_project)
    (run_id,) = {record["run_id"] for record in records}
    assert sorted(record["node"] for record in records) == sorted(
        ["client_1.prepare", "client_1.profile", "client_1.fit", "client_1.score"]
    )
    assert len({record["pid"] for record in records}) == 4
    assert {record["pipeline"] for record in records} == {"client_1_train"}
    # Every job saved its versioned outputs under the driver's one run id.
    assert version_directories(demo_project) == {run_id}
    log_dir = demo_project.path / "logs" / "local_batch" / run_id
    assert sorted(path.name for path in log_dir.glob("*.log")) == [
        "kedro-client_1-fit.log",
        "kedro-client_1-prepare.log",
        "kedro-client_1-profile.log",
        "kedro-client_1-score.log",
    ]
    output = result.stdout + result.stderr
    assert f"log: {log_dir / 'kedro-client_1-fit.log'}" in output
    assert "Plan of run" in output


@pytest.mark.usefixtures("kill_slow_job")
def test_failing_job_terminates_the_others_and_its_resume_command_finishes_the_run(
    demo_project: DemoProject, plain_run: DemoProject
) -> None:
    nodes_py = demo_project.path / "src" / demo_project.package / "nodes.py"
    fixed_source = nodes_py.read_text()
    nodes_py.write_text(fixed_source + SLOW_PROFILE + FAILING_FIT)

    result = _run_with_local_batch(demo_project, check=False)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    pgid = json.loads((demo_project.path / "logs" / "slow_job.json").read_text())[
        "pgid"
    ]
    # fail_fast terminated the sleeping job's group because fit failed (without
    # it the run would sleep past the CLI's timeout), and nothing of it is left.
    assert (
        f"Terminating job process group {pgid} (kedro-client_1-profile): "
        f"fail_fast: job kedro-client_1-fit of the same run failed"
    ) in " ".join(output.split())
    assert group_gone(pgid)
    assert not (demo_project.data_dir / "client_1" / "profile.json").exists()
    # The error names the job, its exit and log, and shows the log's last lines.
    assert "Job 'kedro-client_1-fit' (nodes: client_1.fit) failed" in output
    assert "exited with code 1" in output
    assert "RuntimeError: fit failed on purpose" in output
    assert "kedro-client_1-fit.log" in output

    nodes_py.write_text(fixed_source)  # the user fixes the bug ...
    argv, env = printed_resume_command(output)  # ... and runs the printed command
    run_command(argv, cwd=demo_project.path, env={**env, **WIDE}, timeout=DEADLINE)

    assert read_outputs(demo_project) == read_outputs(plain_run)
    assert version_directories(demo_project) == {env["KEDRO_PIPELINENAME_RUN_ID"]}


@pytest.fixture(scope="module")
def plain_run_with_own_flags(tmp_path_factory: pytest.TempPathFactory) -> DemoProject:
    """``client_1_train`` run plainly with ``OWN_FLAGS``' param."""
    project = write_demo_project(tmp_path_factory.mktemp("own") / "client-models")
    kedro_cli(project.path, "run", *pipelines_option("client_1_train"), OWN_FLAGS[0])
    return project


@pytest.mark.usefixtures("kill_slow_job")
@pytest.mark.parametrize(
    "stop_signal",
    [
        pytest.param(signal.SIGINT, id="ctrl-c"),
        pytest.param(signal.SIGTERM, id="sigterm"),
    ],
)
def test_a_stopped_driver_leaves_no_job_alive_and_its_own_command_finishes_the_run(
    demo_project: DemoProject,
    plain_run_with_own_flags: DemoProject,
    tmp_path: Path,
    stop_signal: signal.Signals,
) -> None:
    nodes_py = demo_project.path / "src" / demo_project.package / "nodes.py"
    fixed_source = nodes_py.read_text()
    nodes_py.write_text(fixed_source + SLOW_PROFILE)
    marker = demo_project.path / "logs" / "slow_job.json"
    exit_records = demo_project.path / "logs" / "local_batch"
    jobs: set[int] = set()
    try:
        with background_driver(
            [*_driver_argv(), *OWN_FLAGS],
            cwd=demo_project.path,
            log=tmp_path / "driver.log",
            env=WIDE,
        ) as driver:
            wait_until(marker.exists, "the slow job to start", driver)
            wait_until(
                lambda: list(exit_records.glob("*/kedro-client_1-fit.exit")),
                "kedro-client_1-fit to finish",
                driver,
            )
            jobs = descendants(driver.pid)
            assert jobs, "the driver has no job processes"

            # SIGINT is what Ctrl-C in a terminal sends; SIGTERM what CI sends.
            driver.send_signal(stop_signal)
            driver.wait(timeout=DEADLINE)

        assert sorted(pid for pid in jobs if is_alive(pid)) == []
        pgid = json.loads(marker.read_text())["pgid"]
        assert group_gone(pgid)
        assert driver.returncode != 0
    finally:
        for pid in jobs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    output = (tmp_path / "driver.log").read_text()
    assert "Terminating" in output
    # The whole command of the run again, with its own flags and its run id.
    argv, env = printed_resume_command(output)
    assert argv[argv.index("run") + 1 :] == [
        f"{pipelines_option('client_1_train')[0]}=client_1_train",
        *OWN_FLAGS[:1],
        f"--runner={RUNNER}",
        *OWN_FLAGS[1:],
    ]

    nodes_py.write_text(fixed_source)
    run_command(argv, cwd=demo_project.path, env={**env, **WIDE}, timeout=DEADLINE)

    assert read_outputs(demo_project) == read_outputs(plain_run_with_own_flags)
    assert version_directories(demo_project) == {env["KEDRO_PIPELINENAME_RUN_ID"]}
    # What finished before the signal was adopted, not run again.
    ran = [record["node"] for record in node_runs(demo_project)]
    assert ran.count("client_1.prepare") == ran.count("client_1.fit") == 1, ran
    assert ran.count("client_1.score") == 1, ran


def test_preflight_failure_starts_no_job(demo_project: DemoProject) -> None:
    # An in-memory dataset between two jobs: the reading job would never see it
    # (with group_in_memory, the default, its nodes would share one job).
    (demo_project.path / "conf" / "local" / "catalog.yml").write_text(
        "client_1.train_rows:\n  type: MemoryDataset\n"
    )

    result = _run_with_local_batch(
        demo_project,
        check=False,
        env={"KEDRO_BATCH_GROUPING": "none", "KEDRO_BATCH_GROUP_IN_MEMORY": "false"},
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Dataset 'client_1.train_rows' is a MemoryDataset" in output
    assert "group_in_memory: true" in output
    assert not (demo_project.path / "logs" / "local_batch").exists()
    assert read_outputs(demo_project) == {}


def test_dry_run_prints_and_writes_the_plan_and_starts_no_job(
    demo_project: DemoProject, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"

    result = kedro_cli(
        demo_project.path,
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
        env={
            **WIDE,
            "KEDRO_BATCH_DRY_RUN": "true",
            "KEDRO_BATCH_PLAN_FILE": str(plan_file),
        },
        timeout=DEADLINE,
    )

    plan = json.loads(plan_file.read_text())
    assert [job["nodes"] for job in plan["jobs"]] == [
        ["client_1.prepare"],
        ["client_1.profile"],
        ["client_1.fit"],
        ["client_1.score"],
    ]
    assert "kedro-client_1-score" in result.stdout + result.stderr
    assert not (demo_project.path / "logs" / "local_batch").exists()
    assert read_outputs(demo_project) == {}


def test_a_dry_runs_plan_file_goes_under_logs_not_into_the_project_root(
    demo_project: DemoProject,
) -> None:
    before = set(demo_project.path.iterdir())
    run_id = "2026-12-05T09.00.00.000Z"

    kedro_cli(
        demo_project.path,
        "run",
        *pipelines_option("client_1_train"),
        f"--runner={RUNNER}",
        env={
            **WIDE,
            "KEDRO_BATCH_DRY_RUN": "true",
            "KEDRO_PIPELINENAME_RUN_ID": run_id,
        },
        timeout=DEADLINE,
    )

    written = demo_project.path / "logs" / "batch-plans" / f"{run_id}.json"
    assert json.loads(written.read_text())["run_id"] == run_id
    assert set(demo_project.path.iterdir()) - before <= {demo_project.path / "logs"}


@pytest.mark.usefixtures("kill_slow_job")
def test_a_killed_drivers_command_run_again_adopts_what_finished(
    demo_project: DemoProject, plain_run: DemoProject, tmp_path: Path
) -> None:
    nodes_py = demo_project.path / "src" / demo_project.package / "nodes.py"
    fixed_source = nodes_py.read_text()
    nodes_py.write_text(fixed_source + SLOW_PROFILE)
    marker = demo_project.path / "logs" / "slow_job.json"
    run_id = {"KEDRO_PIPELINENAME_RUN_ID": "2026-12-01T12.00.00.000Z", **WIDE}
    with background_driver(
        _driver_argv(), cwd=demo_project.path, log=tmp_path / "driver.log", env=run_id
    ) as driver:
        wait_until(marker.exists, "the slow job to start", driver)
        # What an OOM killer or `kill -9` does: the driver cleans up nothing.
        driver.kill()
        driver.wait(timeout=DEADLINE)
    orphan = json.loads(marker.read_text())["pgid"]
    assert not group_gone(orphan), "the slow job should outlive its driver"
    jobs = (
        demo_project.path / "logs" / "local_batch" / run_id["KEDRO_PIPELINENAME_RUN_ID"]
    )
    slow = "kedro-client_1-profile"
    # The other jobs the first driver started end on their own, driverless.
    for started in jobs.glob("*.json"):
        if started.stem != slow:
            exited = started.with_suffix(".exit")
            wait_until(exited.exists, f"{exited.name} to be written")
    finished = sorted(path.stem for path in jobs.glob("*.exit"))

    nodes_py.write_text(fixed_source)
    result = run_command(
        _driver_argv(), cwd=demo_project.path, env=run_id, timeout=DEADLINE
    )

    output = " ".join((result.stdout + result.stderr).split())
    assert "kedro-client_1-prepare" in finished
    assert slow not in finished
    assert "still running without its driver; killing its process group" in output
    assert group_gone(orphan)
    # What the first driver's jobs finished was adopted, not run again; the
    # killed slow job ran again.
    ran = [record["node"] for record in node_runs(demo_project)]
    for node in ("prepare", "fit", "score"):
        if f"kedro-client_1-{node}" in finished:
            assert ran.count(f"client_1.{node}") == 1, ran
    assert ran.count("client_1.profile") == 2, ran
    assert read_outputs(demo_project) == read_outputs(plain_run)
    assert version_directories(demo_project) == {run_id["KEDRO_PIPELINENAME_RUN_ID"]}
