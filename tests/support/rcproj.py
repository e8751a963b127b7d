"""The run-context tests' project, and helpers to run it and read what it did.

The project (package ``rcproj``) has three registered pipelines whose sum is
``__default__``: ``prep`` (``clean``), ``train`` (``fit``, ``score``) and ``report``
(``rep.summarise``, a namespaced node). ``cleaned``, ``model`` and ``metrics`` are
versioned JSON files. Node outputs record the runtime params they saw and their
types, so a lost or retyped ``--params`` value changes the outputs.

Its settings register a hook that appends, for every node, the process, thread and
``current_run()`` to ``logs/node_runs.jsonl``; ``rcproj.runner.JobRunner`` is a
driver runner that re-launches every node as its own ``kedro run`` subprocess with
``build_run_command`` / ``build_run_env``, as a batch runner does.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro_pipelinename.demo import datasets as demo_datasets

from .cli import kedro_cli
from .outputs import read_json_files, read_json_lines
from .projects import write_project

#: The runtime params the end-to-end tests pass: a nested float, and a string
#: that YAML would read as a number unless the command quotes it.
RUNTIME_PARAMS = {"model": {"alpha": 0.5, "label": "7"}}
PARAMS_OPTION = "--params=model.alpha=0.5,model.label='7'"

#: The demo's JSON dataset (versioned like kedro-datasets' ones), verbatim.
DATASETS = Path(demo_datasets.__file__).read_text()

NODES = """
import os


def _maybe_fail(name):
    if os.environ.get("RC_FAIL_NODE") == name:
        raise RuntimeError(f"{name} failed on purpose (RC_FAIL_NODE)")


def clean(raw, scale):
    _maybe_fail("clean")
    return [value * scale for value in raw]


def fit(cleaned, model):
    _maybe_fail("fit")
    return {
        "mean": round(sum(cleaned) / len(cleaned) * model["alpha"], 6),
        "alpha_type": type(model["alpha"]).__name__,
        "label": model["label"],
        "label_type": type(model["label"]).__name__,
        "attempt": os.environ.get("RC_ATTEMPT", "1"),
    }


def score(model, cleaned):
    _maybe_fail("score")
    error = sum(abs(value - model["mean"]) for value in cleaned) / len(cleaned)
    return {"error": round(error, 6), "model_label": model["label"]}


def summarise(metrics, title):
    _maybe_fail("summarise")
    return {"title": title, "error": metrics["error"]}
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node


def register_pipelines():
    from .nodes import clean, fit, score, summarise

    prep = Pipeline([node(clean, ["raw", "params:scale"], "cleaned", name="clean")])
    train = Pipeline(
        [
            node(fit, ["cleaned", "params:model"], "model", name="fit"),
            node(score, ["model", "cleaned"], "metrics", name="score"),
        ]
    )
    report = Pipeline(
        [
            node(
                summarise,
                ["metrics", "params:title"],
                "summary",
                name="summarise",
                namespace="rep",
            )
        ]
    )
    return {
        "prep": prep,
        "train": train,
        "report": report,
        "__default__": prep + train + report,
    }
"""

HOOKS = """
import json
import os
import threading
from pathlib import Path

from kedro.framework.hooks import hook_impl

from kedro_pipelinename import current_run

LOG = Path("logs/node_runs.jsonl")


def describe(context):
    if context is None:
        return None
    return {
        "pipeline_names": list(context.pipeline_names),
        "env": context.env,
        "conf_source": context.conf_source,
        "runtime_params": context.runtime_params.to_dict(),
        "node_names": list(context.node_names),
        "namespaces": list(context.namespaces),
        "from_nodes": list(context.from_nodes),
        "run_id": context.run_id,
    }


class RunRecorder:
    @hook_impl
    def before_node_run(self, node):
        LOG.parent.mkdir(exist_ok=True)
        record = {
            "node": node.name,
            "pid": os.getpid(),
            "thread": threading.current_thread().name,
            "main_thread": threading.current_thread() is threading.main_thread(),
            "context": describe(current_run()),
        }
        with LOG.open("a") as log:
            log.write(json.dumps(record, sort_keys=True) + "\\n")
        if os.environ.get("RC_NESTED_AT") == node.name:
            # A session inside a node: its nodes must see the inner run, and the
            # outer run's later nodes the outer one again.
            del os.environ["RC_NESTED_AT"]
            from kedro.framework.session import KedroSession

            params = {runtime_params_argument(): {"scale": 9}}
            with KedroSession.create(**params) as inner:
                inner.run(pipeline_name="prep")


