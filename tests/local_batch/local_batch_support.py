"""Helpers for the local batch tests: CLI options, outputs and node records."""

from __future__ import annotations

import json
import re
from typing import Any

from kedro_pipelinename.demo.project import DemoProject
from projects import read_json_lines

#: What ``kedro run --pipelines client_1_train`` writes (see the project's nodes.py).
CLIENT_1_TRAIN_OUTPUTS: dict[str, Any] = {
    "client_1/train_rows.json": [1, 4, 5, 9, 6, 5, 5, 8],
    "client_1/test_rows.json": [3, 1, 2, 3],
    "client_1/profile.json": {"count": 12, "max": 9, "min": 1},
    "client_1/model.json/<version>/model.json": {"mean": 4.777778, "smoothing": 1.0},
    "client_1/metrics.json": {"mae": 2.527778, "rows": 12},
}

#: A Kedro version string (the save version of a versioned dataset).
_VERSION_DIRECTORY = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")


def pipelines_option(name: str) -> list[str]:
    """``--pipelines NAME`` where ``kedro run`` has it, else ``--pipeline NAME``.

    Kedro 1.2 added ``--pipelines``; 0.19.15 to 1.1 only know ``--pipeline``. Found by
    asking the installed CLI, never by comparing versions.
    """
    from kedro.framework.cli.project import run

    options = {option for parameter in run.params for option in parameter.opts}
    return ["--pipelines", name] if "--pipelines" in options else ["--pipeline", name]


def read_outputs(project: DemoProject) -> dict[str, Any]:
    """Every output dataset of ``project``: relative path -> parsed JSON.

    The version directory of a versioned dataset is shown as ``<version>``, so two
    runs with different run ids compare equal when they wrote the same data.
    """
    outputs: dict[str, Any] = {}
    for path in project.output_files():
        parts = [
            "<version>" if _VERSION_DIRECTORY.match(part) else part
            for part in path.relative_to(project.data_dir).parts
        ]
        outputs["/".join(parts)] = json.loads(path.read_text())
    return outputs


def version_directories(project: DemoProject) -> set[str]:
    """The names of every version directory under the project's ``data/``."""
    return {
        part
        for path in project.output_files()
        for part in path.relative_to(project.data_dir).parts
        if _VERSION_DIRECTORY.match(part)
    }


def node_runs(project: DemoProject) -> list[dict[str, Any]]:
    """The records the project's hook wrote: one per node run."""
    return read_json_lines(project.node_runs_log)
