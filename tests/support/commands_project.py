"""The ``kedro batch`` tests' project and its helpers.

``write_commands_project`` is the batch tests' ``proj`` (two namespaced client
jobs and a report that needs both) with nodes that log every run to
``logs/node_runs.jsonl`` and obey two files: ``data/fail_report`` makes the
report fail, ``data/hold_report`` holds it running (``data/report_waiting``
says it is held) so that a test can cancel a live run.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .batch_project import PERSISTED_CATALOG, PROJECT_DATASETS, PROJECT_REGISTRY
from .cli import kedro_cli, pipelines_flag
from .outputs import read_json_files, read_json_lines
from .projects import write_project

NODES = """
import json
import os
import time
from pathlib import Path


def _ran(node, detail):
    log = Path("logs/node_runs.jsonl")
    log.parent.mkdir(exist_ok=True)
    with log.open("a") as handle:
        handle.write(json.dumps({"node": node, "detail": detail, "pid": os.getpid()}))
        handle.write("\\n")


def prepare(raw):
    _ran("prepare", raw)
    return sorted(raw)


def fit(rows, smoothing):
    _ran("fit", rows)
    return {"mean": sum(rows) / (len(rows) + smoothing)}


def report(first, second):
    _ran("report", None)
    if Path("data/fail_report").exists():
        raise RuntimeError("report was told to fail")
    for _ in range(1200):  # bounded: 120 s
        if not Path("data/hold_report").exists():
            break
        Path("data/report_waiting").touch()
        time.sleep(0.1)
    combined = {"client_1": first, "client_2": second}
    return combined, len(combined)
"""

PARAMETERS = """
smoothing: 1.0
aws_batch:
  job_queue: kedro-queue
  job_definition: kedro-project
"""

#: What the run of ``run_arguments()`` writes (smoothing 3.0 from --params).
EXPECTED_OUTPUTS: dict[str, Any] = {
    "client_1/raw.json": [3, 1, 2],
    "client_1/rows.json": [1, 2, 3],
    "client_1/metrics.json": {"mean": 1.0},
    "client_2/raw.json": [5, 4],
    "client_2/rows.json": [4, 5],
    "client_2/metrics.json": {"mean": 1.8},
    "report.json": {"client_1": {"mean": 1.0}, "client_2": {"mean": 1.8}},
}

LOCAL_RUNNER = "kedro_pipelinename.batch.LocalBatchRunner"
AWS_RUNNER = "kedro_pipelinename.batch.AWSBatchRunner"


def write_commands_project(root: Path) -> Path:
    """The project (see the module doc), with its raw inputs."""
    project = write_project(
        root,
        modules={"datasets": PROJECT_DATASETS, "nodes": NODES},
        registry=PROJECT_REGISTRY,
        catalog=PERSISTED_CATALOG,
        parameters=PARAMETERS,
    )
    for client, rows in (("client_1", [3, 1, 2]), ("client_2", [5, 4])):
        path = project / "data" / client / "raw.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows))
    return project


def run_arguments(runner: str) -> list[str]:
    """``kedro run`` of the ``train`` pipeline with ``--params`` and ``runner``."""
    return [
        "run",
        f"{pipelines_flag()}=train",
        "--params=smoothing=3.0",
        f"--runner={runner}",
    ]


def outputs(project: Path) -> dict[str, Any]:
    """Every JSON file under the project's ``data/``."""
    data = project / "data"
    return read_json_files(sorted(data.rglob("*.json")), data)


def node_runs(project: Path) -> list[tuple[str, Any]]:
    """(node, what it got) for every node run, sorted."""
    runs = read_json_lines(project / "logs" / "node_runs.jsonl")
    return sorted((run["node"], run["detail"]) for run in runs)


#: Each node once: what an uninterrupted run of the project runs.
ONE_RUN_OF_EACH_NODE = [
    ("fit", [1, 2, 3]),
    ("fit", [4, 5]),
    ("prepare", [3, 1, 2]),
    ("prepare", [5, 4]),
    ("report", None),
]


def batch(
    project: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``kedro batch ARGS`` in ``project``."""
    return kedro_cli(project, "batch", *args, env=env, check=check)


def json_of(stdout: str) -> Any:
    """The JSON document a ``--json`` command printed.

    Kedro logs which logging configuration it uses before any command runs, on
    stdout when it is no terminal: the document starts at a line that is just
    ``[`` or ``{``.
    """
    lines = stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line in ("[", "{"))
    return json.loads("\n".join(lines[start:]))


def run_ids(project: Path) -> list[str]:
    """The run ids recorded in the project."""
    return sorted(
        path.parent.name for path in (project / "logs" / "batch").glob("*/run.json")
    )


def record(project: Path, run_id: str) -> dict[str, Any]:
    """The run record, as JSON."""
    data: dict[str, Any] = json.loads(
        (project / "logs" / "batch" / run_id / "run.json").read_text()
    )
    return data
