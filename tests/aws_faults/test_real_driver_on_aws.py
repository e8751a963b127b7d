"""A real ``kedro run --runner ...AWSBatchRunner`` against moto's server, jobs
really running (``MotoCompute``: each Batch job's container command is a local
``kedro run --nodes ...`` in the project), and real signals to the driver.

- SIGKILL of the driver, then the same command with the same run id: the new
  driver adopts the run's jobs (the succeeded ones as done, the running one
  tracked on), submits nothing twice, and the outputs equal a plain run's.
- Ctrl-C while a SubmitJob is in flight (moto created the job, the answer has
  not come back, ListJobs lags): the job is found and terminated.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.aws import BatchWorld
from tests.support.background import background_driver
from tests.support.batch_project import write_batch_project
from tests.support.cli import kedro_cli, pipelines_flag
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.moto_compute import MotoCompute
from tests.support.waiting import DEADLINE, wait_until

pytestmark = pytest.mark.slow

RUNNER = "--runner=kedro_pipelinename.batch.AWSBatchRunner"
RUN_ID = "2026-12-02T09.00.00.000Z"
#: What the run writes (``summary`` stays in the report job's memory).
OUTPUTS = ("report.json", "client_1/metrics.json", "client_2/metrics.json")

#: ``report`` waits for ``data/release`` (bounded), after saying it started.
HELD_REPORT = """

import time as _time
from pathlib import Path as _Path

_report = report


def report(first, second):
    _Path("data/report_started").write_text("")
    for _ in range(1200):  # at most 120 s
        if _Path("data/release").exists():
            break
        _time.sleep(0.1)
    return _report(first, second)
"""

#: Every node run, one line each, appended by the job that ran it.
NODE_RUNS_HOOK = """
import json
import os
from pathlib import Path

from kedro.framework.hooks import hook_impl


class NodeRuns:
    @hook_impl
    def after_node_run(self, node):
        with Path("data/node_runs.jsonl").open("a") as runs:
            runs.write(json.dumps({"node": node.name, "pid": os.getpid()}) + "\\n")
