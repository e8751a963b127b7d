"""How pipeline names flow through ``Pipeline`` operations.

A pipeline's *names* are the sorted, de-duplicated registered pipeline names it
derives from. Every operation computes its result with Kedro's own code; the
wrapper then attaches the result's names by the one rule for that operation,
taken from ``RULES``. The rules are the whole algebra:

======================================  =======================================
operation                               names of the result
======================================  =======================================
``Pipeline(p, ...)``, ``pipeline(p)``   ``names(p)``
``Pipeline([p1, p2, node])``            union of the component pipelines' names
``filter`` and the ``only_*`` /         ``names(self)``
``from_*`` / ``to_*`` / ``tag`` family
``a + b``, ``a | b``, ``sum(...)``      ``names(a) | names(b)``
``a - b``                               ``names(a)``
``a & b``                               ``names(a)``, else ``names(b)``
======================================  =======================================

Names never take part in ``==`` or ``hash``.
"""

from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from types import CodeType
from typing import Any, Final

from kedro.pipeline import Pipeline

from .patching import PATCHES

#: Instance attribute holding the names; absent means "no names", so stock
#: pipelines pay nothing and pickles from unpatched processes load unchanged.
NAMES_ATTR: Final = "_kedro_pipelinename_names"

#: A Kedro with ``patches/`` applied has ``Pipeline.names`` of its own; read before
#: ``install()`` can add ours (this module is imported first), and then ``names_of``
#: reads Kedro's own names, as ``install()`` leaves ``Pipeline`` alone.
_NATIVE_NAMES: Final = isinstance(Pipeline.__dict__.get("names"), property)

Names = tuple[str, ...]
Rule = Callable[..., Names]


def names_of(obj: object) -> Names:
    """The names of ``obj`` if it is a named pipeline, else ``()``.

    Unlike ``obj.names`` this never raises, so it also works where the patch is
    not installed or ``obj`` is not a pipeline.

    Args:
        obj: Anything.

    Returns:
        The sorted, de-duplicated names, or ``()``.

    Example:
        >>> from kedro.pipeline import Pipeline
        >>> p = Pipeline([])
        >>> p.name = "train"
        >>> names_of(p), names_of(None)
        (('train',), ())
    """
    names: Names | None = getattr(obj, NAMES_ATTR, None)
    if names is None and _NATIVE_NAMES and isinstance(obj, Pipeline):
        names = tuple(obj.names)  # type: ignore[attr-defined]
    return names or ()


def normalise_names(names: Iterable[str]) -> Names:
    """Sorted and de-duplicated, the one canonical form of a set of names."""
    return tuple(sorted(set(names)))


def join_names(names: Names) -> str | None:
    """The single ``name`` for ``names``: joined by ``,`` as ``--pipelines`` takes."""
    return ",".join(names) if names else None


def validate_name(value: object, *, source: str = "Pipeline.name") -> str:
    """Check one pipeline name given by a user.

    Args:
        value: The proposed name.
        source: Where the value came from, for the error message.

    Returns:
        ``value``, unchanged.

    Raises:
        TypeError: When ``value`` is not a string.
        ValueError: When ``value`` is empty or only whitespace.
    """
    if not isinstance(value, str):
        raise TypeError(
            f"{source} must be a str or None, got {type(value).__name__}: {value!r}."
        )
    if not value.strip():
        raise ValueError(
            f"{source} must not be empty or whitespace, got {value!r}. Use None to "
            f"clear the name."
        )
    return value


def set_names(pipeline: Pipeline, names: Iterable[str]) -> None:
    """Set the names of ``pipeline`` in place (for freshly built pipelines only)."""
    normalised = normalise_names(names)
    if normalised:
        setattr(pipeline, NAMES_ATTR, normalised)
    else:
        pipeline.__dict__.pop(NAMES_ATTR, None)


def with_names(pipeline: Pipeline, names: Iterable[str]) -> Pipeline:
    """``pipeline`` carrying ``names``, never changing an object someone else holds.

    Returns ``pipeline`` itself when it already has exactly these names, otherwise a
    shallow copy (cheap: the node structures are shared, as Kedro never mutates
    them) with the names set.
    """
    normalised = normalise_names(names)
    if names_of(pipeline) == normalised:
        return pipeline
    named = copy.copy(pipeline)
    set_names(named, normalised)
    return named


# --- the rules -------------------------------------------------------------------


def _names_of_self(self: Pipeline, *args: Any, **kwargs: Any) -> Names:
    return names_of(self)


#: The names a running session asked for; set by the session patch (stamping.py).
RUN_NAMES: Final[ContextVar[Names | None]] = ContextVar(
    "kedro_pipelinename_run_names", default=None
)

#: The code objects of Kedro's own session ``run`` methods (filled by stamping.py):
#: a ``filter`` called straight from one of them builds the run's pipeline.
SESSION_RUN_CODES: Final[set[CodeType]] = set()


def _names_of_self_or_run(self: Pipeline, *args: Any, **kwargs: Any) -> Names:
    """``filter``: ``names(self)``, but the session's own call names the run.

    Every supported session builds the run's pipeline from the registry and calls
    ``filter`` on it once, in ``run`` itself; what that call returns is what the
    hooks and the runner receive, so it carries exactly the requested names even
    when a registered object is also registered under other keys.
    """
    requested = RUN_NAMES.get()
    # Frame 0 is this rule, 1 the ``filter`` wrapper, 2 its caller.
    if requested is not None and sys._getframe(2).f_code in SESSION_RUN_CODES:
        return requested
    return names_of(self)


