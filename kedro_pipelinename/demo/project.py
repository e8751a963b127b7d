"""The feature request's scenario as a real Kedro project, written into a directory.

The project (package ``client_models``) has what made re-launched jobs fail:

- ``client_1_train`` and ``client_2_train``: one modular pipeline per client, both
  built by the one factory ``create_pipeline(namespace)`` with
  ``kedro.pipeline.pipeline(..., namespace=...)``; node names are
  ``client_1.prepare``, ``client_1.fit``, ...
- ``evaluation`` (also ``__default__``): per client, a ``prepare`` node that reads
  the hold-out set, and an ``evaluate`` node. Its node names overlap the training
  ones (``client_1.prepare``) with different inputs, so training and evaluation
  cannot be added into one ``__default__`` (Kedro refuses duplicate node names).
- One dataset factory, ``"{namespace}.{name}"``, backed by JSON files under
  ``data/<namespace>/``; ``"{namespace}.model"`` is versioned.

A job re-launched as ``kedro run --nodes client_1.prepare`` (what Kedro's AWS Batch
guide submits) runs against ``__default__``: it runs the *evaluation* node of that
name, which reads ``client_1.holdout`` and writes ``client_1.holdout_rows``, and the
next job, ``--nodes client_1.fit``, is not found at all.

Kedro core ships no file-backed dataset (they live in ``kedro-datasets``), so the
project carries a small ``JSONFileDataset`` (an ``AbstractVersionedDataset``) of its
own: the demo needs nothing beyond Kedro and this package.

A hook appends one JSON line per node run to ``logs/node_runs.jsonl``: the node,
the process id, the run id and the pipeline name the node ran in. It shows that
every job ran in its own process, under one run id, inside the right pipeline.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import kedro
from attrs import define, field, validators

#: The package of the generated project.
PACKAGE = "client_models"

#: The registered pipelines, in the order the demo presents them.
TRAINING_PIPELINES = ("client_1_train", "client_2_train")

#: The clients; each one is a namespace of the training and evaluation pipelines.
CLIENTS = ("client_1", "client_2")

#: Input data per client: tiny, fixed, and chosen so every output is a short JSON.
RAW_DATA: dict[str, dict[str, list[float]]] = {
    "client_1": {
        "raw": [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8],
        "holdout": [9, 7, 9, 3, 2],
    },
    "client_2": {
        "raw": [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5],
        "holdout": [9, 0, 4, 5, 2],
    },
}

#: Relative to the project: one JSON line per node run (see ``hooks.py`` below).
NODE_RUNS_LOG = "logs/node_runs.jsonl"

#: ``pyproject.toml`` of a project written here (also used by the test suite).
PYPROJECT_TEMPLATE = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{package}"
version = "0.1"
dynamic = []

[tool.kedro]
package_name = "{package}"
project_name = "{package}"
kedro_init_version = "{kedro_version}"
source_dir = "src"
"""

_SETTINGS = """\
import kedro_pipelinename  # noqa: F401  (the one line the README asks for)

from {package}.hooks import NodeRunRecorder

HOOKS = (NodeRunRecorder(),)
"""

#: ``src/<package>/__main__.py``: the package CLI ``python -m <package> run``.
MAIN_MODULE = """\
from pathlib import Path

from kedro.framework.cli.utils import find_run_command
from kedro.framework.project import configure_project


def main(*args, **kwargs):
    package_name = Path(__file__).parent.name
    configure_project(package_name)
    run = find_run_command(package_name)
    run(*args, **kwargs)


if __name__ == "__main__":
    main()
"""

#: ``src/<package>/datasets.py``: the package's own ``demo/datasets.py``, verbatim.
_DATASETS = (Path(__file__).parent / "datasets.py").read_text()

_NODES = '''\
"""Node functions: plain Python on lists of numbers, deterministic, rounded."""

from typing import Any

DIGITS = 6


def split_rows(raw: list[float], test_every: int) -> tuple[list[float], list[float]]:
    """Every ``test_every``-th row is a test row, the others train rows."""
    train = [value for index, value in enumerate(raw) if index % test_every]
    test = [value for index, value in enumerate(raw) if not index % test_every]
    return train, test


def profile_rows(raw: list[float]) -> dict[str, Any]:
    """Count, minimum and maximum of the raw rows."""
    return {"count": len(raw), "max": max(raw), "min": min(raw)}


def fit_model(train_rows: list[float], smoothing: float) -> dict[str, float]:
    """A mean shrunk towards zero: ``sum / (n + smoothing)``."""
    mean = sum(train_rows) / (len(train_rows) + smoothing)
    return {"mean": round(mean, DIGITS), "smoothing": smoothing}


def score_model(
    model: dict[str, float], test_rows: list[float], profile: dict[str, Any]
) -> dict[str, Any]:
    """Mean absolute error of the model on the test rows, next to the profile."""
    error = sum(abs(value - model["mean"]) for value in test_rows) / len(test_rows)
    return {"mae": round(error, DIGITS), "rows": profile["count"]}


def clean_rows(holdout: list[float]) -> list[float]:
    """The hold-out rows, sorted."""
    return sorted(holdout)


def evaluate_model(
    model: dict[str, float], holdout_rows: list[float]
) -> dict[str, Any]:
    """Mean absolute error of the model on the hold-out rows."""
    error = sum(abs(value - model["mean"]) for value in holdout_rows)
    return {"holdout_mae": round(error / len(holdout_rows), DIGITS)}
'''

