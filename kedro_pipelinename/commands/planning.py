"""``kedro batch plan``: the plan a run would submit, built by ``kedro run`` itself.

The command runs Kedro's own ``run`` command with ``PlanRunner``: the same
session, pipelines, env, params, conf source and node selection as ``kedro
run`` with the same flags (its options are copied from the installed Kedro's
``run``, so ``--pipeline`` before Kedro 1.2 and ``--pipelines`` after come for
free), then ``BatchRunner``'s own settings, grouping, job names and pre-flight
checks. Where a run would submit, ``PlanRunner`` keeps the plan instead.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import click

from ..batch.errors import BatchError
from ..batch.runner import BatchRunner, ResolvedSettings, redacted_plan, run_redactor
from ..batch.settings import SHARED_BLOCK, BatchSettings, given_setting
from ..relaunch.redaction import Redactor

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

    from ..batch.engine import EngineRun
    from ..batch.plan import JobPlan
    from ..run.context import RunContext

#: The engine of a plan when neither ``--engine`` nor the ``engine`` setting says.
DEFAULT_ENGINE: Final = "local"
#: ``kedro run`` options ``plan`` does not take: the runner is ``PlanRunner``.
_NOT_FOR_PLAN: Final = frozenset({"runner", "is_async"})


class _Request:
    """What the running ``plan`` command asks of the ``PlanRunner`` Kedro builds.

    Kedro's ``run`` builds the runner from its dotted path, so the command and
    the runner meet here (one command per process).
    """

    engine: ClassVar[str | None] = None
    plans: ClassVar[list[tuple[JobPlan, str]]] = []


class PlanRunner(BatchRunner):
    """A ``BatchRunner`` that plans and checks, and keeps the plan unsubmitted."""

    def __init__(self, is_async: bool = False, **settings: Any) -> None:
        if _Request.engine is not None:
            settings["engine"] = _Request.engine
        super().__init__(is_async=is_async, **settings)

    @classmethod
    def _label(cls) -> str:
        return "kedro batch plan"

    def resolve_settings(
        self, parameters: Mapping[str, Any] | None = None
    ) -> ResolvedSettings:
        """``BatchRunner``'s, with the ``local`` engine when no setting names one."""
        shared = (parameters or {}).get(SHARED_BLOCK)
        found = given_setting(
            BatchSettings,
            "engine",
            arguments=self._arguments,
            blocks=[(SHARED_BLOCK, shared if isinstance(shared, Mapping) else {})],
            environ=os.environ,
        )
        if found is None:
            self._arguments["engine"] = DEFAULT_ENGINE
        return super().resolve_settings(parameters)

    def _dry_run(
        self,
        plan: JobPlan,
        resolved: ResolvedSettings,
        redactor: Redactor,
        project: Path,
    ) -> None:
        _Request.plans.append(
            (redacted_plan(plan, redactor), resolved.engine.spec.name)
        )

    def _submit_and_track(
        self,
        run: EngineRun,
        pipeline: Pipeline,
        context: RunContext,
        resolved: ResolvedSettings,
    ) -> None:
        redactor = run_redactor(run.settings, context)
        _Request.plans.append(
            (redacted_plan(run.plan, redactor), resolved.engine.spec.name)
        )


def _kedro_run() -> click.Command:
    from kedro.framework.cli.project import run

    command: click.Command = run
    return command


def run_options() -> list[click.Parameter]:
    """The installed ``kedro run``'s options that mean the same for a plan."""
    return [
        copy.copy(parameter)
        for parameter in _kedro_run().params
        if parameter.name not in _NOT_FOR_PLAN
    ]


def build_plan(
    run_values: Mapping[str, Any], engine: str | None
) -> tuple[JobPlan, str]:
    """The plan ``kedro run`` with ``run_values`` would submit, and its engine.

    Args:
        run_values: Parsed values of ``run_options()`` (as ``kedro run`` gets them).
        engine: ``--engine``, or ``None`` for the ``engine`` setting / ``local``.

    Raises:
        click.ClickException: For pre-flight problems (all of them) and bad
            settings; nothing is submitted either way.
    """
    run = _kedro_run()
    # Every option of the installed `kedro run`, defaults processed by its own
    # callbacks, then the values given here.
    values = dict(run.make_context("run", []).params)
    values.update({name: run_values[name] for name in values if name in run_values})
    values["runner"] = f"{__name__}.PlanRunner"
    values["is_async"] = False
    _Request.engine = engine
    _Request.plans = []
    try:
        # Kedro's session and the runner log to stdout; the plan goes there.
        with contextlib.redirect_stdout(sys.stderr):
            assert run.callback is not None
            run.callback(**values)
    except BatchError as error:
        raise click.ClickException(str(error)) from error
    if not _Request.plans:
        raise click.ClickException(
            "The selected pipeline has no nodes to run; check --pipelines, --tags "
            "and the node options."
        )
    return _Request.plans[-1]
