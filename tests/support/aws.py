"""moto's server, fake AWS credentials, a Batch queue and the limits moto skips.

The server and the resources are the shipped sandbox's
(``kedro_pipelinename.sandbox``): moto's server in this process
(``ThreadedMotoServer`` on 127.0.0.1, a free port) with ``{"batch":
{"use_docker": false}}``. Without the sandbox's compute (``MotoCompute``), moto's
simple Batch backend marks a job SUCCEEDED the moment it is submitted, or FAILED
when ``MOTO_SIMPLE_BATCH_FAIL_AFTER`` is set in this process's environment while
the job is submitted (after sleeping that many seconds, so tests use ``0``).

moto does not enforce AWS Batch's limits; every client the tests build asserts
them in a ``before-parameter-build`` hook (``StrictLimits``).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from typing import Any

import pytest
from attrs import define, field

from kedro_pipelinename.engines.aws.api import make_client
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from kedro_pipelinename.sandbox.resources import (
    create_batch_resources as sandbox_resources,
)
from kedro_pipelinename.sandbox.server import moto_api, moto_server, reset

__all__ = [
    "MOTO_REGION",
    "BatchWorld",
    "StrictLimits",
    "create_batch_resources",
    "moto_api",
    "moto_server",
    "reset_moto",
    "use_fake_aws",
]

MOTO_REGION = "eu-west-1"

#: AWS Batch's job name rule (moto's is looser: it wants two characters).
AWS_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def reset_moto(endpoint: str) -> None:
    """Forget every resource: a fresh moto account."""
    reset(endpoint)


def use_fake_aws(monkeypatch: pytest.MonkeyPatch, region: str = MOTO_REGION) -> None:
    """Fake credentials and ``region``; no real AWS configuration is read.

    Also unsets what would change a run behind the test's back: a profile,
    moto's failure switch and every ``KEDRO_BATCH_*`` setting.
    """
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", raising=False)
    for name in list(os.environ):
        if name.startswith("KEDRO_BATCH_"):
            monkeypatch.delenv(name)


@define
class StrictLimits:
    """A ``before-parameter-build`` hook asserting the limits moto does not.

    Also counts the calls per operation and keeps the time of each SubmitJob.
    """

    violations: list[str] = field(factory=list)
    calls: Counter[str] = field(factory=Counter)
    submit_times: list[float] = field(factory=list)
    describe_sizes: list[int] = field(factory=list)
    lock: threading.Lock = field(factory=threading.Lock)

    def __call__(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        operation = model.name
        with self.lock:
            self.calls[operation] += 1
            if operation == "SubmitJob":
                self.submit_times.append(time.monotonic())
        problems = []
        if operation == "SubmitJob":
            if not AWS_JOB_NAME.match(params.get("jobName", "")):
                problems.append(f"job name {params.get('jobName')!r}")
            if len(params.get("dependsOn", [])) > 20:
                problems.append(f"{len(params['dependsOn'])} dependsOn")
            if len(params.get("tags", {})) > 50:
                problems.append(f"{len(params['tags'])} tags")
        if operation == "DescribeJobs":
            size = len(params.get("jobs", []))
            self.describe_sizes.append(size)
            if not 1 <= size <= 100:
                problems.append(f"DescribeJobs with {size} ids")
        if problems:
            self.violations.extend(problems)
            raise AssertionError(f"AWS Batch limit broken: {problems}")

    def install(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build.batch", self)
        return client


@define
class BatchWorld:
    """What ``create_batch_resources`` made in moto."""

    endpoint: str
    region: str
    queue: str
    definition: str

    def settings(self, **overrides: Any) -> AWSBatchSettings:
        values: dict[str, Any] = {
            "job_queue": self.queue,
            "job_definition": self.definition,
            "endpoint_url": self.endpoint,
            "region": self.region,
            "lookup_delay": 0.0,
            # Under the 50/s quota with room for network jitter, as the default.
            "submit_rate": 45.0,
        }
        values.update(overrides)
        return AWSBatchSettings(**values)

    def client(self, limits: StrictLimits | None = None) -> Any:
        client = make_client(self.settings())
        return limits.install(client) if limits is not None else client

    def jobs(self) -> list[dict[str, Any]]:
        """Every job of the queue, described (tags, dependsOn, container)."""
        client = make_client(self.settings())
        # As AWS Batch lists a queue: array jobs, not their children (moto
        # lists them too once the sandbox's patches are undone).
        ids = [
            summary["jobId"]
            for summary in client.list_jobs(jobQueue=self.queue)["jobSummaryList"]
            if ":" not in summary["jobId"]
        ]
        described: list[dict[str, Any]] = []
        for start in range(0, len(ids), 100):
            described.extend(
                client.describe_jobs(jobs=ids[start : start + 100])["jobs"]
            )
        return described

    def running_ids(self) -> set[str]:
        """The id of every job that runs a command: plain jobs and each child
        of an array job (``<array id>:<index>``), not the arrays themselves."""
        ids: set[str] = set()
        for job in self.jobs():
            size = (job.get("arrayProperties") or {}).get("size")
            if size:
                ids.update(f"{job['jobId']}:{index}" for index in range(size))
            else:
                ids.add(job["jobId"])
        return ids


def create_batch_resources(endpoint: str, region: str) -> BatchWorld:
    """The sandbox's resources (``kedro_pipelinename.sandbox.resources``): an IAM
    role, an unmanaged compute environment, a queue and a definition."""
    made = sandbox_resources(
        endpoint,
        region,
        queue="kedro-queue",
        definition="kedro-project",
        compute_environment="kedro-ce",
    )
    return BatchWorld(
        endpoint=made.endpoint,
        region=made.region,
        queue=made.queue,
        definition=made.definition,
    )
