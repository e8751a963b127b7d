"""The names hooks and runners see in real ``kedro run`` processes.

One real project (written by ``tests/support/projects.py``) with several registered
pipelines, among them one whose nodes are not in ``__default__`` and a namespaced
one; a project hook records what ``before_pipeline_run`` / ``after_pipeline_run`` /
``on_pipeline_error`` receive, and runners subclassed from Kedro's record what
``_run`` receives. Every ``kedro run`` happens once, in a module fixture, and the
tests read its records. CLI flags differ between Kedro versions (``--pipelines``
and ``--only-missing-outputs`` arrived in 1.x, ``--namespace`` became
``--namespaces``): the fixture asks the installed Kedro's ``run`` command.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from subprocess import CompletedProcess
from typing import Any

import pytest
from attrs import define

from tests.support.cli import kedro_cli, run_flags
from tests.support.outputs import read_json_lines
from tests.support.projects import write_project

pytestmark = pytest.mark.slow

NODES = """
def double(value):
    return value + value


def explode(value):
    raise RuntimeError("this node fails on purpose")
"""

DATASETS = """
from pathlib import Path

from kedro.io import AbstractDataset


class TextDataset(AbstractDataset):
    # Persistent, so --only-missing-outputs has outputs that exist.
    def __init__(self, filepath, metadata=None):
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self):
        return self._filepath.read_text()

    def save(self, data):
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        self._filepath.write_text(data)

    def _exists(self):
        return self._filepath.exists()

    def _describe(self):
        return {"filepath": str(self._filepath)}
"""

RECORDER = """
import importlib.util
import json
import os


def record(who, pipeline):
    # getattr: a hook or runner must work (and say so) without the patch.
    names = getattr(pipeline, "names", None)
    entry = {
        "who": who,
        "names": list(names) if names is not None else None,
        "name": getattr(pipeline, "name", None),
        "nodes": sorted(n.name for n in pipeline.nodes),
    }
    with open(os.environ["NAMES_RECORD"], "a") as stream:
        stream.write(json.dumps(entry) + "\\n")
"""

HOOKS = """
from kedro.framework.hooks import hook_impl

from proj.recorder import record


class RecordingHooks:
    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog):
        record("before_pipeline_run", pipeline)

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog):
        record("after_pipeline_run", pipeline)

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog):
        record("on_pipeline_error", pipeline)
"""

RUNNERS = """
from kedro.runner import ParallelRunner, SequentialRunner, ThreadRunner

from proj.recorder import record


def recording(base):
    class Recording(base):
        # Kedro calls _run(pipeline, catalog, hook_manager, run_id) positionally
        # (the last one is session_id in 0.19): pass everything through.
        def _run(self, pipeline, catalog, *args, **kwargs):
            record(type(self).__name__ + "._run", pipeline)
            return super()._run(pipeline, catalog, *args, **kwargs)

    Recording.__name__ = Recording.__qualname__ = "Recording" + base.__name__
    return Recording


RecordingRunner = recording(SequentialRunner)
RecordingThreadRunner = recording(ThreadRunner)
RecordingParallelRunner = recording(ParallelRunner)
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from proj.nodes import double, explode


def register_pipelines():
    alpha = Pipeline([node(double, "raw_a", "alpha_out", name="alpha_double")])
    namespaced = pipeline(
        [
            node(double, "raw_n", "mid", name="first"),
            node(double, "mid", "out", name="second"),
        ],
        namespace="ns_a",
        inputs={"raw_n": "raw_n"},
    )
    # Not part of __default__: `kedro run --nodes beta_finish` alone fails.
    beta_only = Pipeline(
        [
            node(double, "raw_b", "beta_out", name="beta_double"),
            node(double, "beta_out", "beta_final", name="beta_finish"),
        ]
    )
    failing = Pipeline([node(explode, "raw_a", "never", name="explode")])
    return {
        "alpha": alpha,
        "ns_pipe": namespaced,
        "beta_only": beta_only,
        "failing": failing,
        "__default__": alpha + namespaced,
    }
