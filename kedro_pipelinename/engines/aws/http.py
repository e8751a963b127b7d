"""The Batch client's HTTP exchange on ``http.client``, without urllib3.

botocore sends each request through urllib3 (``URLLib3Session``): a pool
manager, a ``Retry`` object, a copy of the headers and urllib3's own response
and header classes around ``http.client``'s. For the driver that layer was about
half the CPU of the HTTP exchange, and the exchange about half of one SubmitJob
(``tests/benchmarks/bench_submit_call.py``). ``DirectSession`` sends the same
request on one kept-alive ``http.client`` connection per thread and endpoint,
and raises the errors botocore's session raises for the same failures, so that
botocore's retries and the engine's (``retries.kind_of``: a failed connection
created nothing; a timeout or a closed connection after sending may have) read
them the same way.

Anything it does not do the way botocore's session does is sent by botocore's
session: a request through a proxy, with a client certificate, with a streamed
or chunked body or ``Expect: 100-continue``, a streamed answer, or a
per-request timeout.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ...batch.kit import logger_for
from .http_reader import read_response

logger = logger_for(__name__)

#: The ports a ``Host`` header leaves out.
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: What may not be in a header: it would end the header (injection).
_LINE_BREAK = re.compile(r"[\r\n\x00]")


class _Body:
    """The answer's body, read whole, as botocore's ``AWSResponse`` reads a
    urllib3 response (``stream()``)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._data

    def close(self) -> None:
        """Nothing is held open: the body was read whole."""


def _dropped(sock: socket.socket) -> bool:
    """Whether a kept-alive connection was closed (or sent something
    unasked) while idle: it is readable. urllib3 checks the same before it
    reuses a pooled connection; without the check the next request would go on
    a dead connection and fail as a lost answer (for SubmitJob: a look-up)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)  # pragma: no cover
    return bool(readable)


def host_header(parts: SplitResult) -> str:
    """The ``Host`` of a URL as http.client and botocore's signer write it:
    IPv6 in brackets, the port unless it is the scheme's default."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{port}"
    return host


def header_text(value: object) -> str:
    """A header's name or value as text (botocore gives some as bytes)."""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _head(
    method: str,
    parts: SplitResult,
    headers: Iterable[tuple[Any, Any]],
    body: bytes,
) -> bytes:
    """A request's line and headers, as http.client would write them: ``Host``
    and ``Content-Length`` added when not given; a line break in any of them
    refused (it would split the request: header injection)."""
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    lines = [f"{method} {target} HTTP/1.1"]
    given = set()
    for raw_name, raw_value in headers:
        # botocore gives some values as bytes (http.client takes str, bytes or int).
        name, value = header_text(raw_name), header_text(raw_value)
        given.add(name.lower())
        lines.append(f"{name}: {value}")
    if "host" not in given:
        lines.insert(1, f"Host: {host_header(parts)}")
    if "content-length" not in given and (body or method in ("POST", "PUT")):
        lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines)
    # One search of the whole head: a CR, LF or NUL beyond the separators is
    # in a header (or the target), which would split the request.
    if len(_LINE_BREAK.findall(head)) != 2 * (len(lines) - 1):
        for line in lines[1:]:
            if _LINE_BREAK.search(line):
                name = line.split(":", 1)[0]
                raise ValueError(
                    f"The header {name!r} of a request to {parts.netloc} holds a "
                    f"line break; it was not sent."
                )
        raise ValueError(
            f"The target of a request to {parts.netloc} holds a line break; it "
            f"was not sent."
        )
    return (head + "\r\n\r\n").encode("latin-1")


