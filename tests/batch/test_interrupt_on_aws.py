"""Ctrl-C to a real ``kedro run --runner ...AWSBatchRunner`` against moto's
server, with jobs that really run (``MotoCompute``: each Batch job's container
command is a local ``kedro run --nodes ...`` in the project, waiting for its
``dependsOn`` parents as Batch does).

- One Ctrl-C: every unfinished job is terminated and the run's own command is
  printed (its ``--params``, ``--runner-params``, ``KEDRO_BATCH_*`` variables
  and run id); running it adopts what succeeded and ends with the outputs of an
  uninterrupted run.
- Ctrl-C again while 33 jobs are being terminated (moto's TerminateJob slowed
  down, so that cleanup takes many calls): the cleanup goes on and says so; no
  job of the run is left SUBMITTED to RUNNING.
"""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.aws import BatchWorld
from tests.support.background import background_driver, printed_resume_command
from tests.support.batch_project import PROJECT_DATASETS, write_batch_project
from tests.support.cli import kedro_cli, pipelines_flag, run_command, run_options
from tests.support.moto_compute import MotoCompute
from tests.support.projects import write_project
from tests.support.recorded import HOLD, job_statuses, node_runs, record_node_runs
from tests.support.waiting import DEADLINE, poll_until, wait_until

pytestmark = pytest.mark.slow

RUNNER = "--runner=kedro_pipelinename.batch.AWSBatchRunner"

#: What the train run writes (``summary`` stays in the report job's memory).
OUTPUTS = ("report.json", "client_1/metrics.json", "client_2/metrics.json")

#: Rich wraps log lines at COLUMNS; the resume command is long.
WIDE = {"COLUMNS": "1000"}

#: Unfinished statuses: after the driver's cleanup no job may be in one.
UNFINISHED = {"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"}

#: ``report`` holds until released.
HELD_REPORT = (
    HOLD
    + """

_report = report


def report(first, second):
    hold("report")
    return _report(first, second)
"""
)


def _batch_env(endpoint: str) -> dict[str, str]:
    return {
        "KEDRO_BATCH_ENDPOINT_URL": endpoint,
        # The jobs' `kedro` is this interpreter's (PATH may have another).
        "KEDRO_BATCH_EXECUTABLE": str(Path(sys.executable).parent / "kedro"),
        "KEDRO_BATCH_LOOKUP_DELAY": "0.2",
    }


#: The run's own flags: a param, and the polling as runner arguments where
#: `kedro run` takes them (1.6+), as variables before.
if "runner_params" in run_options():
    OWN_FLAGS = [
        "--params=smoothing=2.0",
        RUNNER,
        "--runner-params=poll_interval=0.1,max_poll_interval=0.3",
    ]
    POLLING: dict[str, str] = {}
else:
    OWN_FLAGS = ["--params=smoothing=2.0", RUNNER]
    POLLING = {
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.3",
    }


