"""The run-tracker integration point without MLflow: a fake tracker plug-in,
registered in the ``kedro_pipelinename.run_trackers`` entry points of a real
distribution on ``PYTHONPATH``, through the real ``kedro run`` on the local
engine; and the ``tracking`` setting's choices."""

from __future__ import annotations

import json
import os
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

from kedro_pipelinename.batch import trackers
from kedro_pipelinename.batch.errors import BatchSettingsError, RunCancelled
from kedro_pipelinename.batch.trackers import (
    ENTRY_POINT_GROUP,
    TrackedRun,
    TrackedStatus,
    TrackerStart,
    Tracking,
    chosen_trackers,
    status_of,
)
from kedro_pipelinename.relaunch.boundaries import BoundaryError
from tests.support.batch_project import write_batch_project
from tests.support.cli import kedro_cli, pipelines_flag
from tests.support.commands_project import record, run_ids
from tests.support.plans import RUN_ID, plan_of, planned

#: The plug-in: its start and finish append to data/tracker.jsonl (the
#: driver's cwd is the project), and every job gets FAKE_TRACKER_RUN.
FAKE_TRACKER = """
import json
from pathlib import Path

from kedro_pipelinename.batch.trackers import TrackerStart


def _note(**entry):
    with Path("data/tracker.jsonl").open("a") as notes:
        notes.write(json.dumps(entry) + "\\n")


class FakeTracker:
    @classmethod
    def enabled_by_default(cls):
        return True

    def start(self, run):
        _note(event="start", run_id=run.run_id, pipelines=list(run.pipeline_names),
              engine=run.engine, resumed=run.resumed)
        return TrackerStart(
            job_env={"FAKE_TRACKER_RUN": "fake-" + run.run_id},
            resume_env={"FAKE_TRACKER_RESUME": "yes"},
        )

    def finish(self, status):
        _note(event="finish", status=status.value)
"""

#: Each node writes what FAKE_TRACKER_RUN its job had; FAIL_NODE fails one.
ENV_HOOK = """
import json
import os
from pathlib import Path

from kedro.framework.hooks import hook_impl


class SeenEnv:
    @hook_impl
    def before_node_run(self, node):
        if node.name == os.environ.get("FAIL_NODE"):
            raise RuntimeError("failing " + node.name)
        with Path("data/seen_env.jsonl").open("a") as seen:
            seen.write(json.dumps(
                {"node": node.name, "run": os.environ.get("FAKE_TRACKER_RUN")}
            ) + "\\n")
"""

NODES = (
    "client_1.prepare",
    "client_1.fit",
    "client_2.prepare",
    "client_2.fit",
    "report",
)


def _plugin(root: Path) -> Path:
    """A directory that, on ``PYTHONPATH``, installs the fake tracker."""
    root.mkdir(parents=True)
    (root / "fake_tracker.py").write_text(FAKE_TRACKER)
    info = root / "fake_tracker-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-tracker\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nfake = fake_tracker:FakeTracker\n"
    )
    return root


def _project(root: Path) -> Path:
    project = write_batch_project(root)
    package = project / "src" / "proj"
    (package / "hooks.py").write_text(ENV_HOOK)
    with (package / "settings.py").open("a") as settings:
        settings.write("\nfrom proj.hooks import SeenEnv\n\nHOOKS = (SeenEnv(),)\n")
        # Where kedro-mlflow is installed too (`nox -s mlflow`): not this test's.
        settings.write('DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow", "kedro_mlflow")\n')
    return project


def _run(project: Path, plugin: Path, **env: str) -> None:
    kedro_cli(
        project,
        "run",
        f"{pipelines_flag()}=train",
        "--runner=kedro_pipelinename.batch.LocalBatchRunner",
        env={
            "PYTHONPATH": os.pathsep.join(
                [str(plugin), os.environ.get("PYTHONPATH", "")]
            ),
            "KEDRO_BATCH_POLL_INTERVAL": "0.1",
            "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5",
            **env,
        },
        check=False,
    )


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_a_tracker_plugin_is_started_before_the_jobs_and_told_the_outcome(
    tmp_path: Path,
) -> None:
    plugin = _plugin(tmp_path / "plugin")
    project = _project(tmp_path / "proj")

    _run(project, plugin)

    (run_id,) = run_ids(project)
    assert _lines(project / "data" / "tracker.jsonl") == [
        {
            "event": "start",
            "run_id": run_id,
            "pipelines": ["train"],
            "engine": "local",
            "resumed": False,
        },
        {"event": "finish", "status": "FINISHED"},
    ]
    seen = _lines(project / "data" / "seen_env.jsonl")
    assert sorted((line["node"], line["run"]) for line in seen) == sorted(
        (node, f"fake-{run_id}") for node in NODES
    )
    data = record(project, run_id)
    assert data["resume"]["env"]["FAKE_TRACKER_RESUME"] == "yes"


