"""The ``kedro batch`` commands; their group is the entry point's
(``kedro_pipelinename_commands``), which imports this module on first lookup.

Each command is thin: ``planning.py`` builds plans, ``graph.py`` draws them,
``live.py`` asks a run's engine, ``control.py`` cancels and resumes,
``views.py`` formats; the run records are the batch core's (``records.py``).
Every error a user can make ends in one line that says what to do, and changes
nothing.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.live import Live

from ..batch.errors import BatchError
from ..batch.plan_render import FORMATS, plan_blocks, render
from ..batch.record_model import RUN_RUNNING
from ..batch.settings import env_var_name
from ..batch.stores import RecordStore, open_store
from ..batch.tables import console_for, plain_text, renderable, show
from ..run.run_id import InvalidRunIdError, check_safe_run_id
from .child import child
from .control import cancel_run, resume_run
from .graph import PICTURES, GraphvizMissing, draw
from .live import RunView, current_view
from .planning import DEFAULT_ENGINE, build_plan, run_options
from .sandbox import sandbox

__all__ = ["cancel", "child", "plan", "resume", "runs", "sandbox", "status"]
from .views import as_json, run_summary, runs_blocks, status_blocks


def _project_path(context: click.Context) -> Path:
    # Kedro passes the project's metadata to project commands as the context obj.
    metadata = context.find_root().obj
    return Path(getattr(metadata, "project_path", None) or Path.cwd())


def _store(context: click.Context) -> RecordStore:
    """Where the project's run records are: ``KEDRO_BATCH_RECORD_URI`` (the
    ``record_uri`` setting; the commands do not load parameters), else
    ``logs/batch``."""
    uri = os.environ.get(env_var_name("record_uri")) or None
    return open_store(_project_path(context), uri)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """A batch error (no record, engine unreachable...) as a one-line message."""
    try:
        yield
    except (BatchError, InvalidRunIdError) as error:
        raise click.ClickException(" ".join(str(error).split())) from error


def _run_id_argument(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> str | None:
    """A ``RUN_ID`` argument, refused before it becomes a path."""
    if value is None:
        return None
    try:
        return check_safe_run_id(value, source="The RUN_ID argument")
    except InvalidRunIdError as error:
        raise click.BadParameter(str(error).split(": a run id")[0]) from error


@click.command(name="plan")
@click.option(
    "--engine",
    default=None,
    help=f"The engine to plan for (default: the `engine` setting, else "
    f"{DEFAULT_ENGINE}): its job names and limits.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="A table, JSON, or the job graph as a Mermaid flowchart or Graphviz dot.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of stdout; .svg and .png are drawn with "
    "Graphviz's `dot`.",
)
def plan(
    engine: str | None, output_format: str, output: Path | None, **run_values: Any
) -> None:
    """The jobs a `kedro run` with the same options would submit; submits nothing.

    Pre-flight problems are listed all at once, and the exit code is non-zero.
    """
    job_plan, engine_name = build_plan(run_values, engine)
    if output is not None and output.suffix.lower() in PICTURES:
        try:
            draw(job_plan, output)
        except GraphvizMissing as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Wrote the job graph of {len(job_plan.jobs)} job(s) to {output}.")
        return
    note = "; nothing was submitted"
    if output is None and output_format == "text":
        show(plan_blocks(job_plan, engine_name, note))  # rich on a terminal
        return
    text = render(job_plan, engine_name, output_format, note)
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    click.echo(f"Wrote the plan of {len(job_plan.jobs)} job(s) to {output}.")


# The same options as the installed `kedro run` (--pipeline before Kedro 1.2).
plan.params[:0] = run_options()


@click.command(name="runs")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "json_output", is_flag=True, help="A JSON list.")
@click.pass_context
def runs(context: click.Context, limit: int, json_output: bool) -> None:
    """Recent batch runs of this project, newest first; damaged records are
    named, one line each, on stderr."""
    with _user_errors():
        store = _store(context)
        found = store.list_records()
        summaries = [
            run_summary(current_view(store, record)) for record in found.records[:limit]
        ]
    if json_output:
        click.echo(as_json(summaries), nl=False)
    else:
        show(runs_blocks(summaries))
    for problem in found.skipped:
        click.echo(f"Skipped: {' '.join(problem.split())}", err=True)


def _rounds(store: RecordStore, view: RunView, interval: float) -> Iterator[RunView]:
    """``view``, then the run again every ``interval`` seconds until it ends."""
    yield view
    # Bounded by the run: each round either sees it ended, or waits.
    while view.state == RUN_RUNNING:
        time.sleep(interval)
        view = current_view(
            store, store.load_record(view.record.run_id), strict=True, logs=True
        )
        yield view


def _watch(views: Iterator[RunView]) -> None:
    """The run's table, kept up to date in place on a terminal (rich's ``Live``);
    elsewhere (a pipe, a file) printed again each round it changed."""
    console = console_for()
    if not console.is_terminal:
        shown = None
        for view in views:
            text = plain_text(status_blocks(view))
            if text != shown:
                click.echo(text, nl=False)
                shown = text
        return
    with Live(console=console, auto_refresh=False) as live:
        for view in views:
            live.update(renderable(status_blocks(view)), refresh=True)


@click.command(name="status")
@click.argument("run_id", required=False, callback=_run_id_argument)
@click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="The run as JSON; with --watch, one JSON document per line and round.",
)
@click.option("--watch", is_flag=True, help="Refresh until the run ends.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between two refreshes with --watch.",
)
@click.pass_context
def status(
    context: click.Context,
    run_id: str | None,
    json_output: bool,
    watch: bool,
    interval: float,
) -> None:
    """The live state of every job of a run (default: the newest run)."""
    with _user_errors():
        store = _store(context)
        view = current_view(store, store.load_record(run_id), strict=True, logs=True)
        if not watch:
            if json_output:
                click.echo(as_json(view.to_dict()), nl=False)
            else:
                show(status_blocks(view))
            return
        views = _rounds(store, view, interval)
        if json_output:
            for each in views:
                click.echo(as_json(each.to_dict(), indent=None), nl=False)
        else:
            _watch(views)


@click.command(name="cancel")
@click.argument("run_id", callback=_run_id_argument)
@click.pass_context
def cancel(context: click.Context, run_id: str) -> None:
    """Stop every unfinished job of a run, from any terminal."""
    with _user_errors():
        cancel_run(_store(context), run_id, click.echo)


@click.command(name="resume")
@click.argument("run_id", callback=_run_id_argument)
@click.pass_context
def resume(context: click.Context, run_id: str) -> None:
    """Run a run's recorded command again with its run id: succeeded jobs are
    kept, running ones reattached, the rest run."""
    with _user_errors():
        code = resume_run(_store(context), run_id, click.echo)
    context.exit(code)
