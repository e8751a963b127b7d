"""A scripted HTTP proxy between boto3 and moto's server: faults where they happen.

``FaultProxy`` listens on 127.0.0.1 (a free port) and forwards every request to
moto's server, unless a scripted ``Fault`` matches it first. A fault matches an
operation of AWS Batch's REST API by its path (``SubmitJob`` is ``POST
/v1/submitjob``) and applies to the next ``times`` matching requests:

- ``drop()``: forward the request (moto does the work: the job exists), then
  reset the connection instead of answering: the client sees a closed
  connection, as when a response is lost;
- ``respond(status, body)``: answer without forwarding (a 503 outage, a 429
  throttling answer);
- ``hang(seconds)``: forward, then hold the answer back for ``seconds`` (the
  client's read timeout fires first, when shorter);
- ``replace(body)``: forward, then answer 200 with ``body`` instead (ListJobs
  lagging behind a SubmitJob: ``{"jobSummaryList": []}``).

Faults are applied in the order they were added. Every wait is bounded and ends
when the proxy stops; ``seen`` records what happened to each request, and
``arrivals`` when each came in (``closest_arrivals``: the shortest gap between
two of them).
``latency`` adds a fixed delay before every request is forwarded: the time a
far AWS region takes to answer (``tests/benchmarks/bench_submit_rate.py``).

Example:
    >>> with FaultProxy(moto_endpoint) as proxy:
    ...     proxy.add(Fault.drop("SubmitJob", times=3))
    ...     client = boto3.client("batch", endpoint_url=proxy.url)
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import define, field

#: The longest the proxy waits for moto's server to answer one request.
UPSTREAM_TIMEOUT = 30.0
#: Answers' bodies for ``respond``: AWS's REST-JSON error shape.
SERVICE_UNAVAILABLE = b'{"__type": "ServiceUnavailable", "message": "try again"}'
THROTTLED = b'{"__type": "TooManyRequestsException", "message": "Too Many Requests"}'


#: Headers of one connection, not of the answer (the proxy sets its own length).
_HOP_HEADERS = ("connection", "keep-alive", "transfer-encoding", "content-length")


def operation_of(path: str) -> str:
    """``/v1/submitjob?x`` -> ``submitjob`` (Batch's REST paths name the operation)."""
    return urllib.parse.urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1].lower()


@define
class Fault:
    """One scripted fault: what to do to the next ``times`` requests of
    ``operation``. Build with ``drop``, ``respond``, ``hang`` or ``replace``."""

    operation: str
    action: str
    times: int = 1
    status: int = 200
    body: bytes = b""
    seconds: float = 0.0

    @classmethod
    def drop(cls, operation: str, *, times: int = 1) -> Fault:
        return cls(operation, "drop", times)

    @classmethod
    def respond(
        cls, operation: str, status: int, body: bytes, *, times: int = 1
    ) -> Fault:
        return cls(operation, "respond", times, status=status, body=body)

    @classmethod
    def hang(cls, operation: str, seconds: float, *, times: int = 1) -> Fault:
        return cls(operation, "hang", times, seconds=seconds)

    @classmethod
    def replace(cls, operation: str, body: bytes, *, times: int = 1) -> Fault:
        return cls(operation, "replace", times, body=body)

    def matches(self, operation: str) -> bool:
        return self.times > 0 and self.operation.lower() == operation


