"""``kedro batch child``: what every child of an array job runs.

An engine starts a uniform fan-out as one array job (``batch/arrays.py``); every
child runs this command with the array's spec and the name of the variable that
holds its index. It lists the namespaces of the run's pipelines, checks them
against the spec's fingerprint, and replaces itself (``exec``) with its job's own
``kedro run``, so the engine sees that run's exit code and signals.
"""

from __future__ import annotations

import os
import sys

import click

from ..batch.arrays import ArrayMismatch, ArraySpec, member_command, member_nodes
from ..relaunch.argv import nodes_argument


def _index(variable: str) -> int:
    raw = os.environ.get(variable)
    if raw is None or not raw.isdigit():
        raise click.ClickException(
            f"{variable} is {'not set' if raw is None else repr(raw)}: "
            f"`kedro batch child` runs as a child of an array job, whose engine "
            f"sets it to the child's index. To run one job by hand, use the "
            f"job's own command (`kedro batch status <run id>` shows it)."
        )
    return int(raw)


def _node_names(spec: ArraySpec) -> set[str]:
    from kedro.framework.project import pipelines

    names: set[str] = set()
    for name in spec.pipelines:
        pipeline = pipelines.get(name)
        if pipeline is None:
            raise click.ClickException(
                f"This array job runs pipeline {name!r}, which this project does "
                f"not register. The image or the project changed since the run "
                f"was planned: build the image from the commit the run was "
                f"started from, or start the run again."
            )
        names.update(node.name for node in pipeline.nodes)
    return names


@click.command(
    name="child",
    context_settings={"ignore_unknown_options": True},
)
@click.option("--array", "spec_text", required=True, help="The array's spec.")
@click.option(
    "--index-from",
    "index_variable",
    required=True,
    help="The variable holding this child's index.",
)
@click.argument("run_command", nargs=-1, required=True, type=click.UNPROCESSED)
def child(spec_text: str, index_variable: str, run_command: tuple[str, ...]) -> None:
    """Run this child's job of an array job (batch engines start it)."""
    try:
        spec = ArraySpec.from_argument(spec_text)
        index = _index(index_variable)
        nodes = member_nodes(spec, index, _node_names(spec))
    except ArrayMismatch as error:
        raise click.ClickException(" ".join(str(error).split())) from error
    argv = member_command(spec, run_command, nodes_argument(nodes))
    click.echo(f"Child {index} of the array runs {', '.join(nodes)}.", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(argv[0], argv)