def _union(self: Pipeline, other: object) -> Names:
    return normalise_names(names_of(self) + names_of(other))


def _left(self: Pipeline, other: object) -> Names:
    return names_of(self)


def _left_else_right(self: Pipeline, other: object) -> Names:
    return names_of(self) or names_of(other)


#: Operation -> rule. Methods missing from the installed Kedro are skipped (for
#: example ``only_nodes_with_namespace`` became ``only_nodes_with_namespaces`` in 1.0).
RULES: Final[dict[str, Rule]] = {
    "filter": _names_of_self_or_run,
    "only_nodes": _names_of_self,
    "only_nodes_with_namespace": _names_of_self,
    "only_nodes_with_namespaces": _names_of_self,
    "only_nodes_with_inputs": _names_of_self,
    "only_nodes_with_outputs": _names_of_self,
    "from_inputs": _names_of_self,
    "to_outputs": _names_of_self,
    "from_nodes": _names_of_self,
    "to_nodes": _names_of_self,
    "only_nodes_with_tags": _names_of_self,
    "tag": _names_of_self,
    "__add__": _union,
    "__radd__": _union,
    "__or__": _union,
    "__sub__": _left,
    "__and__": _left_else_right,
}


def _names_of_pipeline_argument(runner: object, pipeline: object, *args: Any) -> Names:
    return names_of(pipeline)


#: Runner method -> rule: Kedro's own pipelines derived inside runners. Kedro 1.0+
#: runners drop nodes whose outputs exist for ``--only-missing-outputs`` and
#: return a fresh ``Pipeline([])`` when nothing is left; both keep the names of
#: the pipeline they were given.
RUNNER_RULES: Final[dict[str, Rule]] = {
    "_filter_pipeline_for_missing_outputs": _names_of_pipeline_argument,
}


def names_of_components(nodes: object) -> Names:
    """Names that ``Pipeline(nodes)`` inherits from the pipelines in ``nodes``."""
    if isinstance(nodes, Pipeline):
        return names_of(nodes)
    if not isinstance(nodes, Iterable):
        return ()
    found: list[str] = []
    for item in nodes:
        if isinstance(item, Pipeline):
            found.extend(names_of(item))
    return normalise_names(found)


# --- wrappers --------------------------------------------------------------------


def patched_operation(original: Callable[..., Any], rule: Rule) -> Callable[..., Any]:
    """Wrap a ``Pipeline`` method so its result carries the names ``rule`` gives."""

    @functools.wraps(original)
    def patched(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if not PATCHES.active or not isinstance(result, Pipeline):
            return result
        names = rule(self, *args, **kwargs)
        if result is self or any(result is arg for arg in args):
            # ``0 + p`` returns ``p`` itself: never rename an object the caller holds.
            return with_names(result, names)
        set_names(result, names)
        return result

    return patched


def patched_init(original: Callable[..., None]) -> Callable[..., None]:
    """Wrap ``Pipeline.__init__``: a pipeline built from pipelines keeps their names."""

    @functools.wraps(original)
    def patched(self: Pipeline, *args: Any, **kwargs: Any) -> None:
        if not PATCHES.active:
            original(self, *args, **kwargs)
            return
        if args:
            nodes = args[0]
            if isinstance(nodes, Iterator):  # a generator can be read only once
                nodes = list(nodes)
                args = (nodes, *args[1:])
        else:
            nodes = kwargs.get("nodes")
            if isinstance(nodes, Iterator):
                nodes = kwargs["nodes"] = list(nodes)
        original(self, *args, **kwargs)
        names = names_of_components(nodes)
        if names:
            setattr(self, NAMES_ATTR, names)

    return patched


def patched_repr(original: Callable[[Pipeline], str]) -> Callable[[Pipeline], str]:
    """Wrap ``Pipeline.__repr__`` to show the name, as Kedro's own docstring does."""

    @functools.wraps(original)
    def patched(self: Pipeline) -> str:
        text = original(self)
        name = join_names(names_of(self))
        if name is None or not PATCHES.active or not text.endswith(")"):
            return text
        return f"{text[:-1]}, name={name!r})"

    return patched


def _get_names(self: Pipeline) -> Names:
    return names_of(self)


def _get_name(self: Pipeline) -> str | None:
    return join_names(names_of(self))


def _set_name(self: Pipeline, value: str | None) -> None:
    if value is None:
        set_names(self, ())
    else:
        set_names(self, (validate_name(value),))


_NAMES_DOC = """The sorted, de-duplicated registered pipeline names this pipeline
derives from; ``()`` when it derives from none."""

_NAME_DOC = """The registered pipeline name(s) this pipeline derives from, joined by
``,`` (the value ``kedro run --pipelines`` takes), or ``None``. Settable; set
``None`` to clear."""


def patches() -> Iterator[tuple[type, str, object]]:
    """``(owner, attribute, replacement)`` for every ``Pipeline`` patch."""
    yield Pipeline, "__init__", patched_init(Pipeline.__init__)
    yield Pipeline, "__repr__", patched_repr(Pipeline.__repr__)
    for method, rule in RULES.items():
        if method in Pipeline.__dict__:
            yield Pipeline, method, patched_operation(getattr(Pipeline, method), rule)
    yield Pipeline, "names", property(_get_names, doc=_NAMES_DOC)
    name_property = property(_get_name, _set_name, doc=_NAME_DOC)
    yield Pipeline, "name", name_property
    yield Pipeline, "pipeline_name", name_property