"""


def _project(root: Path) -> Path:
    project = write_batch_project(root)
    package = project / "src" / "proj"
    (package / "hooks.py").write_text(NODE_RUNS_HOOK)
    with (package / "settings.py").open("a") as settings:
        settings.write("\nfrom proj.hooks import NodeRuns\n\nHOOKS = (NodeRuns(),)\n")
    return project


def _argv() -> list[str]:
    return [
        sys.executable,
        "-m",
        "kedro",
        "run",
        f"{pipelines_flag()}=train",
        "--env=batch_env",
        "--params=smoothing=2.0",
        RUNNER,
    ]


def _env(endpoint: str, **extra: str) -> dict[str, str]:
    return {
        "KEDRO_PIPELINENAME_RUN_ID": RUN_ID,
        "KEDRO_BATCH_ENDPOINT_URL": endpoint,
        # The jobs' `kedro` is this interpreter's (PATH may have another).
        "KEDRO_BATCH_EXECUTABLE": str(Path(sys.executable).parent / "kedro"),
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.3",
        "KEDRO_BATCH_LOOKUP_DELAY": "0.2",
        **extra,
    }


def _driver(
    project: Path, log: Path, env: dict[str, str]
) -> contextlib.AbstractContextManager[subprocess.Popen[str]]:
    return background_driver(_argv(), cwd=project, log=log, env=env)


def _statuses(world: BatchWorld) -> dict[str, list[str]]:
    statuses: dict[str, list[str]] = {}
    for job in world.jobs():
        statuses.setdefault(job["jobName"], []).append(job["status"])
    return statuses


def _node_runs(project: Path) -> Counter[str]:
    path = project / "data" / "node_runs.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(json.loads(line)["node"] for line in lines)


def test_a_killed_drivers_command_run_again_adopts_the_runs_jobs(
    batch_world: BatchWorld, tmp_path: Path
) -> None:
    project = _project(tmp_path / "proj")
    nodes = project / "src" / "proj" / "nodes.py"
    nodes.write_text(nodes.read_text() + HELD_REPORT)
    plain = _project(tmp_path / "plain")
    kedro_cli(plain, *_argv()[3:-1])  # the same run, uninterrupted, no batch
    env = _env(batch_world.endpoint)
    started = project / "data" / "report_started"

    with MotoCompute(project).running():
        with _driver(project, tmp_path / "first.log", env) as first:
            wait_until(started.exists, "the report job started", first)
            # What an OOM killer or `kill -9` does: the driver cleans up nothing.
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=DEADLINE)
        assert _statuses(batch_world) == {
            "kedro-client_1-and-1-more": ["SUCCEEDED"],
            "kedro-report": ["RUNNING"],
        }
        log = tmp_path / "second.log"
        with _driver(project, log, env) as second:
            wait_until(lambda: "adopted 3" in log.read_text(), "the adoption", second)
            (project / "data" / "release").write_text("")
            second.wait(timeout=DEADLINE)
        output = log.read_text()

    assert second.returncode == 0, output[-3000:]
    # Exactly one Batch job per planned job (the clients: one array job, its
    # two children adopted, none submitted again); every node ran once.
    assert _statuses(batch_world) == {
        "kedro-client_1-and-1-more": ["SUCCEEDED"],
        "kedro-report": ["SUCCEEDED"],
    }
    assert _node_runs(project) == {
        "client_1.prepare": 1,
        "client_1.fit": 1,
        "client_2.prepare": 1,
        "client_2.fit": 1,
        "report": 1,
    }
    for output_file in (
        "report.json",
        "client_1/metrics.json",
        "client_2/metrics.json",
    ):
        assert (project / "data" / output_file).read_text() == (
            plain / "data" / output_file
        ).read_text()


@pytest.mark.parametrize(
    ("concurrency", "arrays"),
    [("1", "false"), ("16", "false"), ("16", "true")],
    ids=["serial", "concurrent", "array"],
)
def test_ctrl_c_while_a_submit_is_in_flight_terminates_the_job_it_created(
    batch_world: BatchWorld,
    proxy: FaultProxy,
    tmp_path: Path,
    concurrency: str,
    arrays: str,
) -> None:
    project = _project(tmp_path / "proj")
    # The first SubmitJob reaches moto (the job exists) and its answer is held;
    # ListJobs does not show the job to the next two looks.
    proxy.add(
        Fault.hang("SubmitJob", DEADLINE),
        Fault.replace("ListJobs", b'{"jobSummaryList": []}', times=2),
    )
    log = tmp_path / "driver.log"
    env = _env(
        proxy.url,
        KEDRO_BATCH_SUBMIT_CONCURRENCY=concurrency,
        KEDRO_BATCH_ARRAYS=arrays,
    )

    with MotoCompute(project, capacity=False).running():
        with _driver(project, log, env) as driver:
            wait_until(
                lambda: proxy.count("SubmitJob", f"held {DEADLINE:g} s") == 1,
                "the SubmitJob in flight",
                driver,
            )
            os.killpg(driver.pid, signal.SIGINT)
            driver.wait(timeout=DEADLINE)
        jobs = batch_world.jobs()

    output = log.read_text()
    assert driver.returncode != 0, output[-3000:]
    # Serial: the held job was the only one, terminated by the submit that
    # Ctrl-C interrupted. Concurrent: the other jobs that were ready went out
    # beside it and were cancelled by the driver; the held one (whose submit
    # never returned) was found and terminated by the engine's cancel. Array:
    # the clients' one array job was held, and terminated as the serial job.
    stopped = {
        job["jobName"]: (
            job["status"],
            "the Kedro driver stopped" in job["statusReason"],
        )
        for job in jobs
    }
    first = "kedro-client_1-and-1-more" if arrays == "true" else "kedro-client_1"
    assert first in stopped, output[-3000:]
    assert set(stopped.values()) == {("FAILED", True)}, output[-3000:]
    if concurrency == "1" or arrays == "true":
        (reason,) = [job["statusReason"] for job in jobs]
        assert "stopped while submitting" in reason
