"""The Batch client's HTTP exchange without urllib3 (``engines/aws/http.py``):
the errors botocore's own session raises for the same failures, since the
engine's no-duplicate rule reads them (``retries.kind_of``), and kept-alive
connections that the server closed are opened again, not failed."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import (
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import URLLib3Session
from hypothesis import given, settings
from hypothesis import strategies as st

from kedro_pipelinename.engines.aws.api import make_client
from kedro_pipelinename.engines.aws.http import DirectSession, _head
from kedro_pipelinename.engines.aws.retries import ErrorKind, kind_of
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings

#: Seconds any one wait of these tests may take (they are bounded).
BOUND = 10.0

ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"x-amzn-RequestId: r-1\r\nContent-Length: 2\r\n\r\n{}"
)


def _read_request(conn: socket.socket) -> bytes:
    """One request's bytes (headers and a ``Content-Length`` body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def server(handle: Callable[[socket.socket, int], None]) -> Iterator[str]:
    """A one-thread server on 127.0.0.1; ``handle(connection, number)`` for
    each connection accepted; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(BOUND)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        # Bounded: a few connections per test, each accept waits BOUND at most.
        for number in range(10):
            if stop.is_set():
                return
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if stop.is_set():
                conn.close()
                return
            conn.settimeout(BOUND)
            with conn, suppress(OSError):  # the client may have gone
                handle(conn, number)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        # A connection wakes the accept that waits (closing the listener does
        # not, on Linux).
        with socket.create_connection(("127.0.0.1", port), timeout=BOUND):
            pass
        thread.join(BOUND)
        listener.close()


def request(url: str) -> Any:
    return AWSRequest(
        method="POST",
        url=f"{url}/v1/submitjob",
        data=b'{"jobName": "a"}',
        headers={"Content-Type": "application/json"},
    ).prepare()


def session(read_timeout: float = BOUND) -> DirectSession:
    return DirectSession(URLLib3Session(timeout=(BOUND, read_timeout)))


def test_the_engines_client_sends_through_it() -> None:
    client = make_client(
        AWSBatchSettings(job_queue="q", job_definition="d", region="eu-west-1")
    )
    assert isinstance(client._endpoint.http_session, DirectSession)


def test_an_answer_reaches_botocore_as_from_its_own_session() -> None:
    seen: list[bytes] = []

    def answer(conn: socket.socket, number: int) -> None:
        seen.append(_read_request(conn))
        conn.sendall(ANSWER)

    with server(answer) as url:
        response = session().send(request(url))
    assert response.status_code == 200
    assert response.content == b"{}"
    assert response.headers["X-Amzn-RequestId"] == "r-1"  # any case
    head = seen[0].split(b"\r\n\r\n")[0].lower()
    assert b"content-length: 16" in head
    assert head.count(b"\r\nhost: 127.0.0.1:") == 1
    assert seen[0].endswith(b'{"jobName": "a"}')


def test_no_server_is_a_failed_connection_nothing_was_sent() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(EndpointConnectionError) as caught:
        session().send(request(f"http://127.0.0.1:{port}"))
    assert kind_of(caught.value) is ErrorKind.NOT_SENT


def test_a_connection_closed_after_the_request_is_an_unknown_outcome() -> None:
    def close(conn: socket.socket, number: int) -> None:
        _read_request(conn)  # the request arrived; no answer

    with server(close) as url, pytest.raises(ConnectionClosedError) as caught:
        session().send(request(url))
    assert kind_of(caught.value) is ErrorKind.UNKNOWN_OUTCOME


def test_no_answer_in_time_is_a_read_timeout() -> None:
    answered = threading.Event()

    def hang(conn: socket.socket, number: int) -> None:
        _read_request(conn)
        answered.wait(BOUND)

    with server(hang) as url, pytest.raises(ReadTimeoutError) as caught:
        try:
            session(read_timeout=0.2).send(request(url))
        finally:
            answered.set()
    assert kind_of(caught.value) is ErrorKind.UNKNOWN_OUTCOME


def test_a_kept_alive_connection_the_server_closed_is_opened_again() -> None:
    """The server answers one request per connection, then closes it: the
    second request goes on a new connection, not into the closed one (which
    would be a lost answer: a SubmitJob look-up, or an error)."""

    def one_answer(conn: socket.socket, number: int) -> None:
        _read_request(conn)
        conn.sendall(ANSWER)  # keep-alive answer, then the server closes

    with server(one_answer) as url:
        direct = session()
        first = direct.send(request(url))
        # Bounded: the close reaches this side within BOUND.
        connection = next(iter(direct._connections))
        assert connection.sock is not None
        connection.sock.settimeout(BOUND)
        readable = connection.sock.recv(1, socket.MSG_PEEK)
        assert readable == b""  # the server's close arrived
        second = direct.send(request(url))
        direct.close()
    assert (first.status_code, second.status_code) == (200, 200)


def test_a_proxied_request_goes_through_botocores_session() -> None:
    sent: list[Any] = []

    class Fallback(URLLib3Session):  # type: ignore[misc]
        def send(self, request: Any) -> Any:
            sent.append(request)
            return "botocore's"

    fallback = Fallback(proxies={"http": "http://proxy.invalid:3128"})
    answer = DirectSession(fallback).send(request("http://batch.invalid"))
    assert answer == "botocore's" and len(sent) == 1


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and its key (``cryptography``, which
    moto needs too)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_verifies_against_the_ca_bundle_botocore_would_use(
    tmp_path: Path,
) -> None:
    """Requests to AWS go over TLS: the certificate is checked against the CA
    bundle botocore would use (``verify``), one connection carries several
    requests, and an untrusted certificate is botocore's ``SSLError``."""
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def answer(conn: socket.socket, number: int) -> None:
        try:
            secured = context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            return  # the client refused the certificate
        with secured:
            for _ in range(3):  # keep-alive: up to 3 requests a connection
                if not _read_request(secured):
                    return
                secured.sendall(ANSWER)

    with server(answer) as url:
        https = url.replace("http://127.0.0.1", "https://localhost")
        trusting = DirectSession(URLLib3Session(verify=str(cert), timeout=BOUND))
        statuses = [trusting.send(request(https)).status_code for _ in range(3)]
        opened = len(trusting._connections)
        trusting.close()
        untrusting = DirectSession(URLLib3Session(verify=True, timeout=BOUND))
        with pytest.raises(SSLError):
            untrusting.send(request(https))
    assert statuses == [200, 200, 200]
    assert opened == 1


