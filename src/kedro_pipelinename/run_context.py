"""``RunContext`` and ``current_run()``: everything that defines a running run.

While a session runs, ``current_run()`` returns an immutable ``RunContext``: the
registered pipeline names, env, conf source, runtime params, node filters, load
versions, run id, project path, Kedro version. ``build_run_command`` turns it (with a
pipeline and nodes) into the ``kedro run`` argv that reproduces part of the run in
another process.

The context lives in a ``contextvars.ContextVar`` set by a patch of
``KedroSession.run`` (and ``KedroServiceSession.run``, Kedro 1.5+) and reset in
``finally``, so nested and sequential sessions in one process each see their own
run, and a failed run leaves nothing behind. ``ThreadPoolExecutor`` does not copy
the submitting thread's context into its workers (Python 3.10 to 3.13, every Kedro
of the matrix), so ``ThreadRunner``'s executor is patched to submit every node in a
copy of the runner's context.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import inspect
import logging
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final, cast

from attrs import define, field, validators

from ._patching import PATCHES
from .run_id import RUN_ID_ENV_VAR, run_id_from_environment

logger = logging.getLogger(__name__)

_CURRENT_RUN: Final[ContextVar[RunContext | None]] = ContextVar(
    "kedro_pipelinename_current_run", default=None
)


class FrozenMapping(Mapping[str, Any]):
    """A read-only deep copy of a mapping; equal to a ``dict`` with the same items.

    Nested mappings are frozen too; lists and other values are deep-copied, so
    nothing the caller holds can change the context afterwards.
    """

    __slots__ = ("_items",)
    _items: dict[str, Any]

    def __init__(self, items: Mapping[Any, Any] | None = None) -> None:
        frozen = {
            key: FrozenMapping(value)
            if isinstance(value, Mapping)
            else copy.deepcopy(value)
            for key, value in (items or {}).items()
        }
        object.__setattr__(self, "_items", frozen)

    def __setattr__(self, name: str, value: Any) -> None:
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

    def __reduce__(self) -> tuple[Any, ...]:
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


def _string_keys(instance: object, attribute: Any, value: Mapping[Any, Any]) -> None:
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        raise TypeError(
            f"RunContext.{attribute.name} keys must be strings, got {bad!r}. Kedro's "
            f"parameters and dataset names are strings."
        )


def _non_empty(instance: object, attribute: Any, value: str) -> None:
    if not value:
        raise ValueError(f"RunContext.{attribute.name} must not be empty.")


def _installed_kedro_version() -> str:
    from .versions import installed_kedro_version

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
    return _CURRENT_RUN.get()


# --- building the context from a session ---------------------------------------


def _tuple_of(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(cast("Iterable[str]", value))


def _pipeline_names(arguments: Mapping[str, Any]) -> tuple[str, ...]:
    # Kedro 1.2+ takes pipeline_names; every version takes pipeline_name (a
    # deprecated alias from 1.2 on) and uses it when given.
    single = arguments.get("pipeline_name")
    names = [single] if single else list(arguments.get("pipeline_names") or [])
    return tuple(dict.fromkeys(names)) or ("__default__",)


def _configured_conf_source(session: Any, project_path: Path) -> str | None:
    """``None`` when the session reads the project's default ``conf/``.

    Kedro stores ``conf_source or <project>/<settings.CONF_SOURCE>``, so the
    default is recognised by value: an absolute path of this machine must not
    travel into a command that runs on another.
    """
    configured = getattr(session, "_conf_source", None)
    if configured is None:
        return None
    from kedro.framework.project import settings

    default = str(project_path / settings.CONF_SOURCE)
    return None if str(configured) == default else str(configured)


def _context_of_session(
    session: Any, arguments: Mapping[str, Any], run_id: str
) -> RunContext:
    project_path = Path(getattr(session, "_project_path", Path.cwd()))
    store: Mapping[str, Any] = getattr(session, "store", None) or {}
    if "runtime_params" in arguments:  # KedroServiceSession: per run
        runtime_params = arguments.get("runtime_params")
        env = getattr(session, "env", None)
    else:  # KedroSession: per session; 0.19 stores them as "extra_params"
        runtime_params = store.get("runtime_params", store.get("extra_params"))
        env = store.get("env")
    return RunContext(
        pipeline_names=_pipeline_names(arguments),
        env=env or None,
        conf_source=_configured_conf_source(session, project_path),
        runtime_params=runtime_params or {},
        tags=_tuple_of(arguments.get("tags")),
        node_names=_tuple_of(arguments.get("node_names")),
        # Kedro 0.19 takes one ``namespace``; 1.0+ ``namespaces``.
        namespaces=_tuple_of(arguments.get("namespaces") or arguments.get("namespace")),
        from_nodes=_tuple_of(arguments.get("from_nodes")),
        to_nodes=_tuple_of(arguments.get("to_nodes")),
        from_inputs=_tuple_of(arguments.get("from_inputs")),
        to_outputs=_tuple_of(arguments.get("to_outputs")),
        load_versions=dict(arguments.get("load_versions") or {}),
        run_id=run_id,
        project_path=project_path.as_posix(),
        kedro_version=_installed_kedro_version(),
        only_missing_outputs=bool(arguments.get("only_missing_outputs", False)),
    )


def _patched_run(original: Callable[..., Any]) -> Callable[..., Any]:
    """``KedroSession.run`` / ``KedroServiceSession.run`` setting ``current_run()``."""
    signature = inspect.signature(original)
    takes_run_id = "run_id" in signature.parameters

    @functools.wraps(original)
    def patched_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not PATCHES.active:
            return original(self, *args, **kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:  # let Kedro report the bad call in its own words
            return original(self, *args, **kwargs)
        if takes_run_id:
            # KedroServiceSession (1.5+) makes a run id per run when none is passed;
            # make it here so the context knows it, from the environment if set.
            if not bound.arguments.get("run_id"):
                from kedro.io.core import generate_timestamp

                bound.arguments["run_id"] = (
                    run_id_from_environment() or generate_timestamp()
                )
            run_id = bound.arguments["run_id"]
        else:
            run_id = self.session_id
        try:
            context: RunContext | None = _context_of_session(
                self, bound.arguments, str(run_id)
            )
        except Exception:
            # Never fail a run Kedro accepts (say, runtime params with int keys)
            # because it cannot be described; current_run() is None for it.
            logger.warning(
                "kedro_pipelinename could not describe this run; current_run() "
                "will be None during it.",
                exc_info=True,
            )
            context = None
        token = _CURRENT_RUN.set(context)
        try:
            return original(*bound.args, **bound.kwargs)
        finally:
            _CURRENT_RUN.reset(token)

    return patched_run


# --- ThreadRunner: node threads see the run ---------------------------------------


def _patched_get_executor(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched_get_executor(self: Any, *args: Any, **kwargs: Any) -> Any:
        executor = original(self, *args, **kwargs)
        if PATCHES.active and isinstance(executor, ThreadPoolExecutor):
            _submit_in_caller_context(executor)
        return executor

    return patched_get_executor


def _submit_in_caller_context(executor: Executor) -> None:
    """Make ``executor.submit`` run each call in a copy of the caller's context.

    A copy per call: one ``Context`` cannot be entered by two threads at once.
    """
    original_submit = executor.submit

    def submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return original_submit(contextvars.copy_context().run, fn, *args, **kwargs)

    executor.submit = submit  # type: ignore[method-assign]


# --- resume hint -------------------------------------------------------------------


def resume_hint(argv: list[str], run_id: str) -> str:
    """The shell line that resumes a run: the run id, then ``argv``, quoted.

    Args:
        argv: A command from ``build_resume_command``.
        run_id: The run id the resumed run must share with the failed one.

    Returns:
        ``KEDRO_PIPELINENAME_RUN_ID=<run_id> kedro run ...`` quoted for a POSIX shell.
    """
    return f"{RUN_ID_ENV_VAR}={shlex.quote(run_id)} {shlex.join(argv)}"


def _patched_suggest_resume(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched_suggest_resume_scenario(
        self: Any,
        pipeline: Any,
        done_nodes: Any,
        catalog: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        result = original(self, pipeline, done_nodes, catalog, *args, **kwargs)
        context = current_run()
        if PATCHES.active and context is not None:
            try:
                _log_resume_command(pipeline, done_nodes, catalog, context)
            except Exception:  # the hint must never hide the run's own error
                logger.debug("Could not build the resume command", exc_info=True)
        return result

    return patched_suggest_resume_scenario


def _log_resume_command(
    pipeline: Any, done_nodes: Any, catalog: Any, context: RunContext
) -> None:
    from .command import RunCommandError, build_resume_command, build_run_command

    done = list(done_nodes or ())
    try:
        if done:
            from kedro.runner import runner as runner_module

            remaining = set(pipeline.nodes) - set(done)
            start = runner_module._find_nodes_to_resume_from(
                pipeline=pipeline, unfinished_nodes=remaining, catalog=catalog
            )
            argv = build_resume_command(pipeline, sorted(start), context=context)
        else:
            argv = build_run_command(pipeline, context=context)
    except RunCommandError as error:
        logger.warning("No full resume command for this run: %s", error)
        return
    logger.warning(
        "To resume this run with its pipelines, env, params and run id, run:\n  %s",
        resume_hint(argv, context.run_id),
    )


def patches() -> Iterator[tuple[type, str, object]]:
    """``(owner, attribute, replacement)`` for the run-context patches."""
    from kedro.framework import session as session_package
    from kedro.runner import AbstractRunner, ThreadRunner

    # KedroServiceSession exists from Kedro 1.5 on.
    for class_name in ("KedroSession", "KedroServiceSession"):
        session_class = getattr(session_package, class_name, None)
        if isinstance(session_class, type) and "run" in session_class.__dict__:
            yield session_class, "run", _patched_run(session_class.__dict__["run"])
    if "_get_executor" in ThreadRunner.__dict__:
        yield (
            ThreadRunner,
            "_get_executor",
            _patched_get_executor(ThreadRunner.__dict__["_get_executor"]),
        )
    if "_suggest_resume_scenario" in AbstractRunner.__dict__:
        yield (
            AbstractRunner,
            "_suggest_resume_scenario",
            _patched_suggest_resume(
                AbstractRunner.__dict__["_suggest_resume_scenario"]
            ),
        )