"""

CATALOG = "\n".join(
    f"{name}:\n  type: proj.datasets.TextDataset\n  filepath: data/{name}.txt\n"
    for name in (
        "raw_a",
        "raw_b",
        "raw_n",
        "alpha_out",
        "beta_out",
        "beta_final",
        "ns_a.out",
        "never",
    )
)

SETTINGS = """
import os

from proj.hooks import RecordingHooks

HOOKS = (RecordingHooks(),)

if os.environ.get("USE_SERVICE_SESSION"):
    from kedro.framework.session.service_session import KedroServiceSession

    SESSION_CLASS = KedroServiceSession
"""


OPTIONS = run_flags()
HAS_PIPELINES = "--pipelines" in OPTIONS
HAS_ONLY_MISSING = "--only-missing-outputs" in OPTIONS
# Kedro 0.19: --namespace NAME; 1.0: --namespaces A,B.
NAMESPACE_FLAG = "--namespaces" if "--namespaces" in OPTIONS else "--namespace"
NODES_FLAG = next(f for f in ("--nodes", "--node-names", "-n") if f in OPTIONS)


@define(frozen=True)
class Run:
    """One ``kedro run``: its process and what hooks and runners recorded."""

    process: CompletedProcess[str]
    records: list[dict[str, Any]]

    def seen_by(self, who: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["who"] == who]

    def names_seen(self) -> dict[str, list[str] | None]:
        """``who -> names`` for every record (each hook or runner records once)."""
        return {r["who"]: r["names"] for r in self.records}


SEQUENTIAL = "proj.runners.RecordingRunner"
PIPELINES = (
    ["--pipelines", "ns_pipe,alpha"] if HAS_PIPELINES else ["--pipeline", "alpha"]
)
HAS_SERVICE_SESSION = (
    importlib.util.find_spec("kedro.framework.session.service_session") is not None
)

#: label -> kedro run arguments, run in this order (later runs reuse outputs).
RUNS: dict[str, Sequence[str]] = {
    "pipeline": ["--pipeline", "beta_only", "--runner", SEQUENTIAL],
    "pipelines": [*PIPELINES, "--runner", "proj.runners.RecordingThreadRunner"],
    "default": ["--runner", SEQUENTIAL],
    "nodes": ["--pipeline", "beta_only", NODES_FLAG, "beta_finish", "-r", SEQUENTIAL],
    "namespaces": ["--pipeline", "ns_pipe", NAMESPACE_FLAG, "ns_a", "-r", SEQUENTIAL],
    "parallel": ["--pipeline", "ns_pipe", "--runner", "ParallelRunner"],
    "parallel_subclass": [
        *("--pipeline", "alpha"),
        *("--runner", "proj.runners.RecordingParallelRunner"),
    ],
    "failing": ["--pipeline", "failing", "--runner", SEQUENTIAL],
}
if HAS_ONLY_MISSING:
    # After "default" wrote alpha_out, nothing of alpha is left to run.
    RUNS["only_missing"] = [
        *("--pipeline", "alpha", "--only-missing-outputs"),
        *("--runner", SEQUENTIAL),
    ]


if HAS_SERVICE_SESSION:
    # Kedro 1.5+: the same run through KedroServiceSession (SESSION_CLASS).
    RUNS["service_session"] = ["--pipeline", "beta_only", "--runner", SEQUENTIAL]
#: Extra environment of some runs.
RUN_ENV = {"service_session": {"USE_SERVICE_SESSION": "1"}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("names") / "proj-root"
    write_project(
        root,
        modules={
            "nodes": NODES,
            "datasets": DATASETS,
            "recorder": RECORDER,
            "hooks": HOOKS,
            "runners": RUNNERS,
        },
        registry=REGISTRY,
        catalog=CATALOG,
        settings=SETTINGS,
    )
    for raw in ("raw_a", "raw_b", "raw_n"):
        (root / "data" / f"{raw}.txt").write_text("x")
    results = {}
    for label, arguments in RUNS.items():
        record = root / "data" / f"records-{label}.jsonl"
        process = kedro_cli(
            root,
            "run",
            *arguments,
            env={"NAMES_RECORD": str(record), **RUN_ENV.get(label, {})},
            check=label != "failing",
        )
        results[label] = Run(process, read_json_lines(record))
    return results


def _details(run: Run) -> str:
    return json.dumps(run.records, indent=1) + run.process.stderr[-3000:]


def test_pipeline_flag_names_hooks_and_runner(runs: dict[str, Run]) -> None:
    assert runs["pipeline"].names_seen() == {
        "before_pipeline_run": ["beta_only"],
        "RecordingSequentialRunner._run": ["beta_only"],
        "after_pipeline_run": ["beta_only"],
    }, _details(runs["pipeline"])


def test_runner_sees_the_name_joined_for_pipelines_flag(runs: dict[str, Run]) -> None:
    expected = ["alpha", "ns_pipe"] if HAS_PIPELINES else ["alpha"]

    seen = runs["pipelines"].seen_by("RecordingThreadRunner._run")

    assert [(r["names"], r["name"]) for r in seen] == [(expected, ",".join(expected))]
    assert runs["pipelines"].names_seen()["before_pipeline_run"] == expected


def test_no_pipeline_flag_is_named_default(runs: dict[str, Run]) -> None:
    assert runs["default"].names_seen() == {
        "before_pipeline_run": ["__default__"],
        "RecordingSequentialRunner._run": ["__default__"],
        "after_pipeline_run": ["__default__"],
    }
    assert runs["default"].records[0]["nodes"] == [
        "alpha_double",
        "ns_a.first",
        "ns_a.second",
    ]


def test_nodes_flag_keeps_the_pipeline_name(runs: dict[str, Run]) -> None:
    seen = runs["nodes"].seen_by("RecordingSequentialRunner._run")

    assert [(r["names"], r["nodes"]) for r in seen] == [
        (["beta_only"], ["beta_finish"])
    ]


def test_namespace_flag_keeps_the_pipeline_name(runs: dict[str, Run]) -> None:
    seen = runs["namespaces"].seen_by("RecordingSequentialRunner._run")

    assert [(r["names"], r["nodes"]) for r in seen] == [
        (["ns_pipe"], ["ns_a.first", "ns_a.second"])
    ]


def test_stock_parallel_runner_runs_and_hooks_see_the_name(
    runs: dict[str, Run],
) -> None:
    assert runs["parallel"].names_seen() == {
        "before_pipeline_run": ["ns_pipe"],
        "after_pipeline_run": ["ns_pipe"],
    }


def test_parallel_runner_subclass_sees_the_name_in_run(runs: dict[str, Run]) -> None:
    seen = runs["parallel_subclass"].seen_by("RecordingParallelRunner._run")

    assert [r["names"] for r in seen] == [["alpha"]]


def test_failing_node_reports_the_name_to_on_pipeline_error(
    runs: dict[str, Run],
) -> None:
    failing = runs["failing"]

    assert failing.process.returncode != 0
    assert failing.names_seen() == {
        "before_pipeline_run": ["failing"],
        "RecordingSequentialRunner._run": ["failing"],
        "on_pipeline_error": ["failing"],
    }
    assert "this node fails on purpose" in failing.process.stderr


@pytest.mark.skipif(
    not HAS_ONLY_MISSING, reason="this Kedro has no --only-missing-outputs (0.19)"
)
def test_only_missing_outputs_with_nothing_left_keeps_the_name(
    runs: dict[str, Run],
) -> None:
    seen = runs["only_missing"].seen_by("RecordingSequentialRunner._run")

    assert [(r["names"], r["nodes"]) for r in seen] == [(["alpha"], [])]


@pytest.mark.skipif(not HAS_SERVICE_SESSION, reason="no KedroServiceSession (<1.5)")
def test_service_session_stamps_the_name(runs: dict[str, Run]) -> None:
    assert runs["service_session"].names_seen() == {
        "before_pipeline_run": ["beta_only"],
        "RecordingSequentialRunner._run": ["beta_only"],
        "after_pipeline_run": ["beta_only"],
    }, _details(runs["service_session"])