_PIPELINES = '''\
"""The modular pipelines: one factory per stage, instantiated once per client."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    clean_rows,
    evaluate_model,
    fit_model,
    profile_rows,
    score_model,
    split_rows,
)


def create_pipeline(namespace: str) -> Pipeline:
    """The training pipeline of one client, every name prefixed by ``namespace``."""
    template = Pipeline(
        [
            node(
                split_rows,
                ["raw", "params:test_every"],
                ["train_rows", "test_rows"],
                name="prepare",
            ),
            node(profile_rows, "raw", "profile", name="profile"),
            node(fit_model, ["train_rows", "params:smoothing"], "model", name="fit"),
            node(
                score_model, ["model", "test_rows", "profile"], "metrics", name="score"
            ),
        ]
    )
    return pipeline(template, namespace=namespace)


def create_evaluation_pipeline(namespace: str) -> Pipeline:
    """The evaluation of one client's model; its ``prepare`` reads the hold-out set."""
    template = Pipeline(
        [
            node(clean_rows, "holdout", "holdout_rows", name="prepare"),
            node(
                evaluate_model, ["model", "holdout_rows"], "evaluation", name="evaluate"
            ),
        ]
    )
    # The inputs/outputs stay namespaced too: client_1.model is the trained model.
    return pipeline(template, namespace=namespace)
'''

_REGISTRY = '''\
"""Project pipelines."""

from kedro.pipeline import Pipeline

from .pipelines import create_evaluation_pipeline, create_pipeline

CLIENTS = {clients!r}


def register_pipelines() -> dict[str, Pipeline]:
    """One training pipeline per client; evaluation is the default.

    Training and evaluation cannot share ``__default__``: both have a node named
    ``client_1.prepare`` (with different inputs), and Kedro refuses to add them.
    """
    pipelines = {{f"{{client}}_train": create_pipeline(client) for client in CLIENTS}}
    evaluation = sum(
        (create_evaluation_pipeline(client) for client in CLIENTS), Pipeline([])
    )
    pipelines["evaluation"] = evaluation
    pipelines["__default__"] = evaluation
    return pipelines
'''

_HOOKS = '''\
"""Records which process ran each node, under which run id and pipeline name."""

import json
import os
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

NODE_RUNS_LOG = Path({node_runs_log!r})


class NodeRunRecorder:
    """Appends one JSON line per node: node, pid, run_id and pipeline."""

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._pipeline: str | None = None

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any) -> None:
        # Kedro 0.19 calls the run id "session_id", Kedro 1.x "run_id".
        self._run_id = run_params.get("run_id") or run_params.get("session_id")
        # Pipeline.name exists only while kedro_pipelinename is installed.
        self._pipeline = getattr(pipeline, "name", None)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        record = {{
            "node": node.name,
            "pid": os.getpid(),
            "pipeline": self._pipeline,
            "run_id": self._run_id,
        }}
        NODE_RUNS_LOG.parent.mkdir(parents=True, exist_ok=True)
        with NODE_RUNS_LOG.open("a") as log:
            log.write(json.dumps(record, sort_keys=True) + "\\n")
'''

_CATALOG = """\
# One factory for every dataset of every client: data/<namespace>/<name>.json.
"{namespace}.{name}":
  type: client_models.datasets.JSONFileDataset
  filepath: data/{namespace}/{name}.json

# More specific than the pattern above, so it wins for the models: versioned.
"{namespace}.model":
  type: client_models.datasets.JSONFileDataset
  filepath: data/{namespace}/model.json
  versioned: true
"""

_PARAMETERS = """\
# Settings every kedro_pipelinename batch engine reads (local processes,
# AWS Batch, ...): one job per node, two jobs at a time.
batch:
  grouping: none
  max_parallel: 2

# AWS Batch only (--engine aws runs it on the sandbox, docs/sandbox.md): the
# queue and job definition `kedro batch sandbox aws` creates, and polls as
# often as a sandbox on this machine answers (on AWS, keep the defaults).
aws_batch:
  job_queue: client-models
  job_definition: client-models:1
  poll_interval: 0.5
  max_poll_interval: 1

client_1:
  test_every: 3
  smoothing: 1.0
client_2:
  test_every: 4
  smoothing: 2.0
"""


