"""SubmitJob without botocore's per-call pipeline (``engines/aws/submit_call.py``):
the same body, the same signature, the same events and the same errors as
botocore's, and a first try only once botocore has shown how it sends one."""

from __future__ import annotations

import datetime
import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.serialize import create_serializer
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kedro_pipelinename.batch.engine import ArraySubmission, Submission
from kedro_pipelinename.batch.plan import PlannedJob
from kedro_pipelinename.engines.aws.api import (
    make_client,
    submit_array_request,
    submit_job_request,
)
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.http import host_header
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from kedro_pipelinename.engines.aws.submit_call import direct_submit_of, sigv4_headers
from tests.aws_faults.through_proxy import engine_through
from tests.support.aws import BatchWorld
from tests.support.fault_proxy import SERVICE_UNAVAILABLE, THROTTLED, Fault, FaultProxy
from tests.support.plans import RUN_ID

#: Text AWS accepts in a job's values (``aws_string`` refuses NUL and lone surrogates).
TEXT = st.text(
    st.characters(codec="utf-8", blacklist_characters="\x00"),
    max_size=30,
)
NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)


@st.composite
def jobs(draw: st.DrawFn) -> PlannedJob:
    name = draw(NAMES)
    return PlannedJob(
        name=name,
        group=name,
        namespace=draw(st.none() | NAMES),
        nodes=(name,),
        tags=draw(st.lists(NAMES, max_size=3)),
        depends_on=(),
        command=draw(st.lists(TEXT, min_size=1, max_size=5)),
        env=draw(
            st.dictionaries(
                st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True),
                TEXT,
                max_size=4,
            )
        ),
    )


@st.composite
def aws_settings(draw: st.DrawFn) -> AWSBatchSettings:
    return AWSBatchSettings(
        job_queue="queue",
        job_definition="definition",
        region="eu-west-1",
        tags=draw(st.dictionaries(NAMES, TEXT, max_size=3)),
        resources=draw(st.sampled_from([{}, {"vcpu": 2, "memory": 4096}])),
        retry_attempts=draw(st.none() | st.integers(1, 10)),
        attempt_timeout=draw(st.none() | st.integers(60, 86_400)),
        evaluate_on_exit=draw(
            st.sampled_from([[], [{"onExitCode": "137", "action": "retry"}]])
        ),
    )


