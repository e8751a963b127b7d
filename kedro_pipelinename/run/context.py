"""``RunContext`` and ``current_run()``: everything that defines a running run.

While a session runs, ``current_run()`` returns an immutable ``RunContext``: the
registered pipeline names, env, conf source, runtime params, node filters, load
versions, run id, project path, Kedro version. ``build_run_command`` turns it (with a
pipeline and nodes) into the ``kedro run`` argv that reproduces part of the run in
another process.

The context lives in a ``contextvars.ContextVar`` that the patches in
``tracking.py`` set while a session runs. This module is the value layer and is
imported on first use, not by ``import kedro_pipelinename``: defining these classes
is most of the package's import cost (``tests/benchmarks/bench_import.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define, field, validators

from .state import CURRENT_RUN

if TYPE_CHECKING:
    from attrs import Attribute


class FrozenMapping(Mapping[str, Any]):
    """A read-only deep copy of a mapping; equal to a ``dict`` with the same items.

    Nested mappings are frozen too; lists and other values are deep-copied, so
    nothing the caller holds can change the context afterwards.
    """

    __slots__ = ("_items",)
    _items: dict[str, Any]

    def __init__(self, items: Mapping[str, object] | None = None) -> None:
        frozen = {
            key: FrozenMapping(value)
            if isinstance(value, Mapping)
            else copy.deepcopy(value)
            for key, value in (items or {}).items()
        }
        object.__setattr__(self, "_items", frozen)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FrozenMapping is read-only")

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        # The keys only: equal mappings (``==`` as for dicts) must hash alike, and
        # values may be unhashable lists.
        return hash(frozenset(self._items))

    def __repr__(self) -> str:
        return repr(self.to_dict())

    def __reduce__(self) -> tuple[type[FrozenMapping], tuple[dict[str, Any]]]:
        return (FrozenMapping, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable deep copy (nested mappings become ``dict``)."""
        return {
            key: value.to_dict()
            if isinstance(value, FrozenMapping)
            else copy.deepcopy(value)
            for key, value in self._items.items()
        }


def _to_names(value: object) -> tuple[str, ...]:
    """``None`` -> ``()``; an iterable of names -> a tuple; a lone string rejected.

    A bare string is refused rather than split into characters (``tags="a"`` would
    otherwise become ``("a",)`` by luck and ``tags="ab"`` ``("a", "b")``).
    """
    if value is None:
        return ()
    if isinstance(value, str):
        raise TypeError(
            f"Expected a sequence of names, got the string {value!r}; wrap it in a "
            f"tuple: ({value!r},)."
        )
    if not isinstance(value, Iterable):
        raise TypeError(f"Expected a sequence of names, got {value!r}.")
    return tuple(value)


def _to_frozen_mapping(value: object) -> FrozenMapping:
    if value is None:
        return FrozenMapping()
    if isinstance(value, FrozenMapping):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"Expected a mapping, got {type(value).__name__}: {value!r}.")
    return FrozenMapping(value)


def _names_field() -> Any:
    return field(
        factory=tuple,
        converter=_to_names,
        validator=validators.deep_iterable(validators.instance_of(str)),
    )


#: The type of a mapping field (``runtime_params``, ``load_versions``).
_M = TypeVar("_M", bound=Mapping[str, object])


def _string_keys(instance: object, attribute: Attribute[_M], value: _M) -> None:
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        raise TypeError(
            f"RunContext.{attribute.name} keys must be strings, got {bad!r}. Kedro's "
            f"parameters and dataset names are strings."
        )


def _non_empty(instance: object, attribute: Attribute[str], value: str) -> None:
    if not value:
        raise ValueError(f"RunContext.{attribute.name} must not be empty.")


def _installed_kedro_version() -> str:
    from ..names.versions import installed_kedro_version

    return installed_kedro_version()


@define(frozen=True, kw_only=True)
class RunContext:
    """Everything that defines one Kedro run, as the session received it.

    Attributes:
        pipeline_names: The registered pipelines the run ran (``("__default__",)``
            when none was named).
        env: The Kedro environment (``--env`` or ``KEDRO_ENV``), ``None`` for the
            default.
        conf_source: ``--conf-source``, or ``None`` for the project's ``conf/``.
        runtime_params: ``--params`` exactly as given (a read-only deep copy).
        tags: ``--tags``.
        node_names: ``--nodes``.
        namespaces: ``--namespaces`` (``--namespace`` before Kedro 1.0).
        from_nodes: ``--from-nodes``.
        to_nodes: ``--to-nodes``.
        from_inputs: ``--from-inputs``.
        to_outputs: ``--to-outputs``.
        load_versions: ``--load-versions``: dataset name -> version.
        run_id: The session id (the save version of versioned datasets); for a
            ``KedroServiceSession`` the id of this run.
        project_path: The project root, as a POSIX path.
        kedro_version: The Kedro that ran the session.
        only_missing_outputs: ``--only-missing-outputs`` (Kedro 1.0+).

    Example:
        >>> context = RunContext(
        ...     pipeline_names=("train",),
        ...     runtime_params={"model": {"alpha": 0.1}},
        ...     run_id="2024-01-15T10.30.00.000Z",
        ... )
        >>> context.runtime_params == {"model": {"alpha": 0.1}}
        True
    """

    run_id: str = field(validator=[validators.instance_of(str), _non_empty])
    pipeline_names: tuple[str, ...] = _names_field()
    env: str | None = field(
        default=None, validator=validators.optional(validators.instance_of(str))
    )
    conf_source: str | None = field(
        default=None, validator=validators.optional(validators.instance_of(str))
    )
    runtime_params: Mapping[str, Any] = field(
        factory=FrozenMapping, converter=_to_frozen_mapping, validator=_string_keys
    )
    tags: tuple[str, ...] = _names_field()
    node_names: tuple[str, ...] = _names_field()
    namespaces: tuple[str, ...] = _names_field()
    from_nodes: tuple[str, ...] = _names_field()
    to_nodes: tuple[str, ...] = _names_field()
    from_inputs: tuple[str, ...] = _names_field()
    to_outputs: tuple[str, ...] = _names_field()
    load_versions: Mapping[str, str] = field(
        factory=FrozenMapping,
        converter=_to_frozen_mapping,
        validator=[
            _string_keys,
            validators.deep_mapping(
                key_validator=validators.instance_of(str),
                value_validator=validators.instance_of(str),
            ),
        ],
    )
    project_path: str = field(default="", validator=validators.instance_of(str))
    kedro_version: str = field(
        factory=_installed_kedro_version, validator=validators.instance_of(str)
    )
    only_missing_outputs: bool = field(
        default=False, validator=validators.instance_of(bool)
    )


def current_run() -> RunContext | None:
    """The context of the run this code executes in, or ``None`` outside a run.

    Set for the duration of ``KedroSession.run`` (and ``KedroServiceSession.run``)
    in the thread that calls it and in ``ThreadRunner``'s node threads; cleared
    afterwards, also when the run fails. Nested sessions see their own run and
    restore the outer one when they end.

    Returns:
        The ``RunContext`` of the innermost running session, or ``None``.

    Example:
        >>> from kedro.framework.hooks import hook_impl
        >>> class RecordRun:
        ...     @hook_impl
        ...     def before_node_run(self, node):
        ...         run = current_run()
        ...         print(node.name, run.pipeline_names, run.run_id)
    """
    context: RunContext | None = CURRENT_RUN.get()
    return context
