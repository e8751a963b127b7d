"""The whole sandbox: server, resources, compute, and the environment to use it."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from .compute import SandboxCompute
from .resources import BatchResources, create_batch_resources, create_bucket
from .server import (
    DEFAULT_REGION,
    FAKE_CREDENTIALS,
    SandboxError,
    moto_server,
    reset,
)


@frozen
class Sandbox:
    """A running sandbox.

    Attributes:
        resources: The server's URL, region, queue and job definition.
        buckets: The S3 buckets created.
        project: Where the jobs run.
        compute: The compute running the jobs.
    """

    resources: BatchResources
    buckets: tuple[str, ...]
    project: Path
    compute: SandboxCompute

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 (every service) at the sandbox: its
        endpoint, fake credentials and the region."""
        return {
            "AWS_ENDPOINT_URL": self.resources.endpoint,
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.resources.region,
        }

    def shell_lines(self) -> list[str]:
        """``export NAME=value`` lines to paste into a shell."""
        lines = [
            f"export {name}={shlex.quote(value)}"
            for name, value in self.environment().items()
        ]
        # A profile would replace the fake credentials and could reach real AWS.
        return [*lines, "unset AWS_PROFILE AWS_SESSION_TOKEN"]

    def document(self) -> dict[str, Any]:
        """What ``--format json`` prints."""
        return {
            "endpoint": self.resources.endpoint,
            "region": self.resources.region,
            "job_queue": self.resources.queue,
            "job_definition": self.resources.definition,
            "buckets": list(self.buckets),
            "project": str(self.project),
            "environment": self.environment(),
            "unset": ["AWS_PROFILE", "AWS_SESSION_TOKEN"],
        }


@contextlib.contextmanager
def running_sandbox(
    project: Path,
    *,
    job_queue: str = "kedro-queue",
    job_definition: str = "kedro-project",
    region: str | None = None,
    port: int = 0,
    buckets: Sequence[str] = (),
    log_dir: Path | None = None,
    slots: int | None = None,
) -> Iterator[Sandbox]:
    """Start moto's server on 127.0.0.1, create the queue, job definition and
    buckets, and run jobs in ``project`` until exit (then kill those left).
    ``slots``: at most that many jobs run at once, the rest wait ``RUNNABLE``
    (a compute environment's capacity); ``None``: no limit.

    Raises:
        SandboxError: For a port taken, or a queue or definition it cannot make.
    """
    if job_queue.startswith("arn:"):
        raise SandboxError(
            f"The job queue {job_queue!r} is an ARN; the sandbox creates queues "
            f"by name.\nSet job_queue to a name while using the sandbox."
        )
    region = region or DEFAULT_REGION
    with moto_server(port=port) as endpoint:
        # moto keeps its accounts in the process, not the server: a sandbox
        # started after another in one process (tests) must start empty.
        reset(endpoint)
        resources = create_batch_resources(
            endpoint, region, queue=job_queue, definition=job_definition
        )
        for bucket in buckets:
            create_bucket(endpoint, region, bucket)
        compute = SandboxCompute(project, log_dir=log_dir, slots=slots)
        sandbox = Sandbox(
            resources=resources,
            buckets=tuple(buckets),
            project=Path(project),
            compute=compute,
        )
        compute.env.update(sandbox.environment())
        with compute.running():
            yield sandbox


__all__ = ["Sandbox", "SandboxError", "running_sandbox"]
