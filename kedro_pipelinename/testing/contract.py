"""The engine contract: what users rely on from every batch engine.

``EngineContract`` is the whole suite as one test class. Subclass it once per
engine with ``harness = YourHarness`` and run pytest with this package's plugin
(``pytest -p kedro_pipelinename.testing``): every test runs through the shared
``Driver``, with jobs that are real processes (see ``harness.py``). An engine is
done when it passes all of them; behaviour only one engine has is tested beside
that engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import ClassVar, cast

import attrs
import pytest

from kedro_pipelinename.batch.kit import (
    BatchSettings,
    Driver,
    Engine,
    JobPlan,
    JobStatus,
    LogProgress,
    PlannedArray,
    PlannedJob,
    RunOutcome,
    array_child_name,
    check_engine,
    engine_checks,
    installed_engines,
)

from .harness import FAILING_EXIT_CODE, FAST, RUN_ID, EngineHarness, named


def _run(
    engine: EngineHarness,
    plan: JobPlan,
    settings: BatchSettings = FAST,
    *,
    reattach: bool = False,
    progress: LogProgress | None = None,
    arrays: Sequence[PlannedArray] = (),
    submitted_arrays: list[str] | None = None,
) -> tuple[RunOutcome, list[str]]:
    """Check, then run ``plan`` to the end, as a driver does; the outcome and the
    names submitted one by one, in order (``submitted_arrays``: gets the names
    of the arrays submitted)."""
    opened = engine.open(plan, settings)
    try:
        check_engine(cast(Engine, opened))
        outcome = Driver(
            plan,
            cast(Engine, opened),
            settings,
            progress or LogProgress(),
            reattach=reattach,
            arrays=arrays,
        ).run()
        if submitted_arrays is not None:
            submitted_arrays.extend(array.name for array in opened.arrays)
    finally:
        opened.close()
    return outcome, [submission.job.name for submission in opened.submissions]


def _own_failures(outcome: RunOutcome) -> list[str]:
    """Jobs that failed on their own."""
    return [f.job for f in outcome.failures if not f.caused_by_dependency]


def _did_not_run(outcome: RunOutcome) -> list[str]:
    """Jobs that never ran: not submitted, cancelled, or failed by the engine
    because a parent failed (an engine that holds dependencies, AWS Batch, had
    them submitted)."""
    dependents = [f.job for f in outcome.failures if f.caused_by_dependency]
    return sorted([*outcome.not_run, *dependents])


def _found(engine: EngineHarness, plan: JobPlan) -> dict[str, JobStatus]:
    """What a newly opened engine finds of ``plan``'s run: job name -> status."""
    opened = engine.open(plan)
    try:
        return {name: state.status for name, state in opened.find_jobs().items()}
    finally:
        opened.close()


class _Interrupting(LogProgress):
    """Ctrl-C at the first progress update after every job started."""

    def __init__(self, engine: EngineHarness, names: list[str]) -> None:
        super().__init__(interval=0)
        self._engine = engine
        self._names = names

    def update(self, summary: Mapping[str, int]) -> None:
        super().update(summary)
        if all(self._engine.started(name) for name in self._names):
            raise KeyboardInterrupt