def runtime_params_argument():
    # runtime_params (Kedro 1.0+) or extra_params (0.19)
    import inspect

    from kedro.framework.session import KedroSession

    parameters = inspect.signature(KedroSession.create).parameters
    return "runtime_params" if "runtime_params" in parameters else "extra_params"
"""

RUNNER = """
import json
import os
import subprocess
import sys
from pathlib import Path

from kedro.runner import AbstractRunner

from kedro_pipelinename import build_run_command, build_run_env

COMMANDS = Path("logs/commands.jsonl")


class JobRunner(AbstractRunner):
    \"\"\"Runs every node as its own ``kedro run`` process, in topological order.\"\"\"

    def _get_executor(self, max_workers):
        return None

    def _run(self, pipeline, catalog, *args, **kwargs):
        environment = {**os.environ, **build_run_env()}
        for node in pipeline.nodes:  # topologically sorted
            argv = build_run_command(
                pipeline, nodes=[node.name], executable=[sys.executable, "-m", "kedro"]
            )
            COMMANDS.parent.mkdir(exist_ok=True)
            with COMMANDS.open("a") as log:
                log.write(json.dumps({"argv": argv, "env": build_run_env()}) + "\\n")
            subprocess.run(argv, env=environment, check=True, timeout=120)
"""

CATALOG = """
raw:
  type: rcproj.datasets.JSONFileDataset
  filepath: data/raw.json
cleaned:
  type: rcproj.datasets.JSONFileDataset
  filepath: data/cleaned.json
  versioned: true
model:
  type: rcproj.datasets.JSONFileDataset
  filepath: data/model.json
  versioned: true
metrics:
  type: rcproj.datasets.JSONFileDataset
  filepath: data/metrics.json
  versioned: true
summary:
  type: rcproj.datasets.JSONFileDataset
  filepath: data/summary.json
"""

PARAMETERS = """
scale: 2
title: base title
model:
  alpha: 1.0
  label: base
"""

#: Plain messages, one per line: the tests read the resume hint from the log.
LOGGING = """
version: 1
disable_existing_loggers: false
formatters:
  plain:
    format: "%(levelname)s %(name)s: %(message)s"
handlers:
  console:
    class: logging.StreamHandler
    formatter: plain
    stream: ext://sys.stderr
loggers:
  kedro:
    level: INFO
root:
  level: INFO
  handlers: [console]
"""


def make_project(root: Path) -> Path:
    """Write the ``rcproj`` project under ``root`` and return it."""
    project = write_project(
        root,
        package="rcproj",
        modules={
            "datasets": DATASETS,
            "nodes": NODES,
            "hooks": HOOKS,
            "runner": RUNNER,
        },
        registry=REGISTRY,
        catalog=CATALOG,
        parameters=PARAMETERS,
        settings="from rcproj.hooks import RunRecorder\n\nHOOKS = (RunRecorder(),)\n",
        extra_conf={
            "staging/parameters.yml": "scale: 3\n",
            "logging.yml": LOGGING,
        },
    )
    (project / "data" / "raw.json").write_text(json.dumps([1, 2, 3, 4]))
    return project


def kedro_env(**extra: str) -> dict[str, str]:
    """The environment of a ``kedro`` subprocess of these tests."""
    environment = {
        # The one interpreter of this test run (and its `kedro`) comes first.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "KEDRO_LOGGING_CONFIG": "conf/logging.yml",
    }
    environment.update(extra)
    return environment


def kedro(
    project: Path,
    *args: str,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> Any:
    """``python -m kedro ARGS`` in ``project`` (run ids etc. given in ``env``)."""
    return kedro_cli(project, *args, env=kedro_env(**(env or {})), check=check)


def read_outputs(project: Path) -> dict[str, Any]:
    """Every output file under ``data/``: path (version shown as ``<v>``) -> JSON."""
    data = project / "data"
    outputs = [
        path
        for path in sorted(data.rglob("*.json"))
        if path != data / "raw.json" and path.is_file()
    ]
    return read_json_files(outputs, data, version="<v>")


def versions_of(project: Path, dataset: str) -> list[str]:
    """The version directories of the versioned dataset ``data/<dataset>.json``."""
    directory = project / "data" / f"{dataset}.json"
    if not directory.is_dir():
        return []
    return sorted(path.name for path in directory.iterdir())


def load_version(project: Path, dataset: str, version: str) -> Any:
    """The JSON that ``dataset`` holds at ``version``."""
    path = project / "data" / f"{dataset}.json" / version / f"{dataset}.json"
    return json.loads(path.read_text())


def node_runs(project: Path) -> list[dict[str, Any]]:
    """What the project's hook recorded, one record per node run."""
    return read_json_lines(project / "logs" / "node_runs.jsonl")
