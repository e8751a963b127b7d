"""The native series and the monkey patch agree on random pipeline-algebra walks.

Hypothesis draws each walk step by step from the pipelines built so far while the
monkey patch applies it in this process (`walks.Walk`); the finished walk, plain
JSON, is then replayed by ``walks.py`` in a long-lived child process that imports
the installed Kedro with ``patches/`` applied and never imports the monkey patch.
Every step's record (the names of every pipeline so far, the result's nodes, the
error raised, the registry's keys) must be the same on both sides. A walk that
differs is shrunk by Hypothesis like any other failing example.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import kedro_pipelinename
from tests.strategies import (
    NAMESPACES,
    PARAMETER,
    PIPELINE_NAMES,
    TAGS,
    filter_kwargs,
    namespaces_of,
    node_names_of,
    some_of,
    wrapping_kwargs,
)
from tests.upstream.native_kedro import subprocess_env

from .walks import BINARY, DUPLICATES, METHODS, REPLY_PREFIX, Walk, run_walk

WALKS_SCRIPT = Path(__file__).with_name("walks.py")
#: Enough walks to reach every step kind many times; about 10 s here.
MAX_EXAMPLES = 150
MAX_STEPS = 14
STEP_KINDS = (
    "build",
    "set_name",
    "binary",
    "sum",
    "wrap",
    "compose",
    "method",
    "method",
    "duplicate",
    "register",
    "register",
    "unregister",
)

Replay = Callable[[list[dict[str, Any]], list[list[Any]]], list[dict[str, Any]]]


@st.composite
def universes(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Node specs of a random DAG: node ``n<i>`` reads earlier outputs or ``raw<i>``."""
    specs = []
    for index in range(draw(st.integers(min_value=2, max_value=7))):
        upstream = (
            draw(st.lists(st.integers(0, index - 1), max_size=2, unique=True))
            if index
            else []
        )
        inputs = [f"d{i}" for i in sorted(upstream)] or [f"raw{index}"]
        if draw(st.booleans()):
            inputs.append(f"params:{PARAMETER}")
        specs.append(
            {
                "name": f"n{index}",
                "inputs": inputs,
                "output": f"d{index}",
                "namespace": draw(st.sampled_from((None, *NAMESPACES))),
                "tags": sorted(draw(st.sets(st.sampled_from(TAGS), max_size=2))),
            }
        )
    return specs


