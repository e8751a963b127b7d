"""A real MLflow tracking server on 127.0.0.1 (SQLite backend), and a real
Kedro project whose nodes log to MLflow.

The server is ``mlflow server`` in its own process group, on a free port,
stopped by its pid at the end; every wait is bounded (``support.waiting``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.batch_project import PROJECT_DATASETS
from tests.support.projects import write_project
from tests.support.waiting import poll_until

#: Seconds ``mlflow server`` may take to answer /health on a loaded 2-core box.
SERVER_START_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def mlflow_server(root: Path) -> Iterator[str]:
    """The URL of an ``mlflow server`` storing under ``root``; stopped on exit."""
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--default-artifact-root",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # Its own group: the workers it forks are stopped with it, by its pid.
        start_new_session=True,
    )
    try:
        started = poll_until(
            lambda: _healthy(url) or server.poll() is not None,
            timeout=SERVER_START_TIMEOUT,
            interval=0.2,
        )
        if not started or server.poll() is not None:
            raise AssertionError(
                f"mlflow server did not start:\n{(root / 'server.log').read_text()}"
            )
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()


# --- the project ------------------------------------------------------------------

#: Each client's ``train`` logs its params (again: kedro-mlflow logs them too,
#: with the same value) and a metric; ``data/fail_once_<client>`` makes it fail
#: once, ``data/hold_<client>`` holds it (after writing ``data/started_<client>``).
NODES = """
import time
from pathlib import Path

import mlflow


def train(raw, alpha, label):
    if Path(f"data/hold_{label}").exists():
        Path(f"data/started_{label}").write_text("")
        for _ in range(1200):  # held at most 120 s, until the test stops the run
            time.sleep(0.1)
    flag = Path(f"data/fail_once_{label}")
    if flag.exists():
        flag.unlink()
        raise RuntimeError(f"{label} fails this once")
    mlflow.log_param(f"{label}.alpha", alpha)
    score = alpha * sum(raw)
    mlflow.log_metric(f"{label}.score", score)
    return {"score": score}


def report(first, second, third, title):
    total = first["score"] + second["score"] + third["score"]
    mlflow.log_param("report_title", title)
    mlflow.log_metric("report.total", total)
    return {"title": title, "total": total}
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from proj.nodes import report, train

CLIENTS = ("client_1", "client_2", "client_3")


def client_pipeline(namespace):
    return pipeline(
        [node(train, ["raw", "params:alpha", "params:label"], "model", name="train")],
        namespace=namespace,
    )


def register_pipelines():
    train = sum((client_pipeline(client) for client in CLIENTS), Pipeline([]))
    train += Pipeline([
        node(
            report,
            [f"{client}.model" for client in CLIENTS] + ["params:report_title"],
            "report",
            name="report",
        )
    ])
    return {"__default__": train, "train": train}
"""

CATALOG = """
"{namespace}.raw":
  type: proj.datasets.JSONFile
  filepath: data/{namespace}/raw.json
"{namespace}.model":
  type: proj.datasets.JSONFile
  filepath: data/{namespace}/model.json
report:
  type: proj.datasets.JSONFile
  filepath: data/report.json
"""

PARAMETERS = """
client_1: {alpha: 0.5, label: client_1}
client_2: {alpha: 1.5, label: client_2}
client_3: {alpha: 2.5, label: client_3}
report_title: three clients
"""

#: The four jobs (namespace grouping) and the nodes' params and metrics.
JOBS = ("kedro-client_1", "kedro-client_2", "kedro-client_3", "kedro-report")
PARAMS = {
    "client_1.alpha": "0.5",
    "client_2.alpha": "1.5",
    "client_3.alpha": "2.5",
    "report_title": "three clients",
}
METRICS = {
    "client_1.score": 0.5 * 6,
    "client_2.score": 1.5 * 9,
    "client_3.score": 2.5 * 12,
    "report.total": 0.5 * 6 + 1.5 * 9 + 2.5 * 12,
}


def write_tracking_project(
    root: Path,
    *,
    tracking_uri: str,
    experiment: str,
    kedro_mlflow: bool = True,
    parameters: str = "",
) -> Path:
    """The project: three client jobs and a report, logging to MLflow.

    With ``kedro_mlflow``, its ``mlflow.yml`` names the server and the
    experiment; without, kedro-mlflow's hook is disabled (plain MLflow: the
    environment names them, ``mlflow_env``).
    """
    settings = (
        ""
        if kedro_mlflow
        else 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow", "kedro_mlflow")\n'
    )
    extra_conf = {}
    if kedro_mlflow:
        extra_conf["base/mlflow.yml"] = (
            f"server:\n  mlflow_tracking_uri: {tracking_uri}\n"
            f"tracking:\n  experiment:\n    name: {experiment}\n"
        )
    project = write_project(
        root,
        modules={"datasets": PROJECT_DATASETS, "nodes": NODES},
        registry=REGISTRY,
        catalog=CATALOG,
        parameters=PARAMETERS + parameters,
        settings=settings,
        extra_conf=extra_conf,
    )
    for client, rows in (
        ("client_1", [1, 2, 3]),
        ("client_2", [4, 5]),
        ("client_3", [12]),
    ):
        path = project / "data" / client / "raw.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(rows))
    return project


def experiment_runs(tracking_uri: str, experiment: str) -> list[Any]:
    """Every run of ``experiment`` on the server (deleted ones left out)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return list(client.search_runs([found.experiment_id]))


def assert_finished_with_every_node(run: Any) -> None:
    """``run`` ended ``FINISHED`` holding every node's params and metrics."""
    held = (
        run.info.status,
        {key: run.data.params.get(key) for key in PARAMS},
        {key: run.data.metrics.get(key) for key in METRICS},
    )
    assert held == ("FINISHED", PARAMS, METRICS), held