@define
class _Script:
    faults: list[Fault] = field(factory=list)
    seen: list[tuple[str, str]] = field(factory=list)
    arrivals: list[tuple[float, str]] = field(factory=list)
    lock: threading.Lock = field(factory=threading.Lock)

    def take(self, operation: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(operation):
                    fault.times -= 1
                    return fault
        return None

    def record(self, operation: str, outcome: str) -> None:
        with self.lock:
            self.seen.append((operation, outcome))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would bury the test output

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        operation = operation_of(self.path)
        with self.server.script.lock:
            self.server.script.arrivals.append((time.monotonic(), operation))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        # Bounded: the fixed latency, or until the proxy stops.
        if self.server.latency and self.server.stopping.wait(self.server.latency):
            self._reset()
            return
        fault = self.server.script.take(operation)
        if fault is not None and fault.action == "respond":
            self.server.script.record(operation, f"answered {fault.status}")
            self._answer(fault.status, fault.body, {})
            return
        status, headers, answer = self._forward(body)
        if fault is None:
            self.server.script.record(operation, "forwarded")
            self._answer(status, answer, headers)
        elif fault.action == "drop":
            self.server.script.record(operation, "dropped")
            self._reset()
        elif fault.action == "hang":
            self.server.script.record(operation, f"held {fault.seconds:g} s")
            # Bounded: the fault's seconds, or until the proxy stops.
            if self.server.stopping.wait(fault.seconds):
                self._reset()
                return
            with contextlib.suppress(OSError):
                self._answer(status, answer, headers)
        else:  # replace
            self.server.script.record(operation, "replaced")
            self._answer(200, fault.body, {"Content-Type": "application/json"})

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        upstream = urllib.parse.urlsplit(self.server.upstream)
        connection = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1",
            upstream.port,
            timeout=UPSTREAM_TIMEOUT,
        )
        try:
            headers = {
                key: value
                for key, value in self.headers.items()
                if key.lower() not in ("connection", "keep-alive")
            }
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            passed = {
                key: value
                for key, value in response.getheaders()
                if key.lower() not in _HOP_HEADERS
            }
            return response.status, passed, answer
        finally:
            connection.close()

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status >= 400 and not any(k.lower() == "content-type" for k in headers):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _reset(self) -> None:
        """Close the connection with a TCP reset, no answer: a lost response."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    script: _Script
    upstream: str
    latency: float
    stopping: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a reset connection is what some faults are for


class FaultProxy:
    """The proxy; use as a context manager (stops and joins its thread).

    Args:
        upstream: moto's server, ``http://127.0.0.1:<port>``.
        latency: Seconds added before every request is forwarded.
    """

    def __init__(self, upstream: str, *, latency: float = 0.0) -> None:
        self._server = _ProxyServer(("127.0.0.1", 0), _Handler)
        self._server.script = _Script()
        self._server.upstream = upstream
        self._server.latency = latency
        self._server.stopping = threading.Event()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}
        )

    def add(self, *faults: Fault) -> FaultProxy:
        """Script ``faults`` (applied in order, each to its next ``times``)."""
        with self._server.script.lock:
            self._server.script.faults.extend(faults)
        return self

    def clear(self) -> None:
        """Forget every fault and what was seen."""
        with self._server.script.lock:
            self._server.script.faults.clear()
            self._server.script.seen.clear()
            self._server.script.arrivals.clear()

    @property
    def seen(self) -> list[tuple[str, str]]:
        """``(operation, outcome)`` of every request, in order."""
        with self._server.script.lock:
            return list(self._server.script.seen)

    def count(self, operation: str, outcome: str | None = None) -> int:
        """How many requests of ``operation`` (with ``outcome``) came through."""
        wanted = operation.lower()
        return sum(
            1
            for seen, result in self.seen
            if seen == wanted and (outcome is None or result == outcome)
        )

    def arrivals(self, *operations: str) -> list[float]:
        """When each request of ``operations`` (default: every request) came
        in, in ``time.monotonic()`` seconds."""
        wanted = {operation.lower() for operation in operations}
        with self._server.script.lock:
            return [
                at
                for at, seen in self._server.script.arrivals
                if not wanted or seen in wanted
            ]

    def closest_arrivals(self, *operations: str) -> float:
        """The shortest time between two consecutive requests of ``operations``
        (default: all), in seconds (``inf`` for fewer than two)."""
        times = sorted(self.arrivals(*operations))
        return min((b - a for a, b in itertools.pairwise(times)), default=float("inf"))

    def pending(self) -> int:
        """How many scripted faults have not happened yet."""
        with self._server.script.lock:
            return sum(fault.times for fault in self._server.script.faults)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def fault_proxy(upstream: str, *, latency: float = 0.0) -> Iterator[FaultProxy]:
    """A started ``FaultProxy`` in front of ``upstream``, stopped afterwards."""
    with FaultProxy(upstream, latency=latency) as proxy:
        yield proxy


def main() -> None:
    """Run a proxy in its own process (a benchmark's CPU is then its own):
    ``python -m tests.support.fault_proxy UPSTREAM [--latency S]``; prints its
    URL on the first line of stdout and serves until stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("upstream")
    parser.add_argument("--latency", type=float, default=0.0)
    arguments = parser.parse_args()
    with FaultProxy(arguments.upstream, latency=arguments.latency) as proxy:
        print(proxy.url, flush=True)
        sys.stdin.read()  # until the parent closes it (or exits)


if __name__ == "__main__":
    main()