@pytest.mark.slow
def test_a_tracker_plugin_hears_failed_when_a_job_failed_and_nothing_when_off(
    tmp_path: Path,
) -> None:
    plugin = _plugin(tmp_path / "plugin")
    failing = _project(tmp_path / "failing")
    off = _project(tmp_path / "off")

    _run(failing, plugin, FAIL_NODE="client_2.fit")
    _run(off, plugin, KEDRO_BATCH_TRACKING="none")

    assert [line["event"] for line in _lines(failing / "data" / "tracker.jsonl")] == [
        "start",
        "finish",
    ]
    assert _lines(failing / "data" / "tracker.jsonl")[-1]["status"] == "FAILED"
    assert _lines(off / "data" / "tracker.jsonl") == []
    assert {line["run"] for line in _lines(off / "data" / "seen_env.jsonl")} == {None}


# --- the setting and the status, in this process ---------------------------------


class Recording:
    """A tracker that keeps what it was told."""

    default = True
    started: ClassVar[list[TrackedRun]] = []
    finished: ClassVar[list[TrackedStatus]] = []

    @classmethod
    def enabled_by_default(cls) -> bool:
        return cls.default

    def start(self, run: TrackedRun) -> TrackerStart:
        Recording.started.append(run)
        return TrackerStart(job_env={"TRACKED": run.run_id})

    def finish(self, status: TrackedStatus) -> None:
        Recording.finished.append(status)


class Quiet(Recording):
    default = False


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [
        EntryPoint("loud", f"{__name__}:Recording", ENTRY_POINT_GROUP),
        EntryPoint("quiet", f"{__name__}:Quiet", ENTRY_POINT_GROUP),
        EntryPoint("broken", "no_such_module_here:Tracker", ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(trackers, "_entry_points", lambda: points)
    Recording.started, Recording.finished = [], []


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (None, ["loud"]),
        ("none", []),
        ("quiet", ["quiet"]),
        ("loud, quiet", ["loud", "quiet"]),
    ],
)
def test_the_tracking_setting_picks_the_trackers(
    setting: str | None, expected: list[str]
) -> None:
    assert [name for name, _ in chosen_trackers(setting)] == expected


@pytest.mark.usefixtures("installed")
def test_an_unknown_tracker_is_refused_naming_it_and_the_installed_ones() -> None:
    with pytest.raises(BatchSettingsError) as raised:
        chosen_trackers("mlfow")

    assert "'mlfow'" in str(raised.value)
    assert "installed: loud, quiet" in str(raised.value)


@pytest.mark.parametrize(
    ("error", "ok", "expected"),
    [
        (None, True, TrackedStatus.FINISHED),
        (None, False, TrackedStatus.FAILED),
        (KeyboardInterrupt(), False, TrackedStatus.KILLED),
        (SystemExit(143), False, TrackedStatus.KILLED),
        (RunCancelled("cancelled"), False, TrackedStatus.KILLED),
        (RuntimeError("engine down"), False, TrackedStatus.FAILED),
    ],
)
def test_the_status_a_tracker_hears(
    error: BaseException | None, ok: bool, expected: TrackedStatus
) -> None:
    assert status_of(error, ok) == expected


def _tracked(run_id: str = "2026-12-05T10.00.00.000Z") -> TrackedRun:
    return TrackedRun(
        run_id=run_id, pipeline_names=("train",), project_path=Path("."), engine="local"
    )


@pytest.mark.usefixtures("installed")
def test_a_job_keeps_its_own_value_of_a_tracker_variable() -> None:
    tracking = Tracking(chosen_trackers("loud"))
    tracking.start(_tracked())
    own = attrs.evolve(planned("a"), env={"TRACKED": "from extra_env"})
    plan = plan_of([own, planned("b")])

    jobs = tracking.with_job_env(plan).jobs

    assert [dict(job.env) for job in jobs] == [
        {"TRACKED": "from extra_env"},
        {"TRACKED": "2026-12-05T10.00.00.000Z", "KEDRO_PIPELINENAME_RUN_ID": RUN_ID},
    ]


class BadVariable(Recording):
    def start(self, run: TrackedRun) -> TrackerStart:
        Recording.started.append(run)
        return TrackerStart(job_env={"NOT A NAME": "x"})


def test_a_variable_the_env_boundary_refuses_stops_the_run_and_fails_the_tracker() -> (
    None
):
    Recording.started, Recording.finished = [], []
    tracking = Tracking([("bad", BadVariable())])

    with pytest.raises(BoundaryError):
        tracking.start(_tracked())

    assert Recording.finished == [TrackedStatus.FAILED]


class Unreachable(Recording):
    def finish(self, status: TrackedStatus) -> None:
        raise ConnectionError("tracking server down")


def test_a_tracker_that_cannot_finish_is_logged_and_finished_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracking = Tracking([("down", Unreachable())])
    tracking.start(_tracked())

    tracking.finish(TrackedStatus.FINISHED)
    tracking.finish(TrackedStatus.FAILED)

    assert [
        record.getMessage()
        for record in caplog.records
        if "down" in record.getMessage()
    ] == ["Run tracker 'down' could not record the status FINISHED."]
