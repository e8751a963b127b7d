"""The record model, the lease and the redaction rule, in-process."""

from __future__ import annotations

import json
import multiprocessing
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kedro_pipelinename.batch.lease import Lease, LeaseHeld, lease_path
from kedro_pipelinename.batch.plan_render import job_data
from kedro_pipelinename.batch.record_model import RecordError, parse_record, record_data
from kedro_pipelinename.relaunch.redaction import redactor_for

RUN_ID = "2026-01-01T00.00.00.000Z"

#: A record as kedro-pipelinename 0.x (format 1) wrote it, every field set.
FORMAT_1 = {
    "format": 1,
    "run_id": RUN_ID,
    "engine": "aws",
    "engine_label": "AWS Batch queue q",
    "state": "failed",
    "pipeline_names": ["train"],
    "grouping": "namespace",
    "project_path": "/srv/proj",
    "started": "2026-01-01T00:00:00+00:00",
    "updated": "2026-01-01T00:10:00+00:00",
    "finished": "2026-01-01T00:10:00+00:00",
    "error": "BatchJobError: job kedro-b failed",
    "attempts": 2,
    "command": {
        "argv": ["/venv/bin/python", "-m", "kedro", "run", "--pipelines=train"],
        "cwd": "/srv/proj",
        "env": {"KEDRO_BATCH_MAX_PARALLEL": "2"},
    },
    "driver": {"pid": 4242, "start": "123456", "host": "login1"},
    "settings": {"max_parallel": 2},
    "engine_settings": {"job_queue": "q"},
    "jobs": [
        {
            "name": "kedro-a",
            "group": "a",
            "namespace": "a",
            "nodes": ["a.x"],
            "tags": ["t"],
            "depends_on": [],
            "command": ["kedro", "run", "--namespaces=a"],
            "env": {"KEDRO_PIPELINENAME_RUN_ID": RUN_ID},
            "job_id": "id-a",
            "state": "SUCCEEDED",
            "engine_status": "SUCCEEDED",
            "reason": None,
            "exit_code": 0,
            "log": "CloudWatch stream a",
            "submitted": "2026-01-01T00:00:01+00:00",
            "finished": "2026-01-01T00:05:00+00:00",
        },
        {
            "name": "kedro-b",
            "group": "b",
            "namespace": "b",
            "nodes": ["b.y"],
            "tags": [],
            "depends_on": ["kedro-a"],
            "command": ["kedro", "run", "--namespaces=b"],
            "env": {},
            "job_id": "id-b",
            "state": "FAILED",
            "engine_status": "FAILED",
            "reason": "Essential container exited",
            "exit_code": 1,
            "log": "CloudWatch stream b",
            "submitted": "2026-01-01T00:05:01+00:00",
            "finished": "2026-01-01T00:10:00+00:00",
        },
    ],
}


def test_a_format_1_record_is_migrated_without_loss() -> None:
    record = parse_record(FORMAT_1)
    again = parse_record(json.loads(json.dumps(record_data(record))))

    assert again == record
    assert (record.engine_label, record.state, record.error, record.attempts) == (
        "AWS Batch queue q",
        "failed",
        "BatchJobError: job kedro-b failed",
        1,
    )
    assert record.driver is not None
    assert (record.driver.pid, record.driver.host, record.driver.process_start) == (
        4242,
        "login1",
        "123456",
    )
    assert record.driver.number == 2  # it was the run's second driver
    assert record.resume is not None
    assert record.resume.argv == tuple(FORMAT_1["command"]["argv"])  # type: ignore[index]
    assert record.resume.env == {"KEDRO_BATCH_MAX_PARALLEL": "2"}
    for old, job in zip(FORMAT_1["jobs"], record.jobs, strict=True):  # type: ignore[call-overload]
        attempt = job.latest
        assert attempt is not None
        assert job_data(job.job) == {key: old[key] for key in job_data(job.job)}
        assert (job.state, job.reason) == (old["state"], old["reason"])
        assert (
            attempt.job_id,
            attempt.state,
            attempt.engine_status,
            attempt.reason,
            attempt.exit_code,
            attempt.log,
            attempt.submitted,
            attempt.finished,
        ) == tuple(
            old[key]
            for key in (
                "job_id",
                "state",
                "engine_status",
                "reason",
                "exit_code",
                "log",
                "submitted",
                "finished",
            )
        )


def _race(project: str, start: Any, results: Any, done: Any) -> None:
    start.wait()
    try:
        Lease(Path(project), RUN_ID, timeout=60.0, purpose="a racer").acquire()
        results.put("won")
    except LeaseHeld:
        results.put("held")
    done.wait(60)


def test_of_racing_processes_exactly_one_takes_the_lease(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    start, done = context.Barrier(4), context.Event()
    results = context.Queue()
    racers = [
        context.Process(target=_race, args=(str(tmp_path), start, results, done))
        for _ in range(4)
    ]
    for racer in racers:
        racer.start()
    outcomes = sorted(results.get(timeout=60) for _ in racers)
    done.set()
    for racer in racers:
        racer.join(timeout=60)

    assert outcomes == ["held", "held", "held", "won"]


def _foreign_lease(tmp_path: Path, heartbeat: str) -> None:
    path = lease_path(tmp_path, RUN_ID)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "host": "other-host.invalid",
                "pid": 77,
                "start": "1",
                "since": "2026-01-01T00:00:00+00:00",
                "heartbeat": heartbeat,
                "timeout": 150.0,
            }
        )
    )


