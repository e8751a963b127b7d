"""docs/sandbox.md's recipe, as a user follows it: ``kedro batch sandbox aws``
in one process, ``kedro run --runner ...AWSBatchRunner`` with the environment it
printed in another, Ctrl-C (SIGINT) to stop it."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import kedro_pipelinename_commands
from kedro_pipelinename.demo.project import DemoProject
from tests.support.cli import cli_env, kedro_cli, pipelines_option
from tests.support.demo import CLIENT_1_TRAIN_OUTPUTS, read_outputs
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

#: Kedro's logs on stderr: stdout is the document alone.
#: The stream a job's log location names.
STREAM = re.compile(r"stream (client-models/default/[0-9a-f]{32}) ")
QUIET = {"KEDRO_LOGGING_CONFIG": kedro_pipelinename_commands.STDERR_LOGGING}


class _Sandbox:
    """``kedro batch sandbox aws`` as a subprocess, its stdout read as it comes."""

    def __init__(self, project: Path, *args: str) -> None:
        self.stderr_path = project.parent / "sandbox.stderr"
        self._stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kedro", "batch", "sandbox", "aws", *args],
            cwd=project,
            env=cli_env(QUIET),
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        stdout = self.process.stdout
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(iter(stdout.readline, "")), daemon=True
        )
        self._reader.start()

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    def document(self) -> dict[str, Any]:
        def parsed() -> bool:
            try:
                json.loads(self.stdout)
            except ValueError:
                return False
            return True

        wait_until(parsed, "the sandbox printed its JSON document", self.process)
        document: dict[str, Any] = json.loads(self.stdout)
        return document

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        finally:
            self._reader.join(timeout=10)
            self._stderr.close()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()


@pytest.fixture
def started(demo_project: DemoProject) -> Iterator[_Sandbox]:
    sandbox = _Sandbox(demo_project.path, "--port", "0", "--format", "json")
    try:
        yield sandbox
    finally:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait(timeout=30)


def test_the_recipe_runs_the_demo_on_the_sandbox_with_the_local_engines_outputs(
    demo_project: DemoProject, started: _Sandbox
) -> None:
    document = started.document()
    environment = dict(document["environment"])

    result = kedro_cli(
        demo_project.path,
        "run",
        *pipelines_option("client_1_train"),
        "--runner",
        "kedro_pipelinename.batch.AWSBatchRunner",
        env=environment,
        timeout=300,
    )
    status = json.loads(
        kedro_cli(
            demo_project.path, "batch", "status", "--json", env={**environment, **QUIET}
        ).stdout
    )
    logs = boto3.client(
        "logs",
        endpoint_url=environment["AWS_ENDPOINT_URL"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )
    streams = [STREAM.search(job["log"]) for job in status["jobs"]]
    logged = [
        logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=m.group(1))
        for m in streams
        if m is not None
    ]
    returncode = started.stop()

    assert read_outputs(demo_project) == CLIENT_1_TRAIN_OUTPUTS
    # `kedro batch status` names each job's CloudWatch stream, which holds its log.
    assert [job["state"] for job in status["jobs"]] == ["SUCCEEDED"] * 4
    assert len(logged) == 4
    texts = [" ".join(e["message"] for e in log["events"]) for log in logged]
    assert all("Completed" in text for text in texts), texts
    assert "4 succeeded, 0 failed" in result.stdout + result.stderr
    assert document["job_queue"] == "client-models"
    assert document["job_definition"] == "client-models:1"
    assert environment["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    # The document is all of stdout, and the sandbox stopped cleanly on SIGINT.
    assert json.loads(started.stdout) == document
    assert returncode == 0
    assert "SIGINT: stopping the sandbox." in started.stderr


def test_a_project_without_aws_settings_gets_one_error_naming_them(
    demo_project: DemoProject,
) -> None:
    parameters = demo_project.path / "conf" / "base" / "parameters.yml"
    text = parameters.read_text()
    parameters.write_text(text[: text.index("aws_batch:")])

    result = kedro_cli(
        demo_project.path,
        "batch",
        "sandbox",
        "aws",
        "--port",
        "0",
        env=QUIET,
        check=False,
    )

    assert result.returncode == 1
    assert "job_queue" in result.stderr
    assert "job_definition" in result.stderr
    assert "fix them first" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_taken_port_gets_one_error_with_the_fix(demo_project: DemoProject) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = kedro_cli(
            demo_project.path,
            "batch",
            "sandbox",
            "aws",
            "--port",
            str(port),
            env=QUIET,
            check=False,
        )

    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is taken" in result.stderr
    assert "--port 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
