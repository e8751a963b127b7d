"""Stamping: where a pipeline learns which registered pipeline it is.

Two places, and nowhere else:

1. **The registry names its own objects, in place.** When
   ``kedro.framework.project.pipelines`` loads what ``register_pipelines()``
   returned (and on ``pipelines[key] = p``), each registered ``Pipeline`` gets
   its key added to its names. Lookups are untouched: ``pipelines[key]``,
   ``.get``, ``.items()``, ``.values()`` and ``dict(pipelines)`` hand out the very
   objects ``register_pipelines()`` returned, as in stock Kedro, so code that
   compares or caches pipelines by identity keeps working. An object registered
   under several keys (Kedro 1.5+'s selective loading can make ``__default__``
   the same object as ``alpha``) knows every one of them, and a name its author
   set is kept: names only ever grow by a key.
2. **The session names the run's pipeline exactly.** Every supported session
   builds the run's pipeline from the registry and calls ``.filter(...)`` on it
   once, in ``run`` itself; the pipeline that call returns is what
   ``before_pipeline_run``, the runner, ``after_pipeline_run`` and
   ``on_pipeline_error`` receive. That one result is named after the requested
   pipelines (``--pipelines a,b`` -> ``("a", "b")``, none -> ``("__default__",)``),
   whatever else its registered objects are also registered as.

The algebra in ``pipeline.py`` carries the names from there through every
operation, and the runner's missing-outputs filter (Kedro 1.0+) keeps them.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from kedro.pipeline import Pipeline

from .patching import PATCHES, bind_call
from .pipeline import (
    RUN_NAMES,
    RUNNER_RULES,
    SESSION_RUN_CODES,
    names_of,
    patched_operation,
    set_names,
)

if TYPE_CHECKING:
    from types import ModuleType

    from kedro.framework.project import _ProjectPipelines
    from kedro.framework.session import KedroSession

_stamp_lock: Final = threading.Lock()


def requested_names(arguments: Mapping[str, Any]) -> tuple[str, ...]:
    """The pipelines a session's ``run`` was asked for, in the order given.

    Kedro 1.2+ takes ``pipeline_names``; every version takes ``pipeline_name`` (a
    deprecated alias from 1.2 on) and uses it when given; neither means
    ``__default__``.

    Args:
        arguments: The bound arguments of ``KedroSession.run`` (or
            ``KedroServiceSession.run``).

    Returns:
        The de-duplicated names, ``("__default__",)`` when none were requested.
    """
    single = arguments.get("pipeline_name")
    names = [single] if single else list(arguments.get("pipeline_names") or [])
    return tuple(dict.fromkeys(names)) or ("__default__",)


def stamp_key(key: object, pipeline: object) -> None:
    """Add registry ``key`` to the names of the registered ``pipeline``, in place.

    Idempotent; a non-pipeline value or a key that is no name is left alone.
    """
    if not isinstance(pipeline, Pipeline) or not isinstance(key, str) or not key:
        return
    with _stamp_lock:
        names = names_of(pipeline)
        if key not in names:
            set_names(pipeline, (*names, key))


def stamp_registered(content: Mapping[str, Pipeline]) -> None:
    """Stamp every ``key -> pipeline`` of a freshly loaded registry."""
    for key, pipeline in list(content.items()):
        stamp_key(key, pipeline)


def _patched_load_data(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched_load_data(self: _ProjectPipelines, *args: Any, **kwargs: Any) -> Any:
        was_loaded = getattr(self, "_is_data_loaded", False)
        result = original(self, *args, **kwargs)
        # Every lookup calls _load_data; only a load that just happened stamps
        # (an unconfigured registry never loads: its keys were stamped as set).
        just_loaded = not was_loaded and bool(getattr(self, "_is_data_loaded", True))
        if PATCHES.active and just_loaded:
            stamp_registered(getattr(self, "_content", None) or {})
        return result

    return patched_load_data


def _patched_setitem(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched_setitem(self: _ProjectPipelines, key: str, value: Pipeline) -> Any:
        result = original(self, key, value)
        if PATCHES.active:
            stamp_key(key, value)
        return result

    return patched_setitem


def _patched_session_run(original: Callable[..., Any]) -> Callable[..., Any]:
    """``run`` that tells ``filter`` which names the run asked for.

    Also ``KedroServiceSession.run`` (Kedro 1.5+), which ``self`` may be.
    """
    signature = inspect.signature(original)

    @functools.wraps(original)
    def patched_run(self: KedroSession, *args: Any, **kwargs: Any) -> Any:
        bound = bind_call(signature, self, *args, **kwargs)
        if bound is None:
            return original(self, *args, **kwargs)
        token = RUN_NAMES.set(tuple(sorted(set(requested_names(bound.arguments)))))
        try:
            return original(self, *args, **kwargs)
        finally:
            RUN_NAMES.reset(token)

    return patched_run


def patches() -> Iterator[tuple[type, str, object]]:
    """``(owner, attribute, replacement)`` for the registry, session and runner."""
    from kedro.framework import session as session_package
    from kedro.framework.project import _ProjectPipelines
    from kedro.runner import AbstractRunner

    registry = _ProjectPipelines
    yield registry, "_load_data", _patched_load_data(registry._load_data)
    yield registry, "__setitem__", _patched_setitem(registry.__setitem__)

    # KedroServiceSession exists from Kedro 1.5 on: feature detection.
    for session_class in _session_classes(session_package):
        run = session_class.__dict__["run"]
        SESSION_RUN_CODES.add(inspect.unwrap(run).__code__)
        yield session_class, "run", _patched_session_run(run)

    # Methods missing from the installed Kedro (0.19 has no missing-outputs
    # filter) are skipped: feature detection, not version numbers.
    for method, rule in RUNNER_RULES.items():
        if method in AbstractRunner.__dict__:
            yield (
                AbstractRunner,
                method,
                patched_operation(getattr(AbstractRunner, method), rule),
            )


def _session_classes(session_package: ModuleType) -> Iterable[type]:
    for class_name in ("KedroSession", "KedroServiceSession"):
        session_class = getattr(session_package, class_name, None)
        if isinstance(session_class, type) and "run" in session_class.__dict__:
            yield session_class
