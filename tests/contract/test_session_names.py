"""A run's hooks and runner see exactly the pipelines the run asked for.

``__default__`` is registered as the very object ``alpha`` is (what Kedro 1.5+'s
selective loading produces), so that object knows both names; a run of ``alpha``
must still be named ``("alpha",)`` and a run of nothing ``("__default__",)``. The
sessions run in a real project in a child process, sequentially through
``KedroSession`` and, on Kedro 1.5+, twelve at a time on three threads through
one ``KedroServiceSession`` (serving mode).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from tests.contract.implementations import IMPL_ENV_VAR
from tests.support.cli import run_command
from tests.support.projects import write_project

NODES = """
def one():
    return 1
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node

from proj.nodes import one

ALPHA = Pipeline([node(one, None, "alpha_out", name="alpha_node")])
BETA = Pipeline([node(one, None, "beta_out", name="beta_node")])
REGISTERED = {}


def register_pipelines():
    REGISTERED.update({"alpha": ALPHA, "beta": BETA, "__default__": ALPHA})
    return dict(REGISTERED)
"""

RECORDING = """
import threading

from kedro.framework.hooks import hook_impl
from kedro.runner import SequentialRunner

RECORDS = []
_lock = threading.Lock()


def record(who, run_id, pipeline):
    names = getattr(pipeline, "names", None)
    with _lock:
        names = None if names is None else list(names)
        RECORDS.append({"who": who, "run_id": run_id, "names": names})


def run_id_of(run_params):
    # Kedro 0.19 calls the run id "session_id", Kedro 1.x "run_id".
    return run_params.get("run_id") or run_params.get("session_id")


class RecordingHooks:
    @hook_impl
    def before_pipeline_run(self, run_params, pipeline):
        record("before", run_id_of(run_params), pipeline)

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline):
        record("after", run_id_of(run_params), pipeline)


class RecordingRunner(SequentialRunner):
    def _run(self, pipeline, catalog, hook_manager=None, run_id=None):
        record("runner", run_id, pipeline)
        return super()._run(pipeline, catalog, hook_manager, run_id)
"""

SETTINGS = """
from proj.recording import RecordingHooks

HOOKS = (RecordingHooks(),)
"""

SCRIPT = """
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kedro.framework.startup import bootstrap_project

bootstrap_project(Path.cwd())

import kedro.framework.session as sessions
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession

from proj import pipeline_registry, recording

result = {}
for requested in ("alpha", None, "beta"):
    with KedroSession.create() as session:
        session.run(pipeline_name=requested, runner=recording.RecordingRunner())
result["sequential"] = list(recording.RECORDS)
result["identity"] = {
    key: pipelines[key] is pipeline_registry.REGISTERED[key]
    for key in pipeline_registry.REGISTERED
}

service_class = getattr(sessions, "KedroServiceSession", None)
if service_class is not None:
    import kedro.framework.session.service_session as service_module

    requests = [["alpha"], ["__default__"], ["beta"], ["alpha", "beta"]] * 3
    recording.RECORDS.clear()
    with service_class.create() as session:

        def run(index):
            run_id = f"2030-01-01T00.00.{index:02d}.000Z"
            session.run(
                run_id=run_id,
                pipeline_names=requests[index],
                runner=recording.RecordingRunner(),
            )
            return run_id, sorted(requests[index])

        with ThreadPoolExecutor(max_workers=3) as pool:
            result["asked"] = dict(pool.map(run, range(len(requests))))
        result["concurrent"] = list(recording.RECORDS)

        # Kedro documents that a run without run_id gets one from
        # generate_timestamp, as the service session module names it.
        recording.RECORDS.clear()
        original = service_module.generate_timestamp
        service_module.generate_timestamp = lambda: "2031-02-03T04.05.06.789Z"
        try:
            session.run(pipeline_names=["beta"], runner=recording.RecordingRunner())
        finally:
            service_module.generate_timestamp = original
        result["generated"] = list(recording.RECORDS)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("session-names") / "proj-root"
    write_project(
        root,
        modules={"nodes": NODES, "recording": RECORDING},
        registry=REGISTRY,
        settings=SETTINGS,
    )
    (root / "check_sessions.py").write_text(SCRIPT)
    # The project's package first; a native Kedro comes on the PYTHONPATH the
    # suite was started with (see implementations.py).
    inherited = os.environ.get("PYTHONPATH")
    env = {
        "PYTHONPATH": os.pathsep.join([str(root / "src"), *filter(None, [inherited])])
    }
    if os.environ.get(IMPL_ENV_VAR) == "native":
        env["KEDRO_PIPELINENAME_DISABLE"] = "1"
    result = run_command([sys.executable, "check_sessions.py"], cwd=root, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_lookups_during_runs_are_the_registered_objects(seen: dict[str, Any]) -> None:
    assert seen["identity"] == {"alpha": True, "beta": True, "__default__": True}


def test_each_sequential_run_is_named_exactly_as_requested(
    seen: dict[str, Any],
) -> None:
    names = [(r["who"], r["names"]) for r in seen["sequential"]]

    assert names == [
        ("before", ["alpha"]),
        ("runner", ["alpha"]),
        ("after", ["alpha"]),
        ("before", ["__default__"]),
        ("runner", ["__default__"]),
        ("after", ["__default__"]),
        ("before", ["beta"]),
        ("runner", ["beta"]),
        ("after", ["beta"]),
    ]


def _needs_service_session(seen: dict[str, Any]) -> None:
    if "concurrent" not in seen:
        pytest.skip("this Kedro has no KedroServiceSession (< 1.5)")


def test_concurrent_service_runs_each_see_only_their_own_names(
    seen: dict[str, Any],
) -> None:
    _needs_service_session(seen)
    by_run: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for record in seen["concurrent"]:
        by_run.setdefault(record["run_id"], set()).add(
            (record["who"], tuple(record["names"]))
        )

    expected = {
        run_id: {(who, tuple(asked)) for who in ("before", "runner", "after")}
        for run_id, asked in seen["asked"].items()
    }
    assert len(expected) == 12
    assert by_run == expected


def test_a_service_run_without_run_id_takes_kedros_generated_one(
    seen: dict[str, Any],
) -> None:
    _needs_service_session(seen)

    assert {(r["who"], r["run_id"]) for r in seen["generated"]} == {
        ("before", "2031-02-03T04.05.06.789Z"),
        ("runner", "2031-02-03T04.05.06.789Z"),
        ("after", "2031-02-03T04.05.06.789Z"),
    }
