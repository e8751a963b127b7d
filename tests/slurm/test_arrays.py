"""Job arrays on the real SLURM cluster, driving the engine directly: one
``sbatch --array`` per uniform fan-out, each task a job of its own for ``poll``,
``cancel`` and ``find_jobs``."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from kedro_pipelinename.batch.arrays import ArraySpec, PlannedArray
from kedro_pipelinename.batch.driver import Driver
from kedro_pipelinename.batch.engine import (
    ArraySubmission,
    EngineRun,
    JobState,
    JobStatus,
    Submission,
    array_child_name,
)
from kedro_pipelinename.batch.events import RunOutcome
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.progress import LogProgress
from kedro_pipelinename.engines.slurm.commands import SlurmCommands
from kedro_pipelinename.engines.slurm.engine import SPEC, SlurmBatchEngine
from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings
from kedro_pipelinename.testing import FAST
from tests.support.plans import RUN_ID, planned
from tests.support.slurm import SlurmCluster
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

#: SLURM's default MaxArraySize, which the tests' cluster keeps.
DEFAULT_MAX_ARRAY_SIZE = 1001
#: What every task runs: it records, as ``<tag>-<index>.started``, the files of
#: ``$OUT`` it saw on starting; waits for ``$OUT/release`` when ``$WAIT`` is set
#: (bounded: 1,200 looks, 0.1 s apart, then exit 4); prints a line of its own;
#: exits ``$FAIL_CODE`` at index ``$FAIL_INDEX`` (``$EXIT_WITH_INDEX``: with its
#: index), else writes ``<tag>-<index>.done``.
TASK = r"""
index=${INDEX_VARIABLE_VALUE}
ls "$OUT" > "$OUT/$TAG-$index.started"
if [ -n "$WAIT" ]; then
    for _ in $(seq 1200); do [ -e "$OUT/release" ] && break; sleep 0.1; done
    [ -e "$OUT/release" ] || exit 4
