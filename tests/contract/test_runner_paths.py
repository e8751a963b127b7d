"""Runners see the name, and Kedro's own derived pipelines in runners keep it.

Runners are subclassed the way a plugin would (``AbstractRunner`` subclasses that
override ``_run``) and run in-process against a small catalog, so the paths that
only exist in some Kedro versions are reached by feature detection:
``only_missing_outputs=`` of ``AbstractRunner.run`` (1.x, which goes through
``_filter_pipeline_for_missing_outputs``) and ``run_only_missing`` (0.19).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from kedro.io import AbstractDataset, DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import AbstractRunner, SequentialRunner, ThreadRunner

from tests.strategies import combine


class StoredDataset(AbstractDataset[Any, Any]):
    """A persistent dataset over a dict, so "exists" is under the test's control."""

    def __init__(self, store: dict[str, Any], key: str) -> None:
        self._store = store
        self._key = key

    def load(self) -> Any:
        return self._store[self._key]

    def save(self, data: Any) -> None:
        self._store[self._key] = data

    def _exists(self) -> bool:
        return self._key in self._store

    def _describe(self) -> dict[str, Any]:
        return {"key": self._key}


def recording(base: type[AbstractRunner]) -> type[AbstractRunner]:
    """A subclass of ``base`` that records what ``_run`` receives, then runs it."""

    class Recording(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.seen: list[tuple[Any, list[str]]] = []

        def _run(self, pipeline: Pipeline, catalog: Any, *args: Any) -> Any:
            # getattr: a runner must not assume the attribute exists (README).
            names = getattr(pipeline, "names", None)
            self.seen.append((names, [n.name for n in pipeline.nodes]))
            return super()._run(pipeline, catalog, *args)

    Recording.__name__ = f"Recording{base.__name__}"
    return Recording


def chain_pipeline(*names: str) -> Pipeline:
    """``raw -> n0 -> d0 -> n1 -> d1 -> n2 -> d2`` carrying ``names``."""
    p = Pipeline(
        [
            node(combine, "raw", "d0", name="n0"),
            node(combine, "d0", "d1", name="n1"),
            node(combine, "d1", "d2", name="n2", namespace="ns"),
        ]
    )
    if len(names) == 1:
        p.name = names[0]
    elif names:
        parts = []
        for name in names:
            part = Pipeline(p.nodes)
            part.name = name
            parts.append(part)
        p = sum(parts, Pipeline([]))
    return p


def catalog_over(store: dict[str, Any]) -> DataCatalog:
    return DataCatalog(
        datasets={
            "raw": MemoryDataset(1),
            "d0": StoredDataset(store, "d0"),
            "d1": StoredDataset(store, "d1"),
            "d2": StoredDataset(store, "d2"),
        }
    )


@pytest.mark.parametrize("base", [SequentialRunner, ThreadRunner])
@pytest.mark.parametrize("names", [("alpha",), ("alpha", "beta")], ids=str)
def test_runner_subclass_sees_the_names_in_run(
    base: type[AbstractRunner], names: tuple[str, ...]
) -> None:
    runner = recording(base)()
    store: dict[str, Any] = {}

    runner.run(chain_pipeline(*names), catalog_over(store))

    assert runner.seen == [(names, ["n0", "n1", "ns.n2"])]
    assert sorted(store) == ["d0", "d1", "d2"]


HAS_ONLY_MISSING_OUTPUTS = (
    "only_missing_outputs" in inspect.signature(AbstractRunner.run).parameters
)
needs_only_missing_outputs = pytest.mark.skipif(
    not HAS_ONLY_MISSING_OUTPUTS,
    reason="this Kedro's AbstractRunner.run has no only_missing_outputs (0.19)",
)


@needs_only_missing_outputs
def test_only_missing_outputs_keeps_names_of_the_filtered_pipeline() -> None:
    runner = recording(SequentialRunner)()
    store: dict[str, Any] = {"d0": "kept", "d1": "kept"}

    runner.run(
        chain_pipeline("alpha", "beta"), catalog_over(store), only_missing_outputs=True
    )

    assert runner.seen == [(("alpha", "beta"), ["ns.n2"])]


@needs_only_missing_outputs
def test_only_missing_outputs_keeps_names_when_nothing_is_left_to_run() -> None:
    runner = recording(SequentialRunner)()
    store: dict[str, Any] = {"d0": "kept", "d1": "kept", "d2": "kept"}

    runner.run(chain_pipeline("alpha"), catalog_over(store), only_missing_outputs=True)

    assert runner.seen == [(("alpha",), [])]


@needs_only_missing_outputs
def test_only_missing_outputs_unnamed_pipeline_stays_unnamed() -> None:
    runner = recording(SequentialRunner)()
    store: dict[str, Any] = {"d0": "kept"}

    runner.run(chain_pipeline(), catalog_over(store), only_missing_outputs=True)

    assert runner.seen == [((), ["n1", "ns.n2"])]


@pytest.mark.skipif(
    not hasattr(AbstractRunner, "run_only_missing"),
    reason="this Kedro has no AbstractRunner.run_only_missing (removed in 1.0)",
)
def test_run_only_missing_keeps_names() -> None:
    from kedro.framework.hooks.manager import _NullPluginManager

    runner = recording(SequentialRunner)()
    store: dict[str, Any] = {"d0": "kept"}

    runner.run_only_missing(
        chain_pipeline("alpha"), catalog_over(store), _NullPluginManager()
    )

    assert runner.seen == [(("alpha",), ["n1", "ns.n2"])]
