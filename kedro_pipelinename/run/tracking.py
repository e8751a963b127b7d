"""The run-context patches: ``current_run()`` is set while a session runs.

A patch of ``KedroSession.run`` (and ``KedroServiceSession.run``, Kedro 1.5+) sets
a ``contextvars.ContextVar`` and resets it in ``finally``, so nested and sequential
sessions in one process each see their own run, and a failed run leaves nothing
behind. ``ThreadPoolExecutor`` does not copy the submitting thread's context into
its workers (Python 3.10 to 3.13, every Kedro of the matrix), so ``ThreadRunner``'s
executor is patched to submit every node in a copy of the runner's context. A
failed run logs the full command that resumes it.

Kept apart from ``context.py`` (the ``RunContext`` value), which is imported
only when a run starts, so that ``import kedro_pipelinename`` stays cheap.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from ..names.logs import logger_for
from ..names.patching import PATCHES, bind_call
from ..names.stamping import requested_names
from .run_id import run_id_from_environment
from .state import CURRENT_RUN

if TYPE_CHECKING:
    from concurrent.futures import Future

    from kedro.framework.context import KedroContext
    from kedro.framework.session import KedroSession
    from kedro.runner import ThreadRunner

    from .context import RunContext

logger = logger_for(__name__)


# --- building the context from a session ---------------------------------------


def _tuple_of(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(cast("Iterable[str]", value))


def _configured_conf_source(session: KedroSession, project_path: Path) -> str | None:
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
    session: KedroSession, arguments: Mapping[str, Any], run_id: str
) -> RunContext:
    """The context of a run of ``session`` (or of a ``KedroServiceSession``, 1.5+)
    from the bound ``arguments`` of its ``run``."""
    from .context import RunContext, _installed_kedro_version

    project_path = Path(getattr(session, "_project_path", Path.cwd()))
    store: Mapping[str, Any] = getattr(session, "store", None) or {}
    if "runtime_params" in arguments:  # KedroServiceSession: per run
        runtime_params = arguments.get("runtime_params")
        env = getattr(session, "env", None)
    else:  # KedroSession: per session; 0.19 stores them as "extra_params"
        runtime_params = store.get("runtime_params", store.get("extra_params"))
        env = store.get("env")
    return RunContext(
        pipeline_names=requested_names(arguments),
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
    # Kedro documents that a run without ``run_id`` gets one from
    # ``generate_timestamp`` as the session module names it (and its tests patch
    # that name), so look it up there on every call, never import it once.
    session_module = inspect.unwrap(original).__globals__

    def kedro_generate_timestamp() -> str:
        generate = session_module.get("generate_timestamp")
        if generate is None:
            from kedro.io.core import generate_timestamp as generate
        return str(generate())

    @functools.wraps(original)
    def patched_run(self: KedroSession, *args: Any, **kwargs: Any) -> Any:
        bound = bind_call(signature, self, *args, **kwargs)
        if bound is None:
            return original(self, *args, **kwargs)
        if takes_run_id:
            # KedroServiceSession (1.5+) makes a run id per run when none is passed;
            # make it here so the context knows it, from the environment if set.
            if not bound.arguments.get("run_id"):
                bound.arguments["run_id"] = (
                    run_id_from_environment() or kedro_generate_timestamp()
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
        token = CURRENT_RUN.set(context)
        kedro_context_token = _KEDRO_CONTEXT.set(_KedroContextHolder())
        try:
            return original(*bound.args, **bound.kwargs)
        finally:
            _KEDRO_CONTEXT.reset(kedro_context_token)
            CURRENT_RUN.reset(token)

    return patched_run


# --- the run's parameters, read from its config loader ---------------------------


class _KedroContextHolder:
    """The ``KedroContext`` the running session loaded (filled by ``load_context``)."""

    __slots__ = ("context",)

    def __init__(self) -> None:
        self.context: KedroContext | None = None


_KEDRO_CONTEXT: Final[ContextVar[_KedroContextHolder | None]] = ContextVar(
    "kedro_pipelinename_kedro_context", default=None
)


def _patched_load_context(
    original: Callable[..., KedroContext],
) -> Callable[..., KedroContext]:
    @functools.wraps(original)
    def patched_load_context(
        self: KedroSession, *args: Any, **kwargs: Any
    ) -> KedroContext:
        context = original(self, *args, **kwargs)
        holder = _KEDRO_CONTEXT.get()
        if holder is not None and holder.context is None:
            holder.context = context
        return context

    return patched_load_context


def run_parameters() -> Mapping[str, Any] | None:
    """The running session's parameters, as its config loader gives them.

    That is ``parameters*.yml`` of the run's env with its ``--params`` merged in,
    read from ``config_loader["parameters"]``: never through the catalog, whose
    dataset factories (a catch-all ``"{name}"``) may claim ``params:`` names.

    Returns:
        The parameters (``{}`` when the project has none), or ``None`` outside a
        session's run.
    """
    holder = _KEDRO_CONTEXT.get()
    if holder is None or holder.context is None:
        return None
    from kedro.config import MissingConfigException

    try:
        parameters = holder.context.config_loader["parameters"]
    except MissingConfigException:
        return {}
    return parameters if isinstance(parameters, Mapping) else {}


# --- ThreadRunner: node threads see the run ---------------------------------------


def _patched_get_executor(original: Callable[..., Executor]) -> Callable[..., Executor]:
    @functools.wraps(original)
    def patched_get_executor(self: ThreadRunner, *args: Any, **kwargs: Any) -> Executor:
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

    def submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return original_submit(contextvars.copy_context().run, fn, *args, **kwargs)

    executor.submit = submit  # type: ignore[method-assign]


def patches() -> Iterator[tuple[type, str, object]]:
    """``(owner, attribute, replacement)`` for the run-context patches."""
    from kedro.framework import session as session_package
    from kedro.runner import ThreadRunner

    # KedroServiceSession exists from Kedro 1.5 on.
    for class_name in ("KedroSession", "KedroServiceSession"):
        session_class = getattr(session_package, class_name, None)
        if isinstance(session_class, type) and "run" in session_class.__dict__:
            yield session_class, "run", _patched_run(session_class.__dict__["run"])
            if "load_context" in session_class.__dict__:
                yield (
                    session_class,
                    "load_context",
                    _patched_load_context(session_class.__dict__["load_context"]),
                )
    if "_get_executor" in ThreadRunner.__dict__:
        yield (
            ThreadRunner,
            "_get_executor",
            _patched_get_executor(ThreadRunner.__dict__["_get_executor"]),
        )
