"""What a test project's batch run leaves behind, for the tests to count.

- ``NODE_RUNS_HOOK`` / ``record_node_runs``: a hook in the project appends one
  line per node run (by whichever job ran it) to ``data/node_runs.jsonl``;
  ``node_runs`` counts them, so a test sees a node that ran twice.
- ``HOLD``: a ``hold(name)`` for a project's nodes.py: it says it started
  (``data/<name>_started``), then waits for ``data/release`` (bounded, 120 s).
- ``job_statuses``: every AWS Batch job of moto's queue, by name.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .aws import BatchWorld

NODE_RUNS_HOOK = """
import json
from pathlib import Path

from kedro.framework.hooks import hook_impl


class NodeRuns:
    @hook_impl
    def after_node_run(self, node):
        with Path("data/node_runs.jsonl").open("a") as runs:
            runs.write(json.dumps({"node": node.name}) + "\\n")
"""

HOLD = """

import time as _time
from pathlib import Path as _Path


def hold(name):
    _Path(f"data/{name}_started").write_text("")
    for _ in range(1200):
        if _Path("data/release").exists():
            break
        _time.sleep(0.1)
"""


def record_node_runs(project: Path, package: str = "proj") -> Path:
    """Install ``NODE_RUNS_HOOK`` in ``project``; returns ``project``."""
    source = project / "src" / package
    (source / "hooks.py").write_text(NODE_RUNS_HOOK)
    with (source / "settings.py").open("a") as settings:
        settings.write(
            f"\nfrom {package}.hooks import NodeRuns\n\nHOOKS = (NodeRuns(),)\n"
        )
    return project


def node_runs(project: Path) -> Counter[str]:
    """How many times each node ran (``record_node_runs``)."""
    path = project / "data" / "node_runs.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(json.loads(line)["node"] for line in lines)


def job_statuses(world: BatchWorld) -> dict[str, list[str]]:
    """Job name -> the status of each Batch job of that name, oldest first."""
    statuses: dict[str, list[str]] = {}
    for job in sorted(world.jobs(), key=lambda job: job.get("createdAt", 0)):
        statuses.setdefault(job["jobName"], []).append(job["status"])
    return statuses
