"""moto's server on 127.0.0.1, in this process, with Batch's docker off."""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import json
import logging
import socket
import urllib.request
from collections.abc import Iterator
from typing import Final

#: Fake credentials: moto accepts any, and no real AWS account is ever reached
#: with them.
FAKE_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
}
#: The region when the project's settings name none.
DEFAULT_REGION: Final = "eu-west-1"
#: moto's own default port (``moto_server``).
DEFAULT_PORT: Final = 5000


#: The modules the sandbox needs (the ``[sandbox]`` extra) and how to get them.
REQUIRED_MODULES: Final = ("moto", "boto3", "flask", "flask_cors")
INSTALL_HINT: Final = "pip install 'kedro-pipelinename[sandbox]'"


def missing_modules() -> list[str]:
    """The modules of the ``[sandbox]`` extra that are not installed."""
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


class SandboxError(Exception):
    """A sandbox that cannot start: the message says why and what to do."""


def moto_api(endpoint: str, path: str, payload: object) -> None:
    """POST ``payload`` to moto's own API (``/moto-api/...``)."""
    request = urllib.request.Request(
        f"{endpoint}{path}",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def reset(endpoint: str) -> None:
    """Forget every resource: a fresh moto account."""
    moto_api(endpoint, "/moto-api/reset", {})


def _check_port_free(host: str, port: int) -> None:
    # moto's server thread would fail to bind without telling the caller.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise SandboxError(
                f"Port {port} on {host} is taken (another sandbox or server runs "
                f"there).\nStop it, or give another port: --port {port + 1} "
                f"(or --port 0 for any free one)."
            ) from None


@contextlib.contextmanager
def moto_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The URL of a moto server on ``host``:``port`` (0: a free port), running in
    this process with Batch's docker switched off; stopped on exit.

    Raises:
        SandboxError: When the port is taken.
    """
    from moto.server import ThreadedMotoServer

    if port:
        _check_port_free(host, port)
    # One INFO line per request would bury everything else.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{bound_port}"
    try:
        moto_api(endpoint, "/moto-api/config", {"batch": {"use_docker": False}})
        yield endpoint
    finally:
        server.stop()
