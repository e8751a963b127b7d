"""The demo's scenario project (``kedro_pipelinename.demo``): what it writes."""

from __future__ import annotations

from typing import Any

from kedro_pipelinename.demo.project import DemoProject

from .outputs import read_json_files, read_json_lines, version_names

#: What ``kedro run --pipelines client_1_train`` writes (see the project's nodes.py).
CLIENT_1_TRAIN_OUTPUTS: dict[str, Any] = {
    "client_1/train_rows.json": [1, 4, 5, 9, 6, 5, 5, 8],
    "client_1/test_rows.json": [3, 1, 2, 3],
    "client_1/profile.json": {"count": 12, "max": 9, "min": 1},
    "client_1/model.json/<version>/model.json": {"mean": 4.777778, "smoothing": 1.0},
    "client_1/metrics.json": {"mae": 2.527778, "rows": 12},
}


def read_outputs(project: DemoProject) -> dict[str, Any]:
    """Every output dataset of ``project``: relative path -> parsed JSON.

    The version directory of a versioned dataset is shown as ``<version>``, so two
    runs with different run ids compare equal when they wrote the same data.
    """
    return read_json_files(project.output_files(), project.data_dir)


def version_directories(project: DemoProject) -> set[str]:
    """The names of every version directory under the project's ``data/``."""
    return version_names(project.output_files(), project.data_dir)


def node_runs(project: DemoProject) -> list[dict[str, Any]]:
    """The records the project's hook wrote: one per node run."""
    return read_json_lines(project.node_runs_log)


#: Appended to the scenario project's nodes.py, this replaces ``profile_rows``:
#: it records its pid and process group in logs/slow_job.json, then sleeps far
#: beyond any test.
SLOW_PROFILE = """

def profile_rows(raw):
    import json, os, time
    from pathlib import Path

    Path("logs/slow_job.json").write_text(
        json.dumps({"pid": os.getpid(), "pgid": os.getpgid(0)})
    )
    time.sleep(600)
"""