fi
echo "task $index of $TAG says hello"
[ -n "$EXIT_WITH_INDEX" ] && exit "$index"
[ "$index" = "$FAIL_INDEX" ] && exit 3
touch "$OUT/$TAG-$index.done"
""".replace("INDEX_VARIABLE_VALUE", str(SPEC.array_index_variable))


class _Counting(SlurmCommands):
    """SLURM's commands, counting each one run."""

    def __init__(self, bin_dir: str | None = None) -> None:
        super().__init__(bin_dir)
        self.calls: list[str] = []

    def run(
        self, name: str, arguments: Sequence[str]
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append(name)
        return super().run(name, arguments)


def _plain(name: str, script: str, out: Path) -> PlannedJob:
    """A job (no array) that runs ``script`` with ``$OUT`` set."""
    return attrs.evolve(
        planned(name), command=("bash", "-c", script), env={"OUT": str(out)}
    )


def _members(tag: str, size: int) -> list[PlannedJob]:
    return [
        planned(f"{tag}-client_{index}", namespace=f"client_{index}")
        for index in range(size)
    ]


def _plan(*jobs: Sequence[PlannedJob]) -> JobPlan:
    return JobPlan(
        run_id=RUN_ID,
        pipeline_names=("train",),
        grouping="namespace",
        jobs=[job for group in jobs for job in group],
    )


def _array(
    out: Path,
    tag: str,
    members: Sequence[PlannedJob],
    *,
    depends_on: Sequence[str] = (),
    pairs_with: Sequence[str] = (),
    **env: str,
) -> ArraySubmission:
    return ArraySubmission(
        name=f"array-{tag}",
        jobs=members,
        command=("bash", "-c", TASK),
        env={"OUT": str(out), "TAG": tag, **env},
        depends_on=depends_on,
        pairs_with=pairs_with,
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture
def commands(slurm_cluster: SlurmCluster) -> _Counting:
    return _Counting()


@pytest.fixture
def engines(
    tmp_path: Path, commands: _Counting, slurm_cluster: SlurmCluster
) -> Iterator[list[SlurmBatchEngine]]:
    """The test's engines; each one's jobs are cancelled at the end."""
    opened: list[SlurmBatchEngine] = []
    yield opened
    for engine in opened:
        engine.cancel(list(engine._names), "the test ended")
        engine.close()


def _open(
    engines: list[SlurmBatchEngine],
    plan: JobPlan,
    project: Path,
    commands: SlurmCommands,
    engine_class: type[SlurmBatchEngine] = SlurmBatchEngine,
) -> SlurmBatchEngine:
    run = EngineRun(plan=plan, settings=FAST, project_path=project)
    engine = engine_class(SlurmBatchSettings(), run, commands=commands)
    engines.append(engine)
    return engine


def _finished(
    engine: SlurmBatchEngine, job_ids: Sequence[str], what: str
) -> dict[str, JobState]:
    states: dict[str, JobState] = {}

    def done() -> bool:
        states.update(engine.poll(job_ids))
        return all(
            job_id in states and states[job_id].status.finished for job_id in job_ids
        )

    wait_until(done, what, interval=0.2)
    return states


def _started(out: Path, tag: str) -> dict[int, list[str]]:
    """Index -> the files the task saw on starting, of every task that started."""
    return {
        int(path.stem.rsplit("-", 1)[1]): path.read_text().split()
        for path in out.glob(f"{tag}-*.started")
    }


def test_an_array_is_one_sbatch_and_runs_each_index_once(
    engines: list[SlurmBatchEngine], commands: _Counting, out: Path, tmp_path: Path
) -> None:
    members = _members("fan", 5)
    engine = _open(engines, _plan(members), tmp_path, commands)

    secret = "s3cr3t-token-value"

    ids = engine.submit_array(_array(out, "fan", members, API_TOKEN=secret))

    assert ids.child_ids == tuple(f"{ids.array_id}_{index}" for index in range(5))
    assert commands.calls.count("sbatch") == 1
    states = _finished(engine, ids.child_ids, "the array's 5 tasks")
    assert sorted(_started(out, "fan")) == [0, 1, 2, 3, 4]
    assert sorted(path.name for path in out.glob("fan-*.done")) == [
        f"fan-{index}.done" for index in range(5)
    ]
    for index, (child, job) in enumerate(zip(ids.child_ids, members, strict=True)):
        state = states[child]
        assert (state.status, state.exit_code, state.name) == (
            JobStatus.SUCCEEDED,
            0,
            job.name,
        )
        output = engine.log_dir / f"array-fan.{child}.out"
        assert str(output) in str(state.log_location)
        assert output.read_text() == f"task {index} of fan says hello\n"
    # The array's environment is in its data file (0600), never in its script.
    script, data = (engine.log_dir / f"array-fan.{end}" for end in ("sbatch", "data"))
    assert secret not in script.read_text()
    assert secret.encode() in data.read_bytes()
    modes = [path.stat().st_mode & 0o777 for path in (engine.log_dir, script, data)]
    assert modes == [0o700, 0o700, 0o600]


def test_aftercorr_pairs_task_i_with_task_i_and_a_failed_task_cancels_only_its_pair(
    engines: list[SlurmBatchEngine], commands: _Counting, out: Path, tmp_path: Path
) -> None:
    first, second = _members("first", 5), _members("second", 5)
    after_all = _plain("after-all", 'touch "$OUT/after-all.ran"', out)
    engine = _open(engines, _plan(first, second, [after_all]), tmp_path, commands)

    parent = engine.submit_array(_array(out, "first", first, FAIL_INDEX="2"))
    child = engine.submit_array(
        _array(out, "second", second, pairs_with=[parent.array_id])
    )
    plain = engine.submit(Submission(job=after_all, depends_on=[parent.array_id]))

    states = _finished(
        engine, [*parent.child_ids, *child.child_ids, plain], "both arrays and the job"
    )
    failed = states[parent.child_ids[2]]
    assert (failed.status, failed.exit_code, failed.caused_by_dependency) == (
        JobStatus.FAILED,
        3,
        False,
    )
    assert f"SLURM job {parent.child_ids[2]} FAILED" in str(failed.reason)
    # SLURM never runs the task paired with a failed one: it cancels it
    # (--kill-on-invalid-dep=yes), and it alone.
    paired = states[child.child_ids[2]]
    assert (paired.status, paired.engine_status, paired.caused_by_dependency) == (
        JobStatus.FAILED,
        "CANCELLED",
        True,
    )
    assert "CANCELLED (DependencyNeverSatisfied)" in str(paired.reason)
    assert sorted(_started(out, "second")) == [0, 1, 3, 4]
    others = [0, 1, 3, 4]
    assert [states[child.child_ids[index]].status for index in others] == [
        JobStatus.SUCCEEDED
    ] * 4
    # Task i started after task i of the first array had succeeded.
    seen = _started(out, "second")
    assert [f"first-{index}.done" in seen[index] for index in others] == [True] * 4
    # afterok on the array waits for every task: one failed, so SLURM cancels it.
    assert states[plain].caused_by_dependency
    assert not (out / "after-all.ran").exists()


def test_afterok_links_a_job_to_an_array_and_an_array_to_a_job(
    engines: list[SlurmBatchEngine], commands: _Counting, out: Path, tmp_path: Path
) -> None:
    # first (waits for $OUT/release) -> array "middle" of 4 -> after.
    first = _plain(
        "first",
        'for _ in $(seq 1200); do [ -e "$OUT/release" ] && break; sleep 0.1; done\n'
        'touch "$OUT/first.done"',
        out,
    )
    members = _members("middle", 4)
    after = _plain("after", 'ls "$OUT" > "$OUT/after.saw"', out)
    engine = _open(engines, _plan([first], members, [after]), tmp_path, commands)
    first_id = engine.submit(Submission(job=first))

    array = engine.submit_array(_array(out, "middle", members, depends_on=[first_id]))
    after_id = engine.submit(Submission(job=after, depends_on=[array.array_id]))

    wait_until(
        lambda: (
            {state.status for state in engine.poll(array.child_ids).values()}
            == {JobStatus.PENDING}
        ),
        "the array's tasks waiting for their parent (Dependency)",
        interval=0.2,
    )
    (out / "release").touch()
    states = _finished(engine, [first_id, *array.child_ids, after_id], "the jobs")
    assert {state.status for state in states.values()} == {JobStatus.SUCCEEDED}
    started = _started(out, "middle")
    assert [("first.done" in started[index]) for index in range(4)] == [True] * 4
    saw = (out / "after.saw").read_text().split()
    assert sorted(name for name in saw if name.startswith("middle-")) == sorted(
        f"middle-{index}.{what}" for index in range(4) for what in ("done", "started")
    )


def test_poll_find_jobs_and_failures_are_per_task(
    engines: list[SlurmBatchEngine],
    commands: _Counting,
    out: Path,
    tmp_path: Path,
    slurm_cluster: SlurmCluster,
) -> None:
    # One task more than the node's CPUs: that one waits for resources.
    size = slurm_cluster.cpus + 1
    members = _members("each", size)
    engine = _open(engines, _plan(members), tmp_path, commands)
    ids = engine.submit_array(
        _array(out, "each", members, WAIT="1", EXIT_WITH_INDEX="1")
    )

    def running() -> dict[str, JobState]:
        return engine.poll(ids.child_ids)

    wait_until(
        lambda: (
            [s.status for s in running().values()].count(JobStatus.RUNNING)
            == slurm_cluster.cpus
        ),
        "the node's CPUs running tasks",
        interval=0.2,
    )
    statuses = sorted(state.status for state in running().values())
    assert statuses == sorted(
        [JobStatus.RUNNING] * slurm_cluster.cpus + [JobStatus.QUEUED]
    )
    # One entry per task, <array>[i] with the array's id, while one is pending
    # (squeue would show a pending array's tasks as one row, <id>_[2]).
    found = engine.find_jobs()
    assert {name: (s.job_id, s.array_id) for name, s in found.items()} == {
        array_child_name("array-each", index): (child, ids.array_id)
        for index, child in enumerate(ids.child_ids)
    }

    (out / "release").touch()

    states = _finished(engine, ids.child_ids, "the released tasks")
    for index, child in enumerate(ids.child_ids):
        state = states[child]
        assert state.exit_code == index
        output = engine.log_dir / f"array-each.{child}.out"
        assert str(output) in str(state.log_location)
        if index == 0:
            assert state.status is JobStatus.SUCCEEDED
            continue
        assert state.status is JobStatus.FAILED
        assert f"SLURM job {child} FAILED" in str(state.reason)
        assert f"task {index} of each says hello" in str(state.detail)
        assert not state.caused_by_dependency


def test_cancel_of_a_task_stops_it_alone_and_of_the_array_every_task(
    engines: list[SlurmBatchEngine],
    commands: _Counting,
    out: Path,
    tmp_path: Path,
    slurm_cluster: SlurmCluster,
) -> None:
    members = _members("stop", 3)
    engine = _open(engines, _plan(members), tmp_path, commands)
    ids = engine.submit_array(_array(out, "stop", members, WAIT="1"))
    wait_until(
        lambda: _started(out, "stop"), "a task of the array running", interval=0.2
    )

    engine.cancel([ids.child_ids[1]], "the test cancels one task")

    states = engine.poll(ids.child_ids)
    assert states[ids.child_ids[1]].engine_status == "CANCELLED"
    assert [states[ids.child_ids[index]].status.finished for index in (0, 2)] == [
        False,
        False,
    ]

    engine.cancel([ids.array_id], "the test cancels the array")

    states = engine.poll(ids.child_ids)
    assert [state.engine_status for state in states.values()] == ["CANCELLED"] * 3
    assert [state.status for state in states.values()] == [JobStatus.FAILED] * 3
    assert slurm_cluster.queued("job=array-stop") == []
    assert not list(out.glob("stop-*.done"))


def test_a_restarted_engine_finds_every_task_again(
    engines: list[SlurmBatchEngine], commands: _Counting, out: Path, tmp_path: Path
) -> None:
    members = _members("again", 3)
    plan = _plan(members)
    first = _open(engines, plan, tmp_path, commands)
    ids = first.submit_array(_array(out, "again", members, FAIL_INDEX="1"))
    _finished(first, ids.child_ids, "the array")

    found = _open(engines, plan, tmp_path, commands).find_jobs()

    assert {name: (s.job_id, s.array_id) for name, s in found.items()} == {
        array_child_name("array-again", index): (child, ids.array_id)
        for index, child in enumerate(ids.child_ids)
    }
    assert [(s.status, s.exit_code) for s in found.values()] == [
        (JobStatus.SUCCEEDED, 0),
        (JobStatus.FAILED, 3),
        (JobStatus.SUCCEEDED, 0),
    ]


def test_tasks_slurm_forgot_are_found_from_the_arrays_record(
    engines: list[SlurmBatchEngine], commands: _Counting, out: Path, tmp_path: Path
) -> None:
    members = _members("forgot", 2)
    plan = _plan(members)
    first = _open(engines, plan, tmp_path, commands)
    ids = first.submit_array(_array(out, "forgot", members, FAIL_INDEX="0"))
    _finished(first, ids.child_ids, "the array")

    class _Forgetful(_Counting):
        def squeue(
            self, job_ids: Sequence[str] | None = None, user: str | None = None
        ) -> list[Any]:
            return []

    found = _open(engines, plan, tmp_path, _Forgetful()).find_jobs()

    assert {name: (s.job_id, s.exit_code) for name, s in found.items()} == {
        array_child_name("array-forgot", 0): (ids.child_ids[0], 3),
        array_child_name("array-forgot", 1): (ids.child_ids[1], 0),
    }


def test_the_driver_runs_paired_arrays_and_a_rerun_adopts_every_task(
    engines: list[SlurmBatchEngine], commands: _Counting, out: Path, tmp_path: Path
) -> None:
    # client_i.fit after client_i.prepare, for 3 clients: two arrays, paired.
    def members(tag: str, parents: str | None) -> list[PlannedJob]:
        return [
            attrs.evolve(
                planned(
                    f"{tag}-client_{index}",
                    namespace=f"client_{index}",
                    depends_on=[f"{parents}-client_{index}"] if parents else [],
                ),
                env={"OUT": str(out), "TAG": tag},
            )
            for index in range(3)
        ]

    prepare, fit = members("prepare", None), members("fit", "prepare")
    plan = _plan(prepare, fit)
    spec = ArraySpec(
        pipelines=("train",),
        template=("node",),
        offset=0,
        count=3,
        nodes_at=3,
        fingerprint="-",
    )
    arrays = [
        PlannedArray(
            name=f"array-{tag}",
            jobs=jobs,
            pairs_with=pairs_with,
            depends_on=(),
            spec=spec,
            command=("bash", "-c", TASK),
        )
        for tag, jobs, pairs_with in (
            ("prepare", prepare, ()),
            ("fit", fit, ("array-prepare",)),
        )
    ]

    def drive(reattach: bool) -> RunOutcome:
        engine = _open(engines, plan, tmp_path, commands)
        return Driver(
            plan, engine, FAST, LogProgress(), reattach=reattach, arrays=arrays
        ).run()

    outcome = drive(reattach=False)

    assert outcome.ok
    assert commands.calls.count("sbatch") == 2
    seen = _started(out, "fit")
    assert [f"prepare-{index}.done" in seen[index] for index in range(3)] == [True] * 3

    again = drive(reattach=True)

    assert again.ok
    assert again.job_ids == outcome.job_ids
    assert commands.calls.count("sbatch") == 2


def test_max_array_size_is_the_clusters_read_once(
    engines: list[SlurmBatchEngine], commands: _Counting, tmp_path: Path
) -> None:
    engine = _open(engines, _plan([]), tmp_path, commands)

    sizes = [engine.max_array_size(), engine.max_array_size()]

    assert sizes == [DEFAULT_MAX_ARRAY_SIZE] * 2
    assert commands.calls.count("scontrol") == 1
    assert SPEC.array_index_variable == "SLURM_ARRAY_TASK_ID"


def test_without_scontrol_there_are_no_arrays_and_the_log_says_why(
    engines: list[SlurmBatchEngine],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("sbatch", "squeue", "scancel"):
        found = shutil.which(name)
        assert found is not None
        (bin_dir / name).symlink_to(found)
    engine = _open(engines, _plan([]), tmp_path, _Counting(str(bin_dir)))

    with caplog.at_level(logging.WARNING):
        size = engine.max_array_size()

    assert size == 0
    assert f"scontrol is not in {bin_dir}" in caplog.text
    assert "no job arrays" in caplog.text
