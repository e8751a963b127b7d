"""``kedro batch sandbox aws``: an AWS Batch on 127.0.0.1 that runs this
project's jobs, until Ctrl-C (docs/sandbox.md)."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any, Final

import click

from ..batch.errors import BatchError
from ..sandbox.server import INSTALL_HINT, missing_modules

#: How often the waiting command wakes up (signals interrupt the wait anyway).
_WAKE_SECONDS: Final = 0.5


class _StopSignals:
    """SIGINT and SIGTERM set an event, from before the sandbox starts until
    it has cleaned up (a second Ctrl-C must not cut the cleanup short)."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.received: list[str] = []
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signal.Signals(signum).name)
        self.stopped.set()

    def __enter__(self) -> _StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handler)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, old in self._previous.items():
            signal.signal(signum, old)

    def wait(self) -> str:
        """Block until a signal came; its name."""
        # Bounded only by the user: the sandbox serves until told to stop.
        while not self.stopped.wait(_WAKE_SECONDS):
            pass
        return self.received[0]


@click.command(name="sandbox")
@click.argument("service", type=click.Choice(["aws"]))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="The port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--bucket",
    "buckets",
    multiple=True,
    help="An S3 bucket to create (for s3:// datasets or record_uri); repeatable.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["shell", "json"]),
    default="shell",
    show_default=True,
    help="The environment as `export` lines, or one JSON document.",
)
@click.option(
    "--env", "-e", "kedro_env", default=None, help="The Kedro environment to read."
)
@click.option(
    "--slots",
    type=click.IntRange(1),
    default=os.cpu_count() or 1,
    show_default="this machine's CPUs",
    help="Jobs that run at once; the rest wait RUNNABLE (an array of 2,000 "
    "children is not 2,000 processes at once).",
)
@click.pass_context
def sandbox(
    context: click.Context,
    service: str,
    port: int,
    buckets: tuple[str, ...],
    output_format: str,
    kedro_env: str | None,
    slots: int,
) -> None:
    """Run an AWS Batch sandbox on 127.0.0.1 until Ctrl-C: moto's server, and
    every job run as a local process in this project (the project is the image).

    Creates the job queue and job definition the project's aws_batch: / batch:
    settings name, and prints the environment that makes `kedro run --runner
    kedro_pipelinename.batch.AWSBatchRunner` use it.
    """
    missing = missing_modules()
    if missing:
        raise click.ClickException(
            f"The sandbox needs {', '.join(missing)}, which are not installed.\n"
            f"Install the extra: {INSTALL_HINT}"
        )
    from ..sandbox.project import project_settings
    from ..sandbox.server import SandboxError
    from ..sandbox.session import running_sandbox

    metadata = context.find_root().obj
    project = Path(getattr(metadata, "project_path", None) or Path.cwd()).resolve()
    try:
        settings = project_settings(project, kedro_env)
    except BatchError as error:
        raise click.ClickException(
            f"{error}\nThe sandbox creates the job queue and job definition these "
            f"settings name; fix them first."
        ) from error
    try:
        with (
            _StopSignals() as signals,
            running_sandbox(
                project,
                job_queue=settings.job_queue,
                job_definition=settings.job_definition,
                region=settings.region,
                port=port,
                buckets=buckets,
                slots=slots,
            ) as running,
        ):
            if output_format == "json":
                click.echo(json.dumps(running.document(), indent=2))
            else:
                click.echo("\n".join(running.shell_lines()))
            resources = running.resources
            click.echo(
                f"AWS Batch sandbox on {resources.endpoint} (region "
                f"{resources.region}): job queue {resources.queue!r}, job "
                f"definition {resources.definition!r}"
                + (f", S3 bucket(s) {', '.join(buckets)}" if buckets else "")
                + f".\nJobs run as local processes in {project} (the project is "
                f"the image; no containers).\nIn another shell, set the variables "
                f"above and run: kedro run --runner "
                f"kedro_pipelinename.batch.AWSBatchRunner\nCtrl-C stops the "
                f"sandbox and every job it started.",
                err=True,
            )
            name = signals.wait()
            click.echo(f"{name}: stopping the sandbox.", err=True)
        click.echo("The sandbox stopped.", err=True)
    except SandboxError as error:
        raise click.ClickException(str(error)) from error