@pytest.mark.engine_contract
class EngineContract:
    """Every behaviour of the engine contract; subclass it with your harness.

    Example:
        >>> class TestMyEngine(EngineContract):  # doctest: +SKIP
        ...     harness = MyHarness
    """

    #: The harness class of the engine under test.
    harness: ClassVar[type[EngineHarness]]

    @pytest.fixture
    def engine(self, kedro_engine_harness: EngineHarness) -> EngineHarness:
        """The plugin's harness for one test. A fixture of the class: a fixture
        called ``engine`` in your own conftest does not replace it here."""
        return kedro_engine_harness

    # --- the DAG ---

    def test_every_job_starts_after_all_of_its_parents_finished(
        self, engine: EngineHarness
    ) -> None:
        jobs = [
            engine.job("a"),
            engine.job("b", ["a"]),
            engine.job("c", ["a"]),
            engine.job("d", ["b", "c"]),
            engine.job("e", ["d"]),
        ]

        outcome, _ = _run(engine, engine.plan(jobs))

        assert outcome.ok
        for job in jobs:
            started = engine.started(job.name)
            assert started is not None
            assert set(job.depends_on) <= set(started["finished_before"]), job.name

    def test_a_fan_in_beyond_the_engines_parent_limit_still_runs_last(
        self,
        engine: EngineHarness,
    ) -> None:
        parents = [engine.job(f"p{number:02d}") for number in range(25)]
        child = engine.job("child", [job.group for job in parents])
        plan = engine.plan([*parents, child])
        opened = engine.open(plan)
        limit = opened.spec.max_parents

        try:
            outcome = Driver(plan, cast(Engine, opened), FAST, LogProgress()).run()
        finally:
            opened.close()

        assert outcome.ok
        assert all(len(s.depends_on) <= limit for s in opened.submissions)
        started = engine.started("child")
        assert started is not None
        assert sorted(started["finished_before"]) == sorted(job.name for job in parents)

    def test_at_most_max_parallel_jobs_are_unfinished_at_once(
        self, engine: EngineHarness
    ) -> None:
        jobs = [engine.job(f"j{number}", sleep=0.2) for number in range(6)]
        settings = BatchSettings(
            max_parallel=2, poll_interval=0.05, max_poll_interval=0.2
        )

        outcome, _ = _run(engine, engine.plan(jobs), settings)

        assert outcome.ok
        seen = [engine.started(job.name) for job in jobs]
        assert all(record is not None for record in seen)
        assert max(record["unfinished_at_start"] for record in seen if record) <= 1

    def test_concurrent_submits_stay_within_the_engines_width_after_their_parents(
        self, engine: EngineHarness
    ) -> None:
        # 12 independent two-job chains and a fan-in: as many submits may go at
        # once as the engine declares (spec.submit_concurrency), each child's
        # only after its parent's submit returned, naming that parent's id.
        roots = [engine.job(f"r{number:02d}") for number in range(12)]
        children = [
            engine.job(f"c{number:02d}", [root.group])
            for number, root in enumerate(roots)
        ]
        last = engine.job("last", [job.group for job in children[:4]])
        plan = engine.plan([*roots, *children, last])
        opened = engine.open(plan)

        try:
            outcome = Driver(plan, cast(Engine, opened), FAST, LogProgress()).run()
        finally:
            opened.close()

        assert outcome.ok
        assert 1 <= opened.max_in_flight <= max(1, opened.spec.submit_concurrency)
        assert len(opened.submissions) == len(plan.jobs)
        for submission in opened.submissions:
            returned = opened.returned_before[submission.job.name]
            assert set(submission.job.depends_on) <= set(returned), submission.job.name
            assert set(submission.depends_on) <= set(returned.values())

    # --- what each job gets ---

    def test_every_job_gets_the_run_id_and_its_environment(
        self, engine: EngineHarness
    ) -> None:
        jobs = [
            engine.job("a", env={"KEDRO_ENV": "prod", "EXTRA": "1"}),
            engine.job("b", ["a"], env={"KEDRO_ENV": "prod", "EXTRA": "2"}),
        ]

        outcome, _ = _run(engine, engine.plan(jobs))

        assert outcome.ok
        for job in jobs:
            started = engine.started(job.name)
            assert started is not None
            env: Mapping[str, str] = started["env"]
            assert env["KEDRO_PIPELINENAME_RUN_ID"] == RUN_ID
            assert (env["KEDRO_ENV"], env["EXTRA"]) == ("prod", job.env["EXTRA"])

    def test_job_names_follow_the_engines_rule(self, engine: EngineHarness) -> None:
        rule = engine.open(engine.plan([])).spec.job_names
        names = rule.names("kedro", ["ns.a", "ns a", "x" * 300, "ns.a"])

        assert all(rule.valid(name) for name in names)
        assert len(set(names)) == 4

    # --- failures ---

    def test_a_failure_stops_the_rest_of_the_run(self, engine: EngineHarness) -> None:
        jobs = [
            engine.job("bad", fail=True),
            engine.job("after_bad", ["bad"]),
            engine.job("slow", sleep=30),
        ]

        plan = engine.plan(jobs)
        opened = engine.open(plan, FAST)
        try:
            check_engine(cast(Engine, opened))
            outcome = Driver(plan, cast(Engine, opened), FAST, LogProgress()).run()
            # The slow job may still be starting when the driver returns (its
            # .started file not written yet, so alive() would see nothing): give
            # it the time to show itself, or a cancel that does nothing passes.
            # Bounded: 100 looks, 50 ms apart.
            for _ in range(100):
                if engine.started("slow") is not None:
                    break
                time.sleep(0.05)
            # Looked at before close(): fail_fast's cancel must stop the slow
            # job, not an engine's clean-up of whatever is left at close.
            left_running = engine.eventually_stopped()
        finally:
            opened.close()

        assert _own_failures(outcome) == named("bad")
        failure = outcome.failures[0]
        assert (failure.nodes, failure.exit_code) == (("bad.node",), FAILING_EXIT_CODE)
        assert failure.log_location
        assert _did_not_run(outcome) == named("after_bad", "slow")
        assert engine.started("after_bad") is None
        # fail_fast cancelled the slow job: its process is gone, unfinished.
        assert left_running == []
        assert not engine.finished("slow")

    def test_without_fail_fast_independent_jobs_finish(
        self, engine: EngineHarness
    ) -> None:
        jobs = [
            engine.job("bad", fail=True),
            engine.job("after_bad", ["bad"]),
            engine.job("other", sleep=0.3),
            engine.job("after_other", ["other"]),
        ]
        settings = BatchSettings(
            fail_fast=False, poll_interval=0.05, max_poll_interval=0.2
        )

        outcome, _ = _run(engine, engine.plan(jobs), settings)

        assert _own_failures(outcome) == named("bad")
        assert outcome.succeeded == set(named("other", "after_other"))
        assert _did_not_run(outcome) == named("after_bad")

    def test_an_interrupted_driver_stops_every_job_of_the_run(
        self, engine: EngineHarness
    ) -> None:
        names = ["long_1", "long_2"]
        jobs = [engine.job(name, sleep=60) for name in names]
        jobs.append(engine.job("after", names))
        plan = engine.plan(jobs)
        opened = engine.open(plan)

        with pytest.raises(KeyboardInterrupt):
            try:
                # Bounded: the jobs sleep 60 s; the progress interrupts once both ran.
                Driver(
                    plan, cast(Engine, opened), FAST, _Interrupting(engine, names)
                ).run()
            finally:
                opened.close()

        assert engine.eventually_stopped() == []
        assert not any(engine.finished(name) for name in names)
        assert engine.started("after") is None
        found = _found(engine, plan)
        # What the engine says of them: stopped, as failed ("after" too, if the
        # engine held it, waiting on them).
        assert set(named(*names)) <= set(found) <= set(named(*names, "after"))
        assert set(found.values()) == {JobStatus.FAILED}

    # --- progress ---

    def test_progress_reports_the_counts_until_every_job_finished(
        self, engine: EngineHarness, caplog: pytest.LogCaptureFixture
    ) -> None:
        jobs = [engine.job("a"), engine.job("b", ["a"]), engine.job("c", fail=True)]
        settings = BatchSettings(
            fail_fast=False, poll_interval=0.05, max_poll_interval=0.2
        )

        with caplog.at_level(logging.INFO, logger="kedro_pipelinename.batch.progress"):
            _run(engine, engine.plan(jobs), settings, progress=LogProgress(interval=0))

        lines = [r.getMessage() for r in caplog.records if r.name.endswith("progress")]
        assert lines[0].endswith(": 3 job(s) planned.")
        assert lines[-1].endswith(
            "0 waiting, 0 submitted, 0 pending, 0 queued, 0 running, "
            "2 succeeded, 1 failed"
        )

    # --- reattach and dedupe by run id ---

    def test_a_fresh_run_id_has_no_jobs(self, engine: EngineHarness) -> None:
        _run(engine, engine.plan([engine.job("a")], run_id="2026-12-01T09.00.00.000Z"))

        opened = engine.open(engine.plan([engine.job("a")]))
        try:
            assert opened.find_jobs() == {}
        finally:
            opened.close()

    def test_find_jobs_gives_this_runs_jobs_by_name(
        self, engine: EngineHarness
    ) -> None:
        jobs = [engine.job("a"), engine.job("b", ["a"], fail=True)]
        outcome, _ = _run(engine, engine.plan(jobs))

        opened = engine.open(engine.plan(jobs))
        try:
            found = opened.find_jobs()
        finally:
            opened.close()

        assert {name: state.job_id for name, state in found.items()} == dict(
            outcome.job_ids
        )
        assert all(state.name == name for name, state in found.items())
        assert _found(engine, engine.plan(jobs)) == {
            "kedro-a": JobStatus.SUCCEEDED,
            "kedro-b": JobStatus.FAILED,
        }

    def test_a_driver_started_again_adopts_what_succeeded(
        self, engine: EngineHarness
    ) -> None:
        jobs = [engine.job("a"), engine.job("b", ["a"])]
        first, _ = _run(engine, engine.plan(jobs))

        second, submitted = _run(engine, engine.plan(jobs), reattach=True)

        assert first.ok and second.ok
        assert submitted == []
        assert second.adopted == set(named("a", "b"))
        assert second.job_ids == first.job_ids

    def test_a_resumed_run_submits_only_the_failed_and_the_missing_jobs(
        self,
        engine: EngineHarness,
    ) -> None:
        broken = [
            engine.job("a"),
            engine.job("b", ["a"], fail=True),
            engine.job("c", ["b"]),
        ]
        first, _ = _run(engine, engine.plan(broken))
        assert _did_not_run(first) == named("c")

        fixed = [engine.job("a"), engine.job("b", ["a"]), engine.job("c", ["b"])]
        second, submitted = _run(engine, engine.plan(fixed), reattach=True)

        assert second.ok
        assert submitted == named("b", "c")
        assert second.adopted == set(named("a"))

    # --- arrays (an engine with submit_array) ---

    @staticmethod
    def _index_variable(engine: EngineHarness) -> str:
        """The engine's array index variable; skips an engine without arrays."""
        opened = engine.open(engine.plan([engine.job("probe")]))
        try:
            has_arrays = callable(getattr(opened, "submit_array", None))
        finally:
            opened.close()
        variable = opened.spec.array_index_variable
        if not has_arrays or variable is None:
            pytest.skip(f"{engine.name} runs no array jobs")
        return variable

    def _fan_out(
        self, engine: EngineHarness, size: int, failing: Sequence[int] = ()
    ) -> tuple[list[PlannedJob], list[PlannedArray]]:
        """``a``, then ``x0..x<size-1>`` after it as one array, then
        ``y0..`` with ``yi`` after ``xi`` as an array paired with it."""
        variable = self._index_variable(engine)
        xs = [engine.job(f"x{i}", ["a"]) for i in range(size)]
        ys = [engine.job(f"y{i}", [f"x{i}"]) for i in range(size)]
        arrays = [
            engine.array("xs", xs, variable, depends_on=["a"], failing=failing),
            engine.array("ys", ys, variable, pairs_with=["xs"]),
        ]
        return [engine.job("a"), *xs, *ys], arrays

    def test_an_array_runs_each_childs_job_once_after_its_parents(
        self, engine: EngineHarness
    ) -> None:
        jobs, arrays = self._fan_out(engine, 4)
        submitted_arrays: list[str] = []

        outcome, submitted = _run(
            engine, engine.plan(jobs), arrays=arrays, submitted_arrays=submitted_arrays
        )

        assert outcome.ok
        assert submitted == named("a")
        assert submitted_arrays == named("xs", "ys")
        assert len(set(outcome.job_ids.values())) == len(jobs)
        for i in range(4):
            x, y = engine.started(f"x{i}"), engine.started(f"y{i}")
            assert x is not None and y is not None
            assert "kedro-a" in x["finished_before"]
            # Child i of the paired array after child i of its parent array.
            assert f"kedro-x{i}" in y["finished_before"]
            assert x["env"]["KEDRO_PIPELINENAME_RUN_ID"] == RUN_ID

    def test_a_failing_child_fails_alone_and_its_pair_does_not_run(
        self, engine: EngineHarness
    ) -> None:
        jobs, arrays = self._fan_out(engine, 3, failing=[1])
        settings = attrs.evolve(FAST, fail_fast=False)

        outcome, _ = _run(engine, engine.plan(jobs), settings, arrays=arrays)

        assert _own_failures(outcome) == named("x1")
        failure = next(f for f in outcome.failures if f.job == "kedro-x1")
        assert failure.exit_code == FAILING_EXIT_CODE
        assert "kedro-y1" in _did_not_run(outcome)
        assert engine.started("y1") is None
        assert all(engine.finished(name) for name in ("x0", "x2", "y0", "y2"))

    def test_find_jobs_names_each_child_of_an_array(
        self, engine: EngineHarness
    ) -> None:
        jobs, arrays = self._fan_out(engine, 3, failing=[2])
        _run(
            engine,
            engine.plan(jobs),
            attrs.evolve(FAST, fail_fast=False),
            arrays=arrays,
        )

        opened = engine.open(engine.plan(jobs))
        try:
            found = opened.find_jobs()
        finally:
            opened.close()

        children = [found[array_child_name("kedro-xs", i)] for i in range(3)]
        assert [child.status for child in children] == [
            JobStatus.SUCCEEDED,
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
        ]
        assert len({child.array_id for child in children}) == 1
        assert children[0].array_id is not None

    def test_a_resumed_run_submits_only_the_failed_child_and_what_follows(
        self, engine: EngineHarness
    ) -> None:
        jobs, arrays = self._fan_out(engine, 3, failing=[1])
        first, _ = _run(
            engine,
            engine.plan(jobs),
            attrs.evolve(FAST, fail_fast=False),
            arrays=arrays,
        )
        assert _own_failures(first) == named("x1")

        fixed, fixed_arrays = self._fan_out(engine, 3)
        submitted_arrays: list[str] = []
        second, submitted = _run(
            engine,
            engine.plan(fixed),
            reattach=True,
            arrays=fixed_arrays,
            submitted_arrays=submitted_arrays,
        )

        assert second.ok
        # x1 alone; ys never ran (y1 by its pair's failure; the others were
        # adopted when they had succeeded, else they run again).
        assert "kedro-x1" in submitted
        assert not set(named("a", "x0", "x2")) & set(submitted)
        assert {"kedro-a", "kedro-x0", "kedro-x2"} <= second.adopted

    # --- the engine's own calls ---

    def test_poll_omits_ids_the_engine_does_not_know(
        self, engine: EngineHarness
    ) -> None:
        opened = engine.open(engine.plan([]))
        try:
            assert dict(opened.poll(["no-such-job"])) == {}
        finally:
            opened.close()

    def test_cancelling_finished_jobs_changes_nothing(
        self, engine: EngineHarness
    ) -> None:
        jobs = [engine.job("a"), engine.job("b", fail=True)]
        settings = BatchSettings(
            fail_fast=False, poll_interval=0.05, max_poll_interval=0.2
        )
        outcome, _ = _run(engine, engine.plan(jobs), settings)
        opened = engine.open(engine.plan(jobs))

        try:
            ids = list(outcome.job_ids.values())
            opened.cancel(ids, "cancel twice")
            opened.cancel(ids, "cancel twice")
        finally:
            opened.close()

        assert _found(engine, engine.plan(jobs)) == {
            "kedro-a": JobStatus.SUCCEEDED,
            "kedro-b": JobStatus.FAILED,
        }

    # --- opening and checking ---

    def test_open_calls_nothing_of_the_backend(self, engine: EngineHarness) -> None:
        plan = engine.plan([engine.job("a")])
        before = engine.backend_calls()

        # What `kedro batch status` and `cancel` do: open, no pre-flight.
        opened = engine.open(plan)
        calls_to_open = engine.backend_calls() - before
        opened.close()

        assert calls_to_open == 0
        assert opened.submissions == []
        assert engine.alive() == []

    def test_check_lists_every_missing_resource_at_once(
        self, engine: EngineHarness
    ) -> None:
        plan = engine.plan(
            [engine.job("a"), attrs.evolve(engine.job("b"), namespace="big")]
        )
        before = engine.backend_calls()

        opened = engine.open_with_missing(plan)
        if opened is None:
            pytest.skip(f"{type(engine).__name__}.open_missing names no resources")
        calls_to_open = engine.backend_calls() - before
        try:
            problems = engine_checks(
                cast(Engine, opened)
            )  # what a driver does after open
        finally:
            opened.close()

        assert calls_to_open == 0
        assert len(problems) == 2, problems
        assert opened.submissions == []
        assert engine.alive() == []

    def test_the_engine_declares_itself_and_is_installed(
        self, engine: EngineHarness
    ) -> None:
        opened = engine.open(engine.plan([]))
        opened.close()
        spec = opened.spec

        assert installed_engines()[spec.name] is type(opened.engine)
        assert spec.name == engine.name
        assert set(spec.statuses.values()) >= {
            JobStatus.RUNNING,
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
        }
        assert spec.max_parents >= 0
