"""Hypothesis strategies shared by the tests: random Kedro DAGs and operation arguments.

Everything here uses only Kedro's public API (``node``, ``Pipeline``), so the
strategies serve the contract suite whichever implementation of ``Pipeline.name``
it runs against (this package's monkey patch or a natively patched Kedro).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from kedro.pipeline import Pipeline, node
from kedro.pipeline.node import Node

#: Node namespaces, nested ones included: Kedro matches ``ns_a`` against
#: ``ns_a.inner`` in 1.x and compares exactly in 0.19.
NAMESPACES = ("ns_a", "ns_b", "ns_a.inner")
TAGS = ("t1", "t2", "t3")
#: Names a test may register or set; ``__default__`` is the one Kedro treats specially.
PIPELINE_NAMES = ("alpha", "beta", "gamma", "__default__")
#: Namespaces given to ``Pipeline(p, namespace=...)``; distinct from node namespaces.
WRAPPING_NAMESPACES = ("wrap_x", "wrap_y")
PARAMETER = "rate"


def combine(*values: object) -> tuple[object, ...]:
    """The one node function: any inputs, one output (never run by these tests)."""
    return values


@st.composite
def node_universes(
    draw: st.DrawFn, min_nodes: int = 2, max_nodes: int = 9
) -> list[Node]:
    """A random DAG of uniquely named nodes with namespaces, tags and a parameter.

    Node ``n<i>`` outputs ``d<i>`` and reads up to two earlier outputs (or its own
    free input ``raw<i>``), so every subset of the universe is a valid pipeline.
    """
    count = draw(st.integers(min_value=min_nodes, max_value=max_nodes))
    nodes: list[Node] = []
    for index in range(count):
        upstream: list[int] = (
            draw(st.lists(st.integers(0, index - 1), max_size=2, unique=True))
            if index
            else []
        )
        inputs = [f"d{i}" for i in sorted(upstream)] or [f"raw{index}"]
        if draw(st.booleans()):
            inputs.append(f"params:{PARAMETER}")
        nodes.append(
            node(
                combine,
                inputs,
                f"d{index}",
                name=f"n{index}",
                namespace=draw(st.sampled_from((None, *NAMESPACES))),
                tags=sorted(draw(st.sets(st.sampled_from(TAGS), max_size=2))),
            )
        )
    return nodes


def subsets(universe: Sequence[Node]) -> st.SearchStrategy[list[Node]]:
    """Non-empty subsets of ``universe``, in universe order."""
    return st.lists(
        st.sampled_from(list(universe)), min_size=1, max_size=len(universe), unique=True
    ).map(lambda picked: [n for n in universe if n in picked])


def _some(
    draw: st.DrawFn, candidates: Sequence[str], *, bogus: str
) -> list[str] | None:
    """``None``, or a few of ``candidates`` (rarely a name that does not exist)."""
    pool = sorted(set(candidates)) or [bogus]
    if draw(st.integers(0, 9)) == 0:
        pool = [*pool, bogus]
    return draw(st.none() | st.lists(st.sampled_from(pool), min_size=1, max_size=2))


def node_names_of(pipeline: Pipeline) -> list[str]:
    """The node names of ``pipeline`` in Kedro's order."""
    return [n.name for n in pipeline.nodes]


def namespaces_of(pipeline: Pipeline) -> list[str]:
    """The node namespaces present in ``pipeline``, with their parent prefixes."""
    found: set[str] = set()
    for n in pipeline.nodes:
        parts = (n.namespace or "").split(".") if n.namespace else []
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found)


def free_inputs_of(pipeline: Pipeline) -> list[str]:
    """The free dataset inputs of ``pipeline`` (no parameters)."""
    return sorted(i for i in pipeline.inputs() if not i.startswith("params:"))


def filter_namespace_keyword() -> str:
    """The keyword ``Pipeline.filter`` takes namespaces by, found by inspection.

    Kedro 0.19 takes one ``node_namespace: str``; 1.0 made it a list,
    ``node_namespaces``.
    """
    parameters = inspect.signature(Pipeline.filter).parameters
    return "node_namespaces" if "node_namespaces" in parameters else "node_namespace"


@st.composite
def filter_kwargs(draw: st.DrawFn, pipeline: Pipeline) -> dict[str, Any]:
    """Keyword arguments for ``pipeline.filter`` drawn from what ``pipeline`` holds.

    Every keyword may be absent (so ``filter()`` with no arguments is drawn too);
    now and then a name that does not exist makes Kedro raise, which both sides
    of a comparison must do identically.
    """
    names = node_names_of(pipeline)
    kwargs: dict[str, Any] = {
        "tags": _some(draw, list(TAGS), bogus="no_such_tag"),
        "from_nodes": _some(draw, names, bogus="no_such_node"),
        "to_nodes": _some(draw, names, bogus="no_such_node"),
        "node_names": _some(draw, names, bogus="no_such_node"),
        "from_inputs": _some(draw, sorted(pipeline.all_inputs()), bogus="no_such_ds"),
        "to_outputs": _some(draw, sorted(pipeline.all_outputs()), bogus="no_such_ds"),
    }
    namespaces = _some(draw, namespaces_of(pipeline), bogus="no_such_ns")
    keyword = filter_namespace_keyword()
    if namespaces is not None:
        kwargs[keyword] = namespaces if keyword == "node_namespaces" else namespaces[0]
    return {key: value for key, value in kwargs.items() if value is not None}


@st.composite
def wrapping_kwargs(draw: st.DrawFn, pipeline: Pipeline) -> dict[str, Any]:
    """Keyword arguments for ``Pipeline(p, ...)`` / ``pipeline(p, ...)``.

    Draws ``namespace``, ``inputs``, ``outputs``, ``parameters`` and ``tags`` from
    what ``pipeline`` holds, so most combinations are valid and some make Kedro
    raise its ``PipelineError`` / ``ModularPipelineError``.
    """
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["namespace"] = draw(st.sampled_from(WRAPPING_NAMESPACES))
    inputs = free_inputs_of(pipeline)
    if inputs and draw(st.booleans()):
        kwargs["inputs"] = {draw(st.sampled_from(inputs)): "renamed_input"}
    outputs = sorted(pipeline.outputs())
    if outputs and draw(st.booleans()):
        kwargs["outputs"] = draw(st.sampled_from(outputs))
    if f"params:{PARAMETER}" in pipeline.inputs() and draw(st.booleans()):
        kwargs["parameters"] = {PARAMETER: "other_rate"}
    if draw(st.booleans()):
        kwargs["tags"] = sorted(draw(st.sets(st.sampled_from(TAGS), min_size=1)))
    return kwargs
