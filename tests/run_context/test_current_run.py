"""``current_run()``: set while a session runs, in every node thread, per run."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import attrs
import pytest

from kedro_pipelinename import RunContext, current_run
from kedro_pipelinename.names.patching import PATCHES
from kedro_pipelinename.run.context import FrozenMapping
from tests.support.cli import run_command
from tests.support.rcproj import kedro_env, node_runs

#: Runs sessions in one process the ways a notebook or a service does, and prints
#: what ``current_run()`` said between them. The project's hook records what it
#: says inside every node.
SCRIPT = """
import inspect
import json
import os
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.runner import ThreadRunner

from kedro_pipelinename import current_run
from rcproj.hooks import runtime_params_argument

bootstrap_project(Path.cwd())
seen = {"before": current_run()}

os.environ["RC_NESTED_AT"] = "fit"
params = {runtime_params_argument(): {"scale": 5}}
with KedroSession.create(env="staging", **params) as s:
    s.run(runner=ThreadRunner())
seen["after_threaded_run"] = current_run()

os.environ["RC_FAIL_NODE"] = "fit"
with KedroSession.create() as s:
    s.run(pipeline_name="prep")
try:
    with KedroSession.create() as s:
        s.run()
except RuntimeError as error:
    seen["failure"] = str(error)
del os.environ["RC_FAIL_NODE"]
seen["after_failed_run"] = current_run()

import kedro.framework.session as sessions

service = getattr(sessions, "KedroServiceSession", None)
if service is not None:
    with service.create() as s:
        s.run(pipeline_names=["prep"], runtime_params={"scale": 6})
        s.run(pipeline_names=["prep"], runtime_params={"scale": 7})
        os.environ["KEDRO_PIPELINENAME_RUN_ID"] = "2030-01-01T00.00.00.000Z"
        s.run(pipeline_names=["prep"], runtime_params={"scale": 8})
print(json.dumps({key: value is None if key != "failure" else value
                  for key, value in seen.items()}))
"""


@pytest.mark.slow
def test_current_run_is_each_runs_own_in_threads_nested_and_after_failure(
    project: Path,
) -> None:
    (project / "check_runs.py").write_text(SCRIPT)
    result = run_command(
        [sys.executable, "check_runs.py"],
        cwd=project,
        env=kedro_env(PYTHONPATH=str(project / "src")),
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "before": True,
        "after_threaded_run": True,
        "failure": "fit failed on purpose (RC_FAIL_NODE)",
        "after_failed_run": True,
    }
    records = node_runs(project)
    scales = [(r["node"], r["context"]["runtime_params"].get("scale")) for r in records]
    threaded = records[:5]
    # The ThreadRunner run: its nodes run in worker threads and see it; the
    # session opened inside "fit" is seen by its own node only.
    assert scales[:5] == [
        ("clean", 5),
        ("fit", 5),
        ("clean", 9),
        ("score", 5),
        ("rep.summarise", 5),
    ]
    assert [r["main_thread"] for r in threaded] == [False, False, False, False, False]
    outer, inner = threaded[0]["context"], threaded[2]["context"]
    assert outer["env"] == "staging"
    assert outer["pipeline_names"] == ["__default__"]
    assert inner["pipeline_names"] == ["prep"]
    assert inner["run_id"] != outer["run_id"]
    assert {r["context"]["run_id"] for r in threaded[:2] + threaded[3:]} == {
        outer["run_id"]
    }
    # A sequential run, then a failing one: each node saw its own session's run.
    failing = records[5:8]
    assert [r["node"] for r in failing] == ["clean", "clean", "fit"]
    assert failing[0]["context"]["run_id"] != failing[1]["context"]["run_id"]
    assert failing[1]["context"]["run_id"] == failing[2]["context"]["run_id"]
    service_runs = records[8:]
    if service_runs:  # Kedro 1.5+: one KedroServiceSession, three runs
        assert scales[8:] == [("clean", 6), ("clean", 7), ("clean", 8)]
        ids = [r["context"]["run_id"] for r in service_runs]
        assert ids[0] != ids[1]
        # With KEDRO_PIPELINENAME_RUN_ID set, a run without run_id takes it.
        assert ids[2] == "2030-01-01T00.00.00.000Z"


def test_current_run_is_none_outside_a_run() -> None:
    assert current_run() is None


def _context(**changes: object) -> RunContext:
    values: dict[str, object] = {
        "run_id": "2030-01-01T00.00.00.000Z",
        "pipeline_names": ("train",),
        "runtime_params": {"model": {"alpha": 0.5, "layers": [1, 2]}},
    }
    values.update(changes)
    return RunContext(**values)  # type: ignore[arg-type]


def test_run_context_keeps_runtime_params_exactly_and_apart_from_the_caller() -> None:
    given = {"model": {"alpha": 0.5, "layers": [1, 2]}}
    context = _context(runtime_params=given)
    given["model"]["layers"].append(3)  # type: ignore[attr-defined]
    given["model"]["alpha"] = 9

    assert context.runtime_params == {"model": {"alpha": 0.5, "layers": [1, 2]}}
    with pytest.raises(TypeError):
        context.runtime_params["model"]["alpha"] = 1
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        context.run_id = "x"  # type: ignore[misc]


def test_run_context_survives_pickling() -> None:
    context = _context(load_versions={"model": "2029-01-01T00.00.00.000Z"})

    assert pickle.loads(pickle.dumps(context)) == context


def test_run_context_accepts_lists_for_name_fields() -> None:
    assert _context(tags=["a", "b"]).tags == ("a", "b")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tags": "ab"}, "wrap it in a tuple"),
        ({"run_id": ""}, "run_id must not be empty"),
        ({"runtime_params": {1: "x"}}, "keys must be strings"),
        ({"load_versions": {"model": 1}}, "must be <class 'str'>"),
        ({"only_missing_outputs": "yes"}, "must be <class 'bool'>"),
    ],
)
def test_run_context_rejects_bad_values_naming_them(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        _context(**changes)


def test_frozen_mapping_equals_the_dict_it_copies() -> None:
    frozen = FrozenMapping({"a": {"b": 1}})

    assert frozen == {"a": {"b": 1}}
    assert frozen.to_dict() == {"a": {"b": 1}}
    assert type(frozen.to_dict()["a"]) is dict


def test_uninstall_restores_every_run_context_patch() -> None:
    from kedro.framework.session import KedroSession
    from kedro.io import AbstractVersionedDataset
    from kedro.runner import AbstractRunner, ThreadRunner

    import kedro_pipelinename

    patched = [
        (KedroSession, "__init__"),
        (KedroSession, "run"),
        (AbstractVersionedDataset, "resolve_load_version"),
        (ThreadRunner, "_get_executor"),
        (AbstractRunner, "_suggest_resume_scenario"),
    ]
    originals = [PATCHES.original(owner, name) for owner, name in patched]
    assert all(PATCHES.is_patched(owner, name) for owner, name in patched)

    kedro_pipelinename.uninstall()
    try:
        restored = [owner.__dict__[name] for owner, name in patched]
        assert [PATCHES.is_patched(o, n) for o, n in patched] == [False] * 5
        assert all(a is b for a, b in zip(restored, originals, strict=True))
    finally:
        kedro_pipelinename.install()
