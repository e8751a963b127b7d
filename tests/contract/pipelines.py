"""Small fixed pipelines for the row-by-row contract tests (public Kedro API only)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from kedro.pipeline import Pipeline, node, pipeline
from kedro.pipeline.node import Node

from tests.strategies import combine


def alpha_nodes() -> list[Node]:
    """``raw -> n0 (ns_a) -> n1 (ns_a.inner) -> n2``, tagged, reading a parameter."""
    return [
        node(
            combine,
            ["raw", "params:rate"],
            "d0",
            name="n0",
            namespace="ns_a",
            tags=["t1"],
        ),
        node(combine, "d0", "d1", name="n1", namespace="ns_a.inner", tags=["t2"]),
        node(combine, "d1", "d2", name="n2", tags=["t1"]),
    ]


def beta_nodes() -> list[Node]:
    """Two nodes, disjoint from :func:`alpha_nodes`, reading ``d2``."""
    return [
        node(combine, "d2", "e0", name="m0", namespace="ns_b"),
        node(combine, "e0", "e1", name="m1"),
    ]


def named(nodes: Iterable[Node | Pipeline], *names: str) -> Pipeline:
    """``Pipeline(nodes)`` carrying ``names`` (set through the public setter)."""
    built = Pipeline(list(nodes))
    parts = [Pipeline(built.nodes) for _ in names]
    for part, name in zip(parts, names, strict=True):
        part.name = name
    if len(names) > 1:
        # Several names only arise from combining; build them the public way.
        combined: Pipeline = sum(parts, Pipeline([]))
        return combined
    if names:
        built.name = names[0]
    return built


def fingerprint(p: Pipeline) -> list[tuple[Any, ...]]:
    """Everything about ``p``'s nodes that Kedro's operations decide, in order."""
    return [
        (
            n.name,
            tuple(n.inputs),
            tuple(n.outputs),
            n.namespace,
            tuple(sorted(n.tags)),
        )
        for n in p.nodes
    ]


def pipeline_function_first_keyword() -> str:
    """The keyword ``kedro.pipeline.pipeline`` takes its nodes by.

    Kedro 0.19 calls it ``pipe``; 1.0 renamed it ``nodes``. Found by inspection.
    """
    return next(iter(inspect.signature(pipeline).parameters))


def has_method(name: str) -> bool:
    """Whether the imported Kedro's ``Pipeline`` defines ``name``."""
    return callable(getattr(Pipeline, name, None))


Operation = Callable[[Pipeline], Pipeline]