@given(
    job=jobs(),
    settings_=aws_settings(),
    parents=st.lists(st.uuids().map(str), max_size=3),
    array_size=st.none() | st.integers(2, 10_000),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_body_is_what_botocore_serializes(
    job: PlannedJob,
    settings_: AWSBatchSettings,
    parents: list[str],
    array_size: int | None,
) -> None:
    """Every request shape the engine makes (a job's, an array's with
    ``N_TO_N``) has the body botocore would send: SubmitJob is REST-JSON with
    every member in the body."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("batch")
    operation = model.operation_model("SubmitJob")
    submission = Submission(job=job, depends_on=tuple(parents))
    request = submit_job_request(submission, settings_, RUN_ID)
    if array_size is not None:
        request = submit_array_request(
            ArraySubmission(
                name=job.name,
                jobs=(job,) * 2,
                command=job.command,
                env=job.env,
                depends_on=tuple(parents[:1]),
                pairs_with=tuple(parents[1:]),
            ),
            settings_,
            RUN_ID,
        )
    serialized = create_serializer("rest-json").serialize_to_request(request, operation)
    assert serialized["url_path"] == operation.http["requestUri"]
    assert not serialized["query_string"]
    direct_body = json.dumps(request, separators=(",", ":")).encode()
    assert json.loads(direct_body) == json.loads(serialized["body"])


@given(
    body=st.binary(max_size=300),
    access_key=st.from_regex(r"[A-Z0-9]{16,20}", fullmatch=True),
    secret_key=st.text(
        st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40
    ),
    token=st.none()
    | st.text(
        st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60
    ),
    region=st.sampled_from(
        ["eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"]
    ),
    host=st.sampled_from(
        [
            "https://batch.eu-west-1.amazonaws.com",
            "http://127.0.0.1:5000",
            "https://batch-fips.us-gov-west-1.amazonaws.com:443",
            "http://[::1]:8080",
        ]
    ),
    now=st.datetimes(
        min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1)
    ),
    agent_spaces=st.integers(0, 3),
)
@settings(max_examples=200, deadline=None)
def test_the_signature_is_botocores(
    body: bytes,
    access_key: str,
    secret_key: str,
    token: str | None,
    region: str,
    host: str,
    now: datetime.datetime,
    agent_spaces: int,
) -> None:
    """SigV4 of a SubmitJob as botocore's ``SigV4Auth`` computes it, for any
    body, keys, session token, region, endpoint and time."""
    url = f"{host}/v1/submitjob"
    content_type = "application/" + " " * agent_spaces + "json"
    credentials = Credentials(access_key, secret_key, token)
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": content_type}
    )
    request.context["timestamp"] = now.strftime("%Y%m%dT%H%M%SZ")
    auth = SigV4Auth(credentials, "batch", region)
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    auth._inject_signature_to_request(request, signature)

    direct = sigv4_headers(
        url=url,
        body=body,
        headers={"Content-Type": content_type},
        region=region,
        service="batch",
        access_key=access_key,
        secret_key=secret_key,
        token=token,
        now=now,
    )
    assert direct["Authorization"] == request.headers["Authorization"]
    assert direct["X-Amz-Date"] == request.headers["X-Amz-Date"]
    assert direct.get("X-Amz-Security-Token") == request.headers.get(
        "X-Amz-Security-Token"
    )
    # The Host DirectSession sends is the one signed.
    assert host_header(urlsplit(url)) == auth.headers_to_sign(request)["host"]


def one_job(
    name: str, command: tuple[str, ...], env: dict[str, str] | None = None
) -> PlannedJob:
    """A job of one node and no parents."""
    return PlannedJob(
        name=name,
        group=name,
        namespace=None,
        nodes=(name,),
        tags=(),
        depends_on=(),
        command=command,
        env=env or {},
    )


def _sent(client: Any) -> list[bool]:
    """Whether each SubmitJob sent went the direct way, in order."""
    sent: list[bool] = []
    client.meta.events.register(
        "before-send.batch.SubmitJob",
        lambda request, **_: sent.append(getattr(request, "_direct", False)),
    )
    return sent


def test_jobs_sent_directly_are_the_jobs_botocore_sends(
    batch_world: BatchWorld,
) -> None:
    """The first SubmitJob goes through botocore, later first tries directly;
    AWS Batch (moto's server, over HTTP) holds the same job for both: name,
    command, environment, tags, parents."""
    settings_ = batch_world.settings(tags={"team": "models"})
    client = make_client(settings_)
    sent = _sent(client)
    engine = AWSBatchEngine(settings_, RUN_ID, client=client)
    job = one_job(
        "fit",
        ("kedro", "run", "--nodes", "fit ünï"),
        {"KEDRO_ENV": "prod", "QUOTED": "a \"b\" 'c'"},
    )
    first = engine.submit(Submission(job=job))
    second = engine.submit(
        Submission(job=attrs.evolve(job, name="fit2"), depends_on=(first,))
    )
    assert sent == [False, True]
    described = {item["jobId"]: item for item in batch_world.jobs()}
    one, two = described[first], described[second]
    for key in ("jobQueue", "jobDefinition"):
        assert one[key] == two[key]
    assert (
        one["container"]["command"] == two["container"]["command"] == list(job.command)
    )
    for described_job in (one, two):
        environment = {
            item["name"]: item["value"]
            for item in described_job["container"]["environment"]
            if item["name"] in job.env  # moto adds AWS_BATCH_JOB_ID and others
        }
        assert environment == dict(job.env)
    assert {k: v for k, v in one["tags"].items() if k != "kedro-pipelinename:job"} == {
        k: v for k, v in two["tags"].items() if k != "kedro-pipelinename:job"
    }
    assert two["tags"]["team"] == "models"
    assert [parent["jobId"] for parent in two.get("dependsOn", [])] == [first]


def test_an_error_answer_raises_what_botocore_raises(batch_world: BatchWorld) -> None:
    """A SubmitJob AWS Batch refuses (a queue that does not exist) raises the
    client's exception with the code, message and status botocore gives."""
    settings_ = batch_world.settings()
    client = make_client(settings_)
    direct = direct_submit_of(client)
    assert direct is not None
    engine = AWSBatchEngine(settings_, RUN_ID, client=client)
    job = one_job("a", ("true",))
    engine.submit(Submission(job=job))  # botocore's, to learn from
    assert direct.ready
    bad = submit_job_request(Submission(job=job), settings_, RUN_ID)
    bad["jobQueue"] = "no-such-queue"
    with pytest.raises(ClientError) as by_botocore:
        client.submit_job(**bad)
    with pytest.raises(ClientError) as by_direct:
        direct.submit(bad)
    assert type(by_direct.value) is type(by_botocore.value)
    for error in (by_direct.value, by_botocore.value):
        assert error.operation_name == "SubmitJob"
    assert by_direct.value.response["Error"] == by_botocore.value.response["Error"]
    assert (
        by_direct.value.response["ResponseMetadata"]["HTTPStatusCode"]
        == by_botocore.value.response["ResponseMetadata"]["HTTPStatusCode"]
    )


def test_a_stubbed_client_never_goes_direct(batch_world: BatchWorld) -> None:
    """botocore's Stubber answers before anything is sent: the client never
    learns, and every SubmitJob stays the Stubber's."""
    settings_ = batch_world.settings()
    client = make_client(settings_)
    engine = AWSBatchEngine(settings_, RUN_ID, client=client)
    job = one_job("a", ("true",))
    with Stubber(client) as stubber:
        for number in range(3):
            stubber.add_response(
                "submit_job",
                {"jobArn": f"arn:{number}", "jobName": "a", "jobId": f"id-{number}"},
            )
            assert engine.submit(Submission(job=job)) == f"id-{number}"
        stubber.assert_no_pending_responses()
    direct = direct_submit_of(client)
    assert direct is not None and not direct.ready


@pytest.mark.parametrize(
    ("fault", "submits", "looked_up"),
    [
        # The job is created, its answer lost: found by the look-up.
        (Fault.drop("SubmitJob"), 2, True),
        # Forwarded, then the answer held past the client's read timeout.
        (Fault.hang("SubmitJob", 3.0), 2, True),
        # 503 and nothing created: looked for, then sent again (by botocore).
        (Fault.respond("SubmitJob", 503, SERVICE_UNAVAILABLE), 3, True),
        # Throttled: nothing created, no look-up; sent again by botocore.
        (Fault.respond("SubmitJob", 429, THROTTLED), 3, False),
    ],
    ids=["lost", "read-timeout", "503", "throttled"],
)
def test_a_failed_direct_try_still_makes_exactly_one_job(
    batch_world: BatchWorld,
    proxy: FaultProxy,
    fault: Fault,
    submits: int,
    looked_up: bool,
) -> None:
    """The faults of ``test_lost_submit_responses.py`` on a direct first try:
    it raises botocore's error for each, so the engine looks the job up or
    sends it again exactly as after botocore's own try."""
    engine = engine_through(batch_world, proxy, api_timeout=1.0)
    sent = _sent(engine.client)
    engine.submit(Submission(job=one_job("kedro-warm", ("true",))))  # learned
    proxy.add(fault)

    engine.submit(Submission(job=one_job("kedro-a", ("true",))))

    assert sent[:2] == [False, True]  # the faulted try went direct
    names = Counter(job["jobName"] for job in batch_world.jobs())
    assert names == {"kedro-warm": 1, "kedro-a": 1}
    assert proxy.count("SubmitJob") == submits
    assert (proxy.count("ListJobs") > 0) is looked_up
    assert proxy.pending() == 0