def test_ctrl_c_terminates_the_jobs_and_the_printed_command_finishes_the_run(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = record_node_runs(write_batch_project(tmp_path / "proj"))
    nodes = project / "src" / "proj" / "nodes.py"
    nodes.write_text(nodes.read_text() + HELD_REPORT)
    plain = record_node_runs(write_batch_project(tmp_path / "plain"))
    kedro_cli(plain, "run", f"{pipelines_flag()}=train", OWN_FLAGS[0])
    argv = [sys.executable, "-m", "kedro", "run", f"{pipelines_flag()}=train"]
    env = {**_batch_env(batch_world.endpoint), **POLLING}
    log = tmp_path / "driver.log"

    with MotoCompute(project).running():
        with background_driver(
            [*argv, *OWN_FLAGS], cwd=project, log=log, env={**env, **WIDE}
        ) as driver:
            started = project / "data" / "report_started"
            wait_until(started.exists, "the report job started", driver)
            driver.send_signal(signal.SIGINT)
            driver.wait(timeout=DEADLINE)
        output = log.read_text()
        assert driver.returncode != 0, output[-3000:]
        assert job_statuses(batch_world) == {
            "kedro-client_1-and-1-more": ["SUCCEEDED"],
            "kedro-report": ["FAILED"],
        }
        resume_argv, resume_env = printed_resume_command(output)
        # The run's own command, whole, with its variables and run id.
        assert resume_argv == [*argv, *OWN_FLAGS], output[-3000:]
        assert {
            name: value
            for name, value in resume_env.items()
            if name != "KEDRO_PIPELINENAME_RUN_ID"
        } == env

        (project / "data" / "release").write_text("")
        run_command(resume_argv, cwd=project, env=resume_env, timeout=DEADLINE)

    assert job_statuses(batch_world) == {
        "kedro-client_1-and-1-more": ["SUCCEEDED"],
        "kedro-report": ["FAILED", "SUCCEEDED"],
    }
    # What succeeded was adopted, not run again.
    assert node_runs(project) == {
        "client_1.prepare": 1,
        "client_1.fit": 1,
        "client_2.prepare": 1,
        "client_2.fit": 1,
        "report": 1,
    }
    for output_file in OUTPUTS:
        assert (project / "data" / output_file).read_text() == (
            plain / "data" / output_file
        ).read_text()


# --- Ctrl-C twice -----------------------------------------------------------------

#: A root job that holds and 32 jobs waiting on it: 33 jobs to terminate.
FANOUT_REGISTRY = """
from kedro.pipeline import Pipeline, node

from proj.nodes import child, root


def register_pipelines():
    nodes = [node(root, "raw", "held", name="root")] + [
        node(child, "held", f"out_{number}", name=f"child_{number}")
        for number in range(32)
    ]
    fanout = Pipeline(nodes)
    return {"__default__": fanout, "fanout": fanout}
"""

FANOUT_NODES = (
    HOLD
    + """

def root(raw):
    hold("root")
    return raw


def child(held):
    return held
"""
)

FANOUT_CATALOG = """
"{name}":
  type: proj.datasets.JSONFile
  filepath: data/{name}.json
"""

FANOUT_PARAMETERS = """
aws_batch:
  job_queue: kedro-queue
  job_definition: kedro-project
"""

#: Seconds each of moto's TerminateJob takes here: 33 of them are ~8 s of
#: cleanup, in which the test presses Ctrl-C again.
SLOW_TERMINATE = 0.25


@pytest.fixture
def slow_terminate() -> Iterator[None]:
    """moto's TerminateJob (its server runs in this process) takes a while."""
    from moto.batch.models import BatchBackend

    original = BatchBackend.terminate_job

    def terminate_job(self: Any, job_id: str, reason: str) -> None:
        time.sleep(SLOW_TERMINATE)
        original(self, job_id, reason)

    BatchBackend.terminate_job = terminate_job  # type: ignore[method-assign]
    try:
        yield
    finally:
        BatchBackend.terminate_job = original  # type: ignore[method-assign]


@pytest.mark.usefixtures("slow_terminate")
def test_ctrl_c_again_during_cleanup_leaves_no_job_of_the_run_unfinished(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "proj",
        modules={"datasets": PROJECT_DATASETS, "nodes": FANOUT_NODES},
        registry=FANOUT_REGISTRY,
        catalog=FANOUT_CATALOG,
        parameters=FANOUT_PARAMETERS,
    )
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "raw.json").write_text("[1, 2, 3]")
    argv = [sys.executable, "-m", "kedro", "run", f"{pipelines_flag()}=fanout", RUNNER]
    env = {
        **_batch_env(batch_world.endpoint),
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.3",
    }
    log = tmp_path / "driver.log"

    with MotoCompute(project).running():
        with background_driver(
            argv, cwd=project, log=log, env={**env, **WIDE}
        ) as driver:
            started = project / "data" / "root_started"
            wait_until(started.exists, "the root job started", driver)
            wait_until(
                lambda: len(batch_world.jobs()) == 33, "33 jobs submitted", driver
            )
            driver.send_signal(signal.SIGINT)
            wait_until(
                lambda: "Cancelling 33 unfinished job(s)" in log.read_text(),
                "the cleanup started",
                driver,
            )
            driver.send_signal(signal.SIGINT)
            driver.wait(timeout=DEADLINE)
        output = " ".join(log.read_text().split())
        # TerminateJob is asynchronous: the compute stops each job at its next
        # tick (bounded: 5 s).
        poll_until(
            lambda: not UNFINISHED & {job["status"] for job in batch_world.jobs()},
            timeout=5,
        )
        statuses = Counter(job["status"] for job in batch_world.jobs())

    assert driver.returncode != 0, output[-3000:]
    assert "press Ctrl-C again to force exit and leave them" in output, output[-3000:]
    assert statuses == {"FAILED": 33}, output[-3000:]
    assert printed_resume_command(log.read_text())[0] == argv
