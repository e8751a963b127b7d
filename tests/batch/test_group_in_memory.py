"""``group_in_memory``: nodes joined by a dataset kept in memory share a job.

Kedro's spaceflights starter keeps ``X_train``/``y_train`` in memory between
``split_data_node`` and the model nodes; without this, pre-flight refused every
plan of it. Property: whatever the pipeline and whichever datasets are in memory,
no in-memory dataset crosses two jobs and the jobs never depend on each other in
a circle.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node

from kedro_pipelinename.batch.plan import JobPlan, plan_jobs
from kedro_pipelinename.batch.preflight import check_persisted, in_memory_datasets
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.run.context import RunContext
from tests.support.batch_project import persisted_dataset_type
from tests.support.plans import RUN_ID

CONTEXT = RunContext(run_id=RUN_ID, pipeline_names=("train",))


def first(*values: Any) -> Any:
    return values[0] if values else None


def _named(nodes: list[Any]) -> Pipeline:
    built = Pipeline(nodes)
    built.name = "train"  # type: ignore[attr-defined]  # the patch adds it
    return built


def _spaceflights_shape() -> Pipeline:
    # split -> X_train, y_train, X_test, y_test (memory) -> train, evaluate;
    # train -> regressor (persisted) -> evaluate.
    return _named(
        [
            node(
                first,
                "model_input_table",
                ["X_train", "X_test", "y_train", "y_test"],
                name="split",
            ),
            node(first, ["X_train", "y_train"], "regressor", name="train"),
            node(first, ["regressor", "X_test", "y_test"], "metrics", name="evaluate"),
            node(first, "metrics", "report", name="report"),
        ]
    )


def _jobs(plan: JobPlan) -> list[tuple[str, ...]]:
    return [job.nodes for job in plan.jobs]


def test_nodes_joined_in_memory_share_one_job_and_the_rest_stay_apart() -> None:
    in_memory = {"X_train", "y_train", "X_test", "y_test"}

    plan = plan_jobs(
        _spaceflights_shape(),
        settings=BatchSettings(grouping="none"),
        context=CONTEXT,
        in_memory=in_memory,
    )

    assert _jobs(plan) == [("split", "train", "evaluate"), ("report",)]
    assert plan.jobs[1].depends_on == (plan.jobs[0].name,)


def test_off_every_node_is_its_own_job_and_pre_flight_names_the_setting() -> None:
    pipeline = _spaceflights_shape()
    catalog = DataCatalog()  # nothing declared: every dataset in memory

    plan = plan_jobs(
        pipeline,
        settings=BatchSettings(grouping="none", group_in_memory=False),
        context=CONTEXT,
        in_memory=in_memory_datasets(pipeline, catalog),
    )

    assert len(plan.jobs) == 4
    problems = check_persisted(plan, pipeline, catalog)
    assert any("'X_train'" in p and "group_in_memory: true" in p for p in problems)


def test_joining_that_would_close_a_circle_of_jobs_makes_the_circle_one_job() -> None:
    # a -(memory)-> c, a -> b -> c through persisted datasets: a and c joined
    # would both feed and follow b.
    pipeline = _named(
        [
            node(first, "raw", ["to_c", "to_b"], name="a"),
            node(first, "to_b", "b_out", name="b"),
            node(first, ["to_c", "b_out"], "c_out", name="c"),
        ]
    )

    plan = plan_jobs(
        pipeline,
        settings=BatchSettings(grouping="none"),
        context=CONTEXT,
        in_memory={"to_c"},
    )

    assert _jobs(plan) == [("a", "b", "c")]


def test_in_memory_datasets_are_the_undeclared_and_memory_ones_between_nodes() -> None:
    persisted = persisted_dataset_type()
    catalog = DataCatalog.from_config(
        {
            "X_train": {"type": "MemoryDataset"},
            "regressor": {"type": persisted, "filepath": "/tmp/unused-regressor"},
        }
    )

    found = in_memory_datasets(_spaceflights_shape(), catalog)

    # model_input_table is an input only, report an output only: no job boundary.
    assert found == {"X_train", "y_train", "X_test", "y_test", "metrics"}


@st.composite
def _pipelines(draw: st.DrawFn) -> tuple[Pipeline, set[str]]:
    count = draw(st.integers(min_value=1, max_value=9))
    nodes = []
    for index in range(count):
        inputs = draw(
            st.lists(st.integers(0, index - 1), max_size=3, unique=True)
            if index
            else st.just([])
        )
        nodes.append(
            node(
                first,
                [f"d{parent}" for parent in inputs] or "raw",
                f"d{index}",
                name=f"n{index}",
                namespace=draw(st.sampled_from([None, "ns_a", "ns_b"])),
            )
        )
    in_memory = draw(st.sets(st.sampled_from([f"d{i}" for i in range(count)])))
    return _named(nodes), in_memory


@settings(max_examples=150, deadline=None)
@given(_pipelines(), st.sampled_from(["namespace", "none"]))
def test_no_in_memory_dataset_crosses_jobs_and_jobs_never_circle(
    drawn: tuple[Pipeline, set[str]], grouping: str
) -> None:
    pipeline, in_memory = drawn

    plan = plan_jobs(
        pipeline,
        settings=BatchSettings(grouping=grouping),
        context=CONTEXT,
        in_memory=in_memory,
    )

    job_of = {name: job.name for job in plan.jobs for name in job.nodes}
    for each in pipeline.nodes:
        for dataset in each.inputs:
            producers = [n for n in pipeline.nodes if dataset in n.outputs]
            if dataset in in_memory and producers:
                assert job_of[producers[0].name] == job_of[each.name]
    # Jobs come parents first, so no job depends on a later one: no circle.
    seen: set[str] = set()
    for job in plan.jobs:
        assert set(job.depends_on) <= seen
        seen.add(job.name)
    assert sorted(job_of) == sorted(n.name for n in pipeline.nodes)