def _is_directory_usable(
    instance: object, attribute: object, value: Path
) -> None:  # attrs validator signature
    if value.exists() and not value.is_dir():
        raise ValueError(
            f"The demo project path {str(value)!r} exists and is not a directory. "
            f"Pass a new or empty directory."
        )


def _check_writable_here(path: Path, package: str) -> None:
    """Refuse to overwrite a directory that holds something else than this demo."""
    if not path.is_dir() or not any(path.iterdir()):
        return
    pyproject = path / "pyproject.toml"
    marker = f'package_name = "{package}"'
    if pyproject.is_file() and marker in pyproject.read_text():
        return  # an earlier demo project: rewritten in place
    raise ValueError(
        f"{str(path)!r} is not empty and holds no demo project (its pyproject.toml "
        f"lacks {marker}); the demo would overwrite its files. Pass a new or empty "
        f"directory, or none for a temp dir."
    )


@define(frozen=True)
class DemoProject:
    """Where the generated demo project lives and what it contains.

    Example:
        >>> project = write_demo_project(Path("/tmp/client-models"))  # doctest: +SKIP
        >>> project.output_files()  # doctest: +SKIP
        []
    """

    path: Path = field(converter=Path, validator=_is_directory_usable)
    package: str = field(default=PACKAGE, validator=validators.instance_of(str))

    @property
    def data_dir(self) -> Path:
        """The directory holding every dataset of the project."""
        return self.path / "data"

    @property
    def node_runs_log(self) -> Path:
        """The JSON-lines file the project's hook appends one record per node to."""
        return self.path / NODE_RUNS_LOG

    def input_files(self) -> list[Path]:
        """The input files the generator wrote, sorted."""
        return sorted(
            self.data_dir / client / f"{name}.json"
            for client, datasets in RAW_DATA.items()
            for name in datasets
        )

    def output_files(self) -> list[Path]:
        """Every dataset file under ``data/`` that a run wrote, sorted."""
        inputs = set(self.input_files())
        if not self.data_dir.is_dir():
            return []
        return sorted(
            path
            for path in self.data_dir.rglob("*.json")
            if path.is_file() and path not in inputs
        )


def _dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write_demo_project(path: Path | str, *, package: str = PACKAGE) -> DemoProject:
    """Write the scenario project into ``path`` and return where its parts are.

    Args:
        path: The project directory: new, empty, or an earlier demo project
            (whose files are rewritten; its outputs stay).
        package: The project's Python package name.

    Returns:
        The written project.

    Raises:
        ValueError: When ``path`` is a file or a non-empty directory that is no
            demo project, or ``package`` is not a Python identifier.

    Example:
        >>> project = write_demo_project(Path("/tmp/client-models"))  # doctest: +SKIP
        >>> project.path / "src" / "client_models" / "pipeline_registry.py"
    """
    if not package.isidentifier():
        raise ValueError(
            f"package={package!r} is not a valid Python package name; use letters, "
            f"digits and underscores, not starting with a digit."
        )
    project = DemoProject(path=Path(path).resolve(), package=package)
    root = project.path
    _check_writable_here(root, package)
    source = root / "src" / package
    source.mkdir(parents=True, exist_ok=True)
    for directory in ("conf/base", "conf/local", "logs"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "conf" / "local" / ".gitkeep").write_text("")
    (root / "pyproject.toml").write_text(
        PYPROJECT_TEMPLATE.format(package=package, kedro_version=kedro.__version__)
    )
    files = {
        "__init__.py": "",
        "__main__.py": MAIN_MODULE,
        "settings.py": _SETTINGS.format(package=package),
        "datasets.py": _DATASETS,
        "nodes.py": _NODES,
        "pipelines.py": _PIPELINES,
        "pipeline_registry.py": _REGISTRY.format(clients=CLIENTS),
        "hooks.py": _HOOKS.format(node_runs_log=NODE_RUNS_LOG),
    }
    for name, text in files.items():
        (source / name).write_text(_dedent(text))
    (root / "conf" / "base" / "catalog.yml").write_text(
        _CATALOG.replace("client_models.", f"{package}.")
    )
    (root / "conf" / "base" / "parameters.yml").write_text(_PARAMETERS)
    for client, datasets in RAW_DATA.items():
        for name, values in datasets.items():
            target = project.data_dir / client / f"{name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values) + "\n")
    return project