def method_arguments(
    draw: st.DrawFn, pipeline: Any, method: str
) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for ``pipeline.<method>``, mostly valid."""
    names = node_names_of(pipeline)
    inputs = sorted(pipeline.all_inputs())
    outputs = sorted(pipeline.all_outputs())
    if method == "filter":
        return [], draw(filter_kwargs(pipeline))
    if method == "only_nodes_with_namespaces":
        return [draw(some_of(namespaces_of(pipeline), bogus="no_such_ns"))], {}
    if method == "tag":
        return [sorted(draw(st.sets(st.sampled_from(TAGS), min_size=1)))], {}
    if method == "only_nodes_with_tags":
        return sorted(draw(st.sets(st.sampled_from(TAGS), max_size=2))), {}
    pools = {
        "only_nodes": names,
        "from_nodes": names,
        "to_nodes": names,
        "only_nodes_with_inputs": inputs,
        "from_inputs": inputs,
        "only_nodes_with_outputs": outputs,
        "to_outputs": outputs,
    }
    return draw(some_of(pools[method], bogus="no_such_thing")), {}


def draw_step(draw: st.DrawFn, walk: Walk) -> list[Any]:
    """One step over the pipelines ``walk`` holds so far."""
    indices = st.integers(0, len(walk.pool) - 1)
    kind = draw(st.sampled_from(STEP_KINDS))
    if kind == "build":
        universe = range(len(walk.universe))
        return [kind, sorted(draw(st.sets(st.sampled_from(universe), min_size=1)))]
    if kind == "set_name":
        return [kind, draw(indices), draw(st.sampled_from((*PIPELINE_NAMES, None)))]
    if kind == "binary":
        return [
            kind,
            draw(st.sampled_from(sorted(BINARY))),
            draw(indices),
            draw(indices),
        ]
    if kind == "sum":
        return [kind, draw(st.lists(indices, min_size=1, max_size=3))]
    if kind == "wrap":
        index = draw(indices)
        kwargs = draw(wrapping_kwargs(walk.pool[index]))
        return [kind, index, kwargs, draw(st.sampled_from(("Pipeline", "pipeline")))]
    if kind == "compose":
        nodes = st.lists(st.integers(0, len(walk.universe) - 1), max_size=2)
        return [kind, draw(st.lists(indices, min_size=1, max_size=2)), draw(nodes)]
    if kind == "method":
        index = draw(indices)
        method = draw(st.sampled_from(METHODS))
        positional, keywords = method_arguments(draw, walk.pool[index], method)
        return [kind, index, method, positional, keywords]
    if kind == "duplicate":
        return [kind, draw(indices), draw(st.sampled_from(sorted(DUPLICATES)))]
    if kind == "register":
        return [kind, draw(st.sampled_from(PIPELINE_NAMES)), draw(indices)]
    return [kind, draw(st.sampled_from(PIPELINE_NAMES))]


steps_over = st.composite(draw_step)


@pytest.fixture(scope="module")
def native_replay(
    patched_kedro_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replay]:
    """Replay a walk in a child process on the natively patched Kedro."""
    stderr_path = tmp_path_factory.mktemp("native-walks") / "stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(WALKS_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=subprocess_env(native_root=patched_kedro_root)
            | {"KEDRO_PIPELINENAME_DISABLE": "1"},
        )

    def replay(
        universe: list[dict[str, Any]], steps: list[list[Any]]
    ) -> list[dict[str, Any]]:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps({"universe": universe, "steps": steps}) + "\n")
        process.stdin.flush()
        for line in process.stdout:
            if line.startswith(REPLY_PREFIX):
                records: list[dict[str, Any]] = json.loads(line[len(REPLY_PREFIX) :])
                return records
        pytest.fail(f"the native walk process died:\n{stderr_path.read_text()}")

    try:
        yield replay
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


def test_native_replay_runs_the_patched_kedro_without_the_monkey_patch(
    patched_kedro_root: Path,
) -> None:
    probe = (
        "import json, sys, kedro; from kedro.pipeline import Pipeline; "
        "import walks; print(json.dumps([kedro.__file__, "
        "type(Pipeline.__dict__['names']).__name__, "
        "'kedro_pipelinename' in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=WALKS_SCRIPT.parent,
        env=subprocess_env(native_root=patched_kedro_root)
        | {"KEDRO_PIPELINENAME_DISABLE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    kedro_file, names_type, monkey_imported = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert (Path(kedro_file).parents[1], names_type, monkey_imported) == (
        patched_kedro_root,
        "property",
        False,
    )


@pytest.fixture
def monkey_patch() -> Iterator[None]:
    """A fresh install of the monkey patch in this process, then the state before."""
    was_installed = kedro_pipelinename.is_installed()
    if was_installed:
        kedro_pipelinename.uninstall()
    kedro_pipelinename.install()
    yield
    kedro_pipelinename.uninstall()
    if was_installed:
        kedro_pipelinename.install()


@pytest.mark.usefixtures("monkey_patch")
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_native_and_monkey_patch_agree_on_random_walks(
    native_replay: Replay, data: st.DataObject
) -> None:
    universe = data.draw(universes(), label="universe")
    walk = Walk(universe)
    steps: list[list[Any]] = [["build", list(range(len(universe)))]]
    monkey_records = [walk.apply(steps[0])]
    for _ in range(data.draw(st.integers(2, MAX_STEPS), label="steps")):
        step = data.draw(steps_over(walk), label="step")
        steps.append(step)
        monkey_records.append(walk.apply(step))
    note(json.dumps({"universe": universe, "steps": steps}))

    # Plain JSON on both sides: tuples become lists, as they do in the replay.
    assert json.loads(json.dumps(monkey_records)) == json.loads(
        json.dumps(run_walk(universe, steps))
    ), "the walk does not replay the same in this process"
    assert native_replay(universe, steps) == json.loads(json.dumps(monkey_records))
