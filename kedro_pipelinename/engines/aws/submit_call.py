"""SubmitJob's first try of each job, without botocore's per-call pipeline.

botocore turns every call into events, a parameter walk, an endpoint-rules
evaluation, an ``AWSRequest`` signed header by header, a retry handler and a
response walk: about 2.3 ms of the driver's CPU per SubmitJob on this machine,
two thirds of its CPU per job (``tests/benchmarks/bench_submit_call.py``). For
a request the pre-flight has already validated, nearly all of that is the same
for every job. ``DirectSubmit`` sends it as botocore would send it, for about
half the CPU (1.19 against 2.20 ms a call, ``bench_submit_call``):

- **Learned, not guessed.** It does nothing until botocore itself has sent one
  SubmitJob of this client: from that request (``before-send``) it takes the
  URL, the SigV4 scope (region and signing name), the ``User-Agent`` and the
  ``Content-Type``. A client whose request it cannot read that way (another
  signature version, an endpoint with a path, a proxy, a client certificate, a
  Stubber that answers before anything is sent) keeps botocore for every call.
- **The same body.** SubmitJob is REST-JSON with every member in the body, so
  the body is the request's JSON (``tests/aws_faults/test_submit_call.py``
  compares it with botocore's serializer for every request shape the engine
  makes).
- **The same signature.** SigV4 over the same canonical request, with the
  client's credentials (refreshed as botocore refreshes them); compared with
  botocore's ``SigV4Auth`` under Hypothesis.
- **The same events and errors.** It emits ``before-parameter-build`` and
  ``before-send`` as botocore does, so the rate limit (``api.limit_rate``) and
  any handler see the parameters and may answer the request. A failure raises
  botocore's exception for it (``DirectSession``; an error answer is parsed by
  botocore's parser and raised as the client's ``ClientError`` class), so the
  engine reads it with ``retries.kind_of`` as before.
- **Only a first try.** Every retry the engine makes goes through botocore
  (``AWSBatchEngine._submit``), with its retry mode, as before.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import json
import re
import uuid
import weakref
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from ...batch.kit import logger_for
from .http import DirectSession, header_text, host_header

logger = logger_for(__name__)

#: The operation, and the ``X-Amz-Date`` format SigV4 signs.
OPERATION: Final = "SubmitJob"
_TIMESTAMP: Final = "%Y%m%dT%H%M%SZ"
#: The scope of botocore's ``Authorization`` header: key, day, region, service.
_SIGV4: Final = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,"
)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


@functools.lru_cache(maxsize=4)
def _signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    """SigV4's key of a day, region and service: the same for every request of
    that day, so derived once (four HMACs) rather than per request."""
    return _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service),
        "aws4_request",
    )


def sigv4_headers(
    *,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    region: str,
    service: str,
    access_key: str,
    secret_key: str,
    token: str | None,
    now: datetime.datetime,
) -> dict[str, str]:
    """The headers that sign a POST of ``body`` to ``url`` with SigV4
    (``X-Amz-Date``, ``X-Amz-Security-Token`` with a session token,
    ``Authorization``), signing ``Host`` and every header of ``headers``.

    The algorithm of AWS's "Create a signed AWS API request", as botocore's
    ``SigV4Auth`` computes it for a request without a query string.
    """
    parts = urlsplit(url)
    stamp = now.strftime(_TIMESTAMP)
    day = stamp[:8]
    added = {"X-Amz-Date": stamp}
    if token:
        added["X-Amz-Security-Token"] = token
    # botocore's canonical_headers: names lower-cased, runs of spaces in values
    # collapsed.
    signed = {
        name.lower(): " ".join(value.split())
        for name, value in (*headers.items(), *added.items())
    }
    signed["host"] = host_header(parts)
    names = sorted(signed)
    canonical = "\n".join(
        (
            "POST",
            parts.path or "/",
            "",
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        (
            "AWS4-HMAC-SHA256",
            stamp,
            scope,
            hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        )
    )
    key = _signing_key(secret_key, day, region, service)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return added


class DirectSubmit:
    """SubmitJob of a client made by ``api.make_client``, sent as botocore
    sends it (see the module's docstring).

    Args:
        client: The Batch client.
        credentials: Its credentials (botocore's ``Credentials``).
        session: Its ``DirectSession``.
    """

    def __init__(self, client: Any, credentials: Any, session: DirectSession) -> None:
        self._client = client
        self._credentials = credentials
        self._session = session
        service = client.meta.service_model
        service_id = service.service_id.hyphenize()
        self._event = f"before-send.{service_id}.{OPERATION}"
        self._parameters_event = f"before-parameter-build.{service_id}.{OPERATION}"
        self._operation = service.operation_model(OPERATION)
        self._protocol = service.metadata["protocol"]
        #: What botocore's first SubmitJob showed: URL, region, service, the
        #: ``User-Agent`` and ``Content-Type`` headers.
        self._learned: tuple[str, str, str, str, str] | None = None
        client.meta.events.register(self._event, self._learn)

    @property
    def ready(self) -> bool:
        """Whether it has learned from botocore's first SubmitJob."""
        return self._learned is not None

    def _learn(self, request: Any, **_: Any) -> None:
        """From botocore's first SubmitJob: its URL, SigV4 scope, agent and
        content type."""
        if self._learned is not None or getattr(request, "_direct", False):
            return
        match = _SIGV4.match(header_text(request.headers.get("Authorization", "")))
        url = str(request.url)
        parts = urlsplit(url)
        if (
            match is None
            or parts.query
            or parts.path != self._operation.http["requestUri"]
            or not self._session.sends_directly(url)
        ):
            return
        self._learned = (
            url,
            match["region"],
            match["service"],
            header_text(request.headers.get("User-Agent", "")),
            header_text(request.headers.get("Content-Type", "application/json")),
        )

    def submit(self, request: dict[str, Any]) -> str | None:
        """Send ``request`` (``batch.submit_job``'s keyword arguments); the
        new job's id, or ``None`` before it has learned (send it through
        botocore).

        Raises:
            botocore.exceptions.ClientError: AWS answered an error (the
                client's class for its code, as botocore raises it).
            botocore.exceptions.BotoCoreError: As ``DirectSession.exchange``.
        """
        learned = self._learned
        if learned is None:
            return None
        from botocore.awsrequest import AWSPreparedRequest, HeadersDict

        url, region, service, agent, content_type = learned
        # As botocore: handlers may check, count or change the parameters.
        self._client.meta.events.emit(
            self._parameters_event,
            params=request,
            model=self._operation,
            context={},
        )
        credentials = self._credentials.get_frozen_credentials()
        body = json.dumps(request, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": content_type}
        headers.update(
            sigv4_headers(
                url=url,
                body=body,
                headers=headers,
                region=region,
                service=service,
                access_key=credentials.access_key,
                secret_key=credentials.secret_key,
                token=credentials.token,
                now=datetime.datetime.now(datetime.timezone.utc),
            )
        )
        headers["User-Agent"] = agent
        headers["amz-sdk-invocation-id"] = str(uuid.uuid4())
        prepared = AWSPreparedRequest(
            method="POST",
            url=url,
            headers=HeadersDict(headers),
            body=body,
            stream_output=False,
        )
        prepared._direct = True  # not one to learn from
        # The rate limit, and any handler that counts, fails or answers a send.
        _, answer = self._client.meta.events.emit_until_response(
            self._event, request=prepared
        )
        if answer is not None:
            status, answer_headers, data = (
                answer.status_code,
                list(answer.headers.items()),
                answer.content,
            )
        else:
            status, answer_headers, data = self._session.exchange(
                "POST", url, prepared.headers.items(), body
            )
        if status >= 300:
            raise self._error(status, answer_headers, data)
        try:
            return str(json.loads(data)["jobId"])
        except (ValueError, KeyError, TypeError) as error:
            from botocore.exceptions import ResponseParserError

            # What botocore raises for an answer it cannot read.
            raise ResponseParserError(
                f"SubmitJob's answer ({status}) has no job id: {data[:200]!r}"
            ) from error

    def _error(
        self, status: int, headers: list[tuple[str, str]], data: bytes
    ) -> Exception:
        """botocore's exception for an error answer, as the client raises it."""
        from botocore.awsrequest import HeadersDict
        from botocore.parsers import create_parser

        parsed = create_parser(self._protocol).parse(
            {"status_code": status, "headers": HeadersDict(headers), "body": data},
            self._operation.output_shape,
        )
        code = parsed.get("Error", {}).get("Code")
        error_class = self._client.exceptions.from_code(code)
        error: Exception = error_class(parsed, OPERATION)
        return error


#: The ``DirectSubmit`` of each client ``api.make_client`` made.
_DIRECT: weakref.WeakKeyDictionary[Any, DirectSubmit] = weakref.WeakKeyDictionary()


def submit_directly(client: Any, credentials: Any) -> None:
    """Give ``client`` a ``DirectSubmit`` (``direct_submit_of``), if it sends
    on a ``DirectSession`` and has credentials; else it keeps botocore."""
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    if not isinstance(session, DirectSession) or credentials is None:
        return
    try:
        _DIRECT[client] = DirectSubmit(client, credentials, session)
    except (AttributeError, KeyError, TypeError) as error:
        logger.debug("SubmitJob keeps botocore's pipeline: %s", error)


def direct_submit_of(client: Any) -> DirectSubmit | None:
    """The ``DirectSubmit`` ``submit_directly`` gave ``client``, if any."""
    try:
        return _DIRECT.get(client)
    except TypeError:  # not weak-referenceable: a stand-in client
        return None
