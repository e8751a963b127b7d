"""``http_reader.read_response`` reads every answer as ``http.client`` does:
the same status, header fields, body and connection state, or the same
exception, for answers Hypothesis makes of well- and ill-formed parts."""

from __future__ import annotations

import http.client
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kedro_pipelinename.engines.aws.http_reader import read_response

#: Text of one line: any latin-1 character but the line feed (a bare CR too).
LINE_TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=255, blacklist_characters="\n"),
    max_size=20,
)
TOKEN = st.text(st.sampled_from("abcXYZ-_09!~"), min_size=1, max_size=8)
NAMES = (
    st.sampled_from(
        [
            "Content-Type",
            "content-length",
            "Connection",
            "Transfer-Encoding",
            "Keep-Alive",
            "x-amzn-RequestId",
        ]
    )
    | TOKEN
)


@st.composite
def header_lines(draw: st.DrawFn) -> list[str]:
    kinds = st.one_of(
        st.builds(lambda n, v: f"{n}: {v}", NAMES, LINE_TEXT),
        st.builds(lambda n, v: f"{n}:{v}", NAMES, LINE_TEXT),
        st.builds(lambda v: f" {v}", LINE_TEXT),  # a continuation
        st.builds(lambda v: f"\t{v}", LINE_TEXT),
        st.builds(lambda v: f"From {v}", LINE_TEXT),
        st.builds(lambda v: f":{v}", LINE_TEXT),
        LINE_TEXT,  # anything: often no field at all
        st.sampled_from(
            [
                "Content-Length: 5",
                "Content-Length: -3",
                "Content-Length: x",
                "Transfer-Encoding: chunked",
                "Transfer-Encoding: CHUNKED",
                "Connection: close",
                "Connection: keep-alive",
                "Keep-Alive: timeout=5",
                "Proxy-Connection: keep-alive",
            ]
        ),
    )
    return draw(st.lists(kinds, max_size=8))


@st.composite
def answers(draw: st.DrawFn) -> bytes:
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    version = draw(
        st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2", "HTTX/1.1", ""])
    )
    status = draw(
        st.sampled_from(
            ["200", "204", "304", "100", "101", "404", "503", "99", "1000", "2x0"]
        )
    )
    reason = draw(st.sampled_from(["", " OK", " Service Unavailable"]))
    head = ""
    if draw(st.booleans()):
        head += f"HTTP/1.1 100 Continue{newline}{newline}"
    head += f"{version} {status}{reason}{newline}"
    head += "".join(line + newline for line in draw(header_lines()))
    head += newline
    body = draw(
        st.one_of(
            st.binary(max_size=12),
            # A chunked body, sometimes cut short or ill-formed.
            st.lists(st.binary(min_size=1, max_size=6), max_size=3).map(
                lambda chunks: (
                    b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
                    + b"0\r\n\r\n"
                )
            ),
            st.sampled_from(
                [b"5\r\nab", b"zz\r\n", b"3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n"]
            ),
        )
    )
    return head.encode("latin-1") + body


class _Socket:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self._data)


def _as_http_client(data: bytes, method: str) -> tuple[Any, ...]:
    response = http.client.HTTPResponse(_Socket(data), method=method)  # type: ignore[arg-type]
    try:
        response.begin()
        closes = response.will_close
        body = response.read()
    except Exception as error:
        return ("error", type(error))
    return ("ok", response.status, response.getheaders(), body, closes)


def _as_read_response(data: bytes, method: str) -> tuple[Any, ...]:
    try:
        status, fields, body, closes = read_response(io.BytesIO(data), method)
    except Exception as error:
        return ("error", type(error))
    return ("ok", status, fields, body, closes)


@given(data=answers(), method=st.sampled_from(["POST", "GET", "HEAD"]))
@settings(max_examples=600, deadline=None)
def test_an_answer_reads_as_http_client_reads_it(data: bytes, method: str) -> None:
    assert _as_read_response(data, method) == _as_http_client(data, method)


def test_more_than_100_header_lines_are_refused_as_by_http_client() -> None:
    for count in (98, 99, 100, 101):
        data = (
            b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * count + b"Content-Length: 0\r\n\r\n"
        )
        assert _as_read_response(data, "POST") == _as_http_client(data, "POST")


def test_an_aws_answer_is_read_whole() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 17:00:00 GMT\r\n"
        b"Content-Type: application/json\r\nContent-Length: 17\r\n"
        b"Connection: keep-alive\r\nx-amzn-RequestId: 1-2-3\r\n\r\n"
        b'{"jobId": "a-b"}\n'
    )
    status, fields, body, closes = read_response(io.BytesIO(data), "POST")
    assert (status, body, closes) == (200, b'{"jobId": "a-b"}\n', False)
    assert dict(fields)["x-amzn-RequestId"] == "1-2-3"
