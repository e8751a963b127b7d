"""The batch tests' project ``proj``: two namespaced client pipelines and a report.

Also ``LocalJSON``, the project's JSON dataset importable from the tests' own
process, for catalogs built in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .projects import write_project

PROJECT_DATASETS = '''
import json
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset


class JSONFile(AbstractDataset):
    """JSON on disk: Kedro core ships no file dataset."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> Any:
        return json.loads(self._filepath.read_text())

    def save(self, data: Any) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        self._filepath.write_text(json.dumps(data))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
'''

PROJECT_NODES = """
def prepare(raw):
    return sorted(raw)


def fit(rows, smoothing):
    return {"mean": sum(rows) / (len(rows) + smoothing)}


def report(first, second):
    combined = {"client_1": first, "client_2": second}
    return combined, len(combined)
"""

PROJECT_REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from proj.nodes import fit, prepare, report


def client_pipeline(namespace):
    return pipeline(
        [
            node(prepare, "raw", "rows", name="prepare"),
            node(fit, ["rows", "params:smoothing"], "metrics", name="fit"),
        ],
        namespace=namespace,
        parameters={"smoothing"},
    )


def register_pipelines():
    train = (
        client_pipeline("client_1")
        + client_pipeline("client_2")
        + Pipeline(
            # "summary" is undeclared: an output that stays in the job's memory.
            [node(report, ["client_1.metrics", "client_2.metrics"],
                  ["report", "summary"], name="report")]
        )
    )
    return {"__default__": train, "train": train}
"""

PERSISTED_CATALOG = """
"{namespace}.{name}":
  type: proj.datasets.JSONFile
  filepath: data/{namespace}/{name}.json
report:
  type: proj.datasets.JSONFile
  filepath: data/report.json
"""

#: Only the raw inputs: rows and metrics are undeclared, kept in memory.
MEMORY_CATALOG = """
client_1.raw:
  type: proj.datasets.JSONFile
  filepath: data/client_1/raw.json
client_2.raw:
  type: proj.datasets.JSONFile
  filepath: data/client_2/raw.json
"""

PROJECT_PARAMETERS = """
smoothing: 1.0
aws_batch:
  job_queue: kedro-queue
  job_definition: kedro-project
  max_workers: 4
"""


def write_batch_project(root: Path, *, catalog: str = PERSISTED_CATALOG) -> Path:
    """Two namespaced client pipelines and a report, registered as ``train``."""
    project = write_project(
        root,
        modules={"datasets": PROJECT_DATASETS, "nodes": PROJECT_NODES},
        registry=PROJECT_REGISTRY,
        catalog=catalog,
        parameters=PROJECT_PARAMETERS,
        extra_conf={"batch_env/parameters.yml": "smoothing: 1.0\n"},
    )
    for client, rows in (("client_1", [3, 1, 2]), ("client_2", [5, 4])):
        path = project / "data" / client / "raw.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(rows))
    return project


def persisted_dataset_type() -> str:
    """A ``type:`` for catalog configs: a persisted (non-ephemeral) dataset."""
    return f"{__name__}.LocalJSON"


def _define_local_json() -> type:
    namespace: dict[str, Any] = {}
    exec(PROJECT_DATASETS, namespace)  # the same class the test project uses
    cls: type = namespace["JSONFile"]
    cls.__module__ = __name__
    cls.__qualname__ = cls.__name__ = "LocalJSON"
    return cls


LocalJSON = _define_local_json()