def test_a_live_lease_of_another_host_is_refused_with_its_holder(
    tmp_path: Path,
) -> None:
    from kedro_pipelinename.batch.record_model import now

    heartbeat = now()
    _foreign_lease(tmp_path, heartbeat)

    with pytest.raises(LeaseHeld) as refused:
        Lease(tmp_path, RUN_ID, timeout=150.0, purpose="this driver").acquire()

    assert (
        f"held by another driver (pid 77 on other-host.invalid since "
        f"2026-01-01T00:00:00+00:00, last heartbeat {heartbeat})"
    ) in str(refused.value)


@pytest.mark.parametrize("text", ["stale", "damaged"])
def test_a_stale_or_damaged_lease_is_taken_over_and_logged(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    if text == "stale":
        _foreign_lease(tmp_path, "2026-01-01T00:00:00+00:00")
    else:
        lease_path(tmp_path, RUN_ID).parent.mkdir(parents=True)
        lease_path(tmp_path, RUN_ID).write_text("{")

    with Lease(tmp_path, RUN_ID, timeout=150.0, purpose="this driver").held():
        holder = json.loads(lease_path(tmp_path, RUN_ID).read_text())

    assert holder["host"] == socket.gethostname()
    assert f"Took over the lease of run {RUN_ID}" in caplog.text
    assert not lease_path(tmp_path, RUN_ID).exists()  # released


SECRET = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=4, max_size=20
)


@given(
    extra=SECRET,
    variable=SECRET,
    param=SECRET,
    before=st.text(max_size=10),
    after=st.text(max_size=10),
)
def test_no_secret_value_survives_redaction(
    extra: str, variable: str, param: str, before: str, after: str
) -> None:
    redactor = redactor_for(
        extra_env={"API_TOKEN": extra, "REGION": "eu-west-1"},
        environ={"KEDRO_MY_PASSWORD": variable, "HOME": "/root"},
        runtime_params={"db": {"password": param}, "rate": 0.5},
    )
    line = f"{before}{extra} {variable}:{param}{after}"

    shown = [
        redactor.text(line),
        str(redactor.env({"API_TOKEN": extra, "KEDRO_MY_PASSWORD": variable})),
        str(redactor.data({"db": {"password": param}, "note": line})),
    ]

    for text in shown:
        # A reference's own name is no leak: cut references out (secrets
        # have no newline).
        left = re.sub(r"\$\{[A-Za-z_]+\}", "\n", text)
        for secret in (extra, variable, param):
            assert secret not in left, (secret, text)
    assert redactor.env({"API_TOKEN": extra}) == {"API_TOKEN": "${API_TOKEN}"}
    assert redactor.env({"REGION": "eu-west-1"}) == {"REGION": "${REGION}"}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"updated": "garbage"}, "updated is 'garbage', not an ISO 8601 timestamp"),
        (
            {"settings": {"max_poll_interval": "x"}},
            "Batch setting 'max_poll_interval' must be a number above 0",
        ),
        (
            {"jobs": [{"name": "kedro-a", "job_id": "../../../evil/x"}]},
            "job_id is '../../../evil/x', which names another directory",
        ),
        ({"run_id": "../evil"}, "run_id is '../evil', which is not a run id"),
        ({"format": 3}, "it has format 3; this kedro-pipelinename reads up to 2"),
    ],
)
def test_the_issues_damaged_records_are_one_clear_problem(
    damage: dict[str, Any], message: str
) -> None:
    with pytest.raises(RecordError) as refused:
        parse_record({**FORMAT_1, **damage})

    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_driver_that_lost_its_lease_stops_writing_the_record(tmp_path: Path) -> None:
    from kedro_pipelinename.batch.engine import EngineRun
    from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
    from kedro_pipelinename.batch.record_model import now
    from kedro_pipelinename.batch.record_store import load_record
    from kedro_pipelinename.batch.records import RunRecorder
    from kedro_pipelinename.batch.settings import BatchSettings

    job = PlannedJob(
        name="kedro-a",
        group="a",
        namespace=None,
        nodes=["a"],
        tags=[],
        depends_on=[],
        command=["kedro", "run"],
        env={},
    )
    plan = JobPlan(run_id=RUN_ID, pipeline_names=["p"], grouping="none", jobs=[job])
    run = EngineRun(plan=plan, settings=BatchSettings(), project_path=tmp_path)
    lease = Lease(tmp_path, RUN_ID, timeout=150.0, purpose="this driver")
    lease.acquire()
    recorder = RunRecorder(run, "local", None, lease=lease)
    recorder.started(plan, "local processes")
    _foreign_lease(tmp_path, now())  # taken over by a driver on another host

    recorder.submitted("kedro-a", "kedro-a")
    recorder.stop_requested()
    recorder.submitted("kedro-a", "kedro-a-2")
    recorder.stop_requested()

    assert not lease.holding
    assert load_record(tmp_path, RUN_ID).job("kedro-a").attempts == []
