"""The line that resumes a failed ``kedro run`` with its whole context.

Kedro's runner logs "to resume, run ``kedro run --from-nodes ...``" on failure,
without the pipelines, env, params or run id of the run. This patch logs, after
Kedro's own message, the command built by ``argv.build_resume_command`` for the
session's ``RunContext`` (secrets as ``${NAME}`` references). It is installed by
``kedro_pipelinename.install()`` with the run-context patches; it lives here,
not with them, because it needs this layer's argv builders.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..names.logs import logger_for
from ..names.patching import PATCHES
from ..run.run_id import RUN_ID_ENV_VAR
from ..run.state import CURRENT_RUN

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from kedro.runner import AbstractRunner

    from ..run.catalog import RunnerCatalog
    from ..run.context import RunContext

logger = logger_for(__name__)


def resume_hint(
    argv: list[str], run_id: str, env: Mapping[str, str] | None = None
) -> str:
    """The shell line that resumes a run: variables, the run id, then ``argv``.

    Args:
        argv: A command from ``build_resume_command`` or ``build_run_command``.
        run_id: The run id the resumed run must share with the failed one.
        env: More variables the command needs (a batch run's ``KEDRO_BATCH_*``
            settings), set before the run id, sorted.

    Returns:
        ``[NAME=value ...] KEDRO_PIPELINENAME_RUN_ID=<run_id> kedro run ...``,
        one line quoted for a POSIX shell.
    """
    from .redaction import shell_quote

    assignments = [
        f"{name}={shell_quote(value)}"
        for name, value in sorted((env or {}).items())
        if name != RUN_ID_ENV_VAR
    ]
    assignments.append(f"{RUN_ID_ENV_VAR}={shell_quote(run_id)}")
    # ${NAME} references (secrets, redaction.py) are left for the shell to fill.
    return " ".join([*assignments, *(shell_quote(word) for word in argv)])


def _patched_suggest_resume(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched_suggest_resume_scenario(
        self: AbstractRunner,
        pipeline: Pipeline,
        done_nodes: Iterable[Node],
        catalog: RunnerCatalog,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        result = original(self, pipeline, done_nodes, catalog, *args, **kwargs)
        context = CURRENT_RUN.get()
        if PATCHES.active and context is not None:
            try:
                _log_resume_command(pipeline, done_nodes, catalog, context)
            except Exception:  # the hint must never hide the run's own error
                logger.debug("Could not build the resume command", exc_info=True)
        return result

    return patched_suggest_resume_scenario


def _log_resume_command(
    pipeline: Pipeline,
    done_nodes: Iterable[Node] | None,
    catalog: RunnerCatalog,
    context: RunContext,
) -> None:
    # Imported when a run fails, not by ``import kedro_pipelinename`` (their
    # import cost is most of the package's; tests/test_install.py).
    import attrs

    from .argv import build_resume_command, build_run_command
    from .errors import RunCommandError
    from .redaction import redactor_for

    # Secret params are shown as ${NAME} references, whatever their length.
    redactor = redactor_for(
        extra_env={}, environ=os.environ, runtime_params=context.runtime_params
    )
    context = attrs.evolve(
        context, runtime_params=redactor.data(dict(context.runtime_params))
    )
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
        redactor.text(resume_hint(argv, context.run_id)),
    )


def patches() -> Iterator[tuple[type, str, object]]:
    """``(owner, attribute, replacement)``: Kedro's resume message, completed."""
    from kedro.runner import AbstractRunner

    if "_suggest_resume_scenario" in AbstractRunner.__dict__:
        yield (
            AbstractRunner,
            "_suggest_resume_scenario",
            _patched_suggest_resume(
                AbstractRunner.__dict__["_suggest_resume_scenario"]
            ),
        )