#: Header text http.client would send (latin-1).
HEADER_TEXT = st.text(st.characters(max_codepoint=255), max_size=30)


@given(
    value=HEADER_TEXT,
    breaking=st.sampled_from(["\r", "\n", "\r\n", "\x00"]),
    at=st.integers(0, 30),
)
@settings(max_examples=200, deadline=None)
def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(
    value: str, breaking: str, at: int
) -> None:
    """A CR, LF or NUL in a header would split the request (header
    injection): refused, naming the header, before any connection (nothing
    listens on port 9: a request that went would fail otherwise)."""
    session = DirectSession(URLLib3Session())
    bad = value[:at] + breaking + value[at:]
    with pytest.raises(ValueError, match=r"'X-Job' of a request .* holds a line break"):
        session.exchange(
            "POST", "http://127.0.0.1:9/v1/submitjob", [("X-Job", bad)], b"{}"
        )


@given(
    values=st.lists(
        HEADER_TEXT.filter(lambda v: not set(v) & set("\r\n\x00")), max_size=5
    )
)
@settings(max_examples=200, deadline=None)
def test_headers_without_line_breaks_are_sent_verbatim(values: list[str]) -> None:
    head = _head(
        "POST",
        urlsplit("http://127.0.0.1:9/v1/submitjob"),
        [(f"X-{number}", value) for number, value in enumerate(values)],
        b"{}",
    )
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "POST /v1/submitjob HTTP/1.1"
    assert lines[1] == "Host: 127.0.0.1:9"
    assert lines[2 : 2 + len(values)] == [
        f"X-{number}: {value}" for number, value in enumerate(values)
    ]
    assert lines[2 + len(values) :] == ["Content-Length: 2", "", ""]
