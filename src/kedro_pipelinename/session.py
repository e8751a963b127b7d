"""Stamping: where a pipeline learns which registered pipeline it is.

Kedro's sessions (``KedroSession.run`` and, where it exists,
``KedroServiceSession.run``) build the pipeline they run by reading
``kedro.framework.project.pipelines[name]`` for each requested name (or
``"__default__"``), adding them up and filtering. So stamping happens at the one
place every session, CLI command and plugin reads registered pipelines: the
registry hands out pipelines named by their key, and the algebra in
``pipeline.py`` carries the names through ``+`` and ``filter`` to the hooks and
the runner.

The registry never renames the registered object itself: with Kedro 1.5+'s
selective loading ``__default__ = sum(pipelines.values())`` can be the *same*
object as ``alpha``, and each key must see only its own name. It hands out a
named shallow copy instead, cached per registered object so that
``pipelines["x"] is pipelines["x"]`` stays true as in stock Kedro.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, ItemsView, Iterator, ValuesView
from typing import Any, Final

from kedro.pipeline import Pipeline

from ._patching import PATCHES
from .pipeline import RUNNER_RULES, names_of, patched_operation, with_names

_named_copies: Final[weakref.WeakKeyDictionary[Pipeline, dict[str, Pipeline]]] = (
    weakref.WeakKeyDictionary()
)
_named_copies_lock: Final = threading.Lock()


def named_for_key(key: object, pipeline: Any) -> Any:
    """The registered ``pipeline`` as seen under ``key``: named ``key``."""
    if not isinstance(pipeline, Pipeline) or not isinstance(key, str) or not key:
        return pipeline
    if names_of(pipeline) == (key,):
        return pipeline
    with _named_copies_lock:
        by_key = _named_copies.setdefault(pipeline, {})
        named = by_key.get(key)
        # A caller may have renamed the copy it was handed (``pipelines["x"].name =
        # ...``); the key must still hand out a pipeline named by the key.
        if named is None or names_of(named) != (key,):
            named = by_key[key] = with_names(pipeline, (key,))
        return named


def _patched_getitem(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched(self: Any, key: Any) -> Any:
        pipeline = original(self, key)
        return named_for_key(key, pipeline) if PATCHES.active else pipeline

    return patched


def patches() -> Iterator[tuple[type, str, object]]:
    """``(owner, attribute, replacement)`` for the registry and runner patches."""
    from kedro.framework.project import _ProjectPipelines
    from kedro.runner import AbstractRunner

    registry = _ProjectPipelines
    yield registry, "__getitem__", _patched_getitem(registry.__getitem__)
    original_items = registry.items
    original_values = registry.values

    @functools.wraps(original_items)
    def patched_items(self: Any) -> ItemsView[Any, Any]:
        if not PATCHES.active:
            return original_items(self)  # type: ignore[no-any-return]
        return {k: named_for_key(k, v) for k, v in original_items(self)}.items()

    @functools.wraps(original_values)
    def patched_values(self: Any) -> ValuesView[Any]:
        if not PATCHES.active:
            return original_values(self)  # type: ignore[no-any-return]
        return {k: named_for_key(k, v) for k, v in original_items(self)}.values()

    yield registry, "items", patched_items
    yield registry, "values", patched_values

    # Methods missing from the installed Kedro (0.19 has no missing-outputs
    # filter) are skipped: feature detection, not version numbers.
    for method, rule in RUNNER_RULES.items():
        if method in AbstractRunner.__dict__:
            yield (
                AbstractRunner,
                method,
                patched_operation(getattr(AbstractRunner, method), rule),
            )
