"""The ``engine`` fixture: one harness per batch engine, ``[local]`` and ``[aws]``.

An engine is done when it passes ``test_engine_contract.py``; a new engine adds
its harness here (and nothing else).
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Harness
from moto_compute import MotoCompute

from batch.batch_support import create_batch_resources
from kedro_pipelinename.batch.aws import AWSBatchEngine, AWSBatchSettings, make_client
from kedro_pipelinename.batch.engine import Engine, EngineRun
from kedro_pipelinename.batch.local import LocalBatchEngine, LocalBatchSettings

REGION = "eu-west-1"


def _post(endpoint: str, path: str, payload: object) -> None:
    request = urllib.request.Request(
        f"{endpoint}{path}",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture(scope="session")
def contract_moto() -> Iterator[str]:
    """moto's server on 127.0.0.1, in this process (so ``MotoCompute`` can run
    its jobs), Batch without docker."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    _post(endpoint, "/moto-api/config", {"batch": {"use_docker": False}})
    try:
        yield endpoint
    finally:
        server.stop()


def _local(out: Path) -> Iterator[Harness]:
    def open_engine(run: EngineRun) -> Engine:
        settings = LocalBatchSettings(terminate_timeout=2.0)
        return LocalBatchEngine.open(run, settings)

    yield Harness("local", open_engine, out)


def _aws(
    out: Path, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    _post(endpoint, "/moto-api/reset", {})
    world = create_batch_resources(endpoint, REGION)

    def open_engine(run: EngineRun) -> Engine:
        settings = AWSBatchSettings(
            job_queue=world.queue,
            job_definition=world.definition,
            endpoint_url=endpoint,
            lookup_delay=0,
        )
        return AWSBatchEngine.with_client(run, settings, make_client(settings))

    with MotoCompute(out).running():
        yield Harness("aws", open_engine, out)


@pytest.fixture(params=["local", "aws"])
def engine(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Harness]:
    """A harness for one engine; every job process it started is gone after."""
    for name in list(os.environ):
        if name.startswith("KEDRO_BATCH_"):
            monkeypatch.delenv(name)
    out = tmp_path / "jobs"
    out.mkdir()
    if request.param == "local":
        harnesses = _local(out)
    else:
        harnesses = _aws(out, request.getfixturevalue("contract_moto"), monkeypatch)
    yield from harnesses