class DirectSession:
    """botocore's ``URLLib3Session`` interface (``send``, ``close``) on
    ``http.client``, for the requests it can send as botocore would; the others
    go to ``fallback``, the client's own session.

    Args:
        fallback: The client's ``URLLib3Session``, whose timeouts, TLS
            verification, proxies and socket options it follows.
    """

    def __init__(self, fallback: Any) -> None:
        from botocore.httpsession import get_cert_path

        self._fallback = fallback
        timeout = fallback._timeout
        if isinstance(timeout, (int, float)):
            self._connect_timeout = self._read_timeout = float(timeout)
        else:  # urllib3's Timeout
            self._connect_timeout = timeout.connect_timeout
            self._read_timeout = timeout.read_timeout
        self._socket_options = list(fallback._socket_options or ())
        self._proxy_config = fallback._proxy_config
        self._uses_client_cert = fallback._cert_file is not None
        verify = fallback._verify
        self._ssl_context: ssl.SSLContext | None = None
        self._verify = verify
        self._cert_path = get_cert_path(verify) if verify else None
        self._local = threading.local()
        #: Every connection opened, for ``close`` (from any thread).
        self._connections: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def _context(self) -> ssl.SSLContext:
        """The TLS context: verifying against botocore's CA bundle
        (``get_cert_path``: ``AWS_CA_BUNDLE``, ``verify``, certifi) unless
        ``verify`` is off."""
        if self._ssl_context is None:
            if self._verify:
                path = self._cert_path
                if path is not None and os.path.isdir(path):
                    context = ssl.create_default_context(capath=path)
                else:
                    context = ssl.create_default_context(cafile=path)
            else:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._ssl_context = context
        return self._ssl_context

    def _direct(self, request: Any) -> bool:
        """Whether ``request`` is one this session sends as botocore would."""
        if request.stream_output or self._uses_client_cert:
            return False
        if not isinstance(request.body, (bytes, type(None))):
            return False
        context = getattr(request, "context", None) or {}
        if context.get("read_timeout") is not None:
            return False
        if "transfer-encoding" in request.headers or "expect" in request.headers:
            return False  # chunked, or 100-continue: urllib3's handling
        return self._proxy_config.proxy_url_for(request.url) is None

    def sends_directly(self, url: str) -> bool:
        """Whether a request to ``url`` with a whole body is one this session
        sends itself (no proxy, no client certificate)."""
        return (
            not self._uses_client_cert and self._proxy_config.proxy_url_for(url) is None
        )

    def send(self, request: Any) -> Any:
        """Send ``request`` (an ``AWSPreparedRequest``); botocore's
        ``AWSResponse``, its body read.

        Raises:
            As ``exchange``.
        """
        if not self._direct(request):
            return self._fallback.send(request)
        from botocore.awsrequest import AWSResponse, HeadersDict

        status, headers, data = self.exchange(
            request.method, request.url, request.headers.items(), request.body or b""
        )
        return AWSResponse(request.url, status, HeadersDict(headers), _Body(data))

    def exchange(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[Any, Any]],
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request on this thread's kept-alive connection to ``url``'s
        host, in one write (head and body: no wait for a delayed ACK between
        them); the answer (read by ``http_reader.read_response``, as http.client
        reads it): its status, headers and whole body.

        Raises:
            botocore.exceptions.EndpointConnectionError: No connection could
                be made (nothing was sent).
            botocore.exceptions.ConnectTimeoutError: Connecting timed out.
            botocore.exceptions.ReadTimeoutError: No answer in time.
            botocore.exceptions.ConnectionClosedError: The connection broke
                after the request went (its outcome is unknown).
            botocore.exceptions.SSLError: TLS failed.
            ValueError: A header holds a line break (nothing was sent).
        """
        from botocore.exceptions import (
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
            SSLError,
        )

        parts = urlsplit(url)
        head = _head(method, parts, headers, body)
        connection = self._connection(parts.scheme, parts.hostname or "", parts.port)
        try:
            if connection.sock is not None and _dropped(connection.sock):
                connection.close()
            if connection.sock is None:
                connection.connect()
                assert connection.sock is not None
                for option in self._socket_options:
                    connection.sock.setsockopt(*option)
                connection.sock.settimeout(self._read_timeout)
        except TimeoutError as error:
            connection.close()
            raise ConnectTimeoutError(endpoint_url=url, error=error) from error
        except ssl.SSLError as error:
            connection.close()
            raise SSLError(endpoint_url=url, error=error) from error
        except OSError as error:
            connection.close()
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        sock = connection.sock
        try:
            sock.sendall(head + body)
            answer = sock.makefile("rb")
            try:
                status, fields, data, closes = read_response(answer, method)
            finally:
                answer.close()  # the socket stays open: the connection holds it
            if closes:
                connection.close()
        except TimeoutError as error:
            connection.close()
            raise ReadTimeoutError(endpoint_url=url, error=error) from error
        except ssl.SSLError as error:
            connection.close()
            raise SSLError(endpoint_url=url, error=error) from error
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise ConnectionClosedError(
                error=error, request=None, endpoint_url=url
            ) from error
        except BaseException:
            # Ctrl-C mid-exchange: the connection's state is unknown.
            connection.close()
            raise
        return status, fields, data

    def _connection(
        self, scheme: str, host: str, port: int | None
    ) -> http.client.HTTPConnection:
        """This thread's connection to ``scheme://host:port`` (not opened)."""
        connections: dict[tuple[str, str, int | None], http.client.HTTPConnection]
        connections = getattr(self._local, "connections", None) or {}
        self._local.connections = connections
        key = (scheme, host, port)
        connection = connections.get(key)
        if connection is None:
            if scheme == "https":
                connection = http.client.HTTPSConnection(
                    host, port, timeout=self._connect_timeout, context=self._context()
                )
            else:
                connection = http.client.HTTPConnection(
                    host, port, timeout=self._connect_timeout
                )
            connections[key] = connection
            with self._lock:
                self._connections.add(connection)
        return connection

    def close(self) -> None:
        """Close every connection (of every thread) and botocore's session."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()
        self._fallback.close()


def send_directly(client: Any) -> None:
    """Make ``client`` send its requests through a ``DirectSession``; a client
    whose endpoint is not as expected (another botocore) is left as it was."""
    try:
        from botocore.httpsession import URLLib3Session

        endpoint = client._endpoint
        session = endpoint.http_session
        if not isinstance(session, URLLib3Session):
            return
        endpoint.http_session = DirectSession(session)
    except (AttributeError, ImportError, TypeError) as error:
        logger.debug("The Batch client keeps botocore's HTTP session: %s", error)
