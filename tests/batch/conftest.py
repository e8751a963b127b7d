"""Fixtures for the batch runners: moto's server, a Batch queue, strict clients.

moto's server runs in this process (``ThreadedMotoServer`` on 127.0.0.1, a free
port) with ``{"batch": {"use_docker": false}}``: its simple Batch backend marks a
job SUCCEEDED the moment it is submitted, or FAILED when
``MOTO_SIMPLE_BATCH_FAIL_AFTER`` is set in this process's environment while the
job is submitted (after sleeping that many seconds, so tests use ``0``).

moto does not enforce AWS Batch's limits; every client the tests build asserts
them in a ``before-parameter-build`` hook (``StrictLimits``).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator

import pytest
from batch_support import BatchWorld, create_batch_resources

MOTO_REGION = "eu-west-1"


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
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server on 127.0.0.1, Batch without docker."""
    from moto.server import ThreadedMotoServer

    # One INFO line per request would bury the test output.
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


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region; no real AWS configuration is read."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("KEDRO_BATCH_"):
            monkeypatch.delenv(name)


@pytest.fixture
def batch_world(moto_endpoint: str, aws_environment: None) -> BatchWorld:
    """A fresh moto account with a compute environment, queue and definition."""
    _post(moto_endpoint, "/moto-api/reset", {})
    return create_batch_resources(moto_endpoint, MOTO_REGION)
