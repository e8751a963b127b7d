"""Uniform fan-outs as arrays (``batch/arrays.py``): which jobs become one array,
and that every child of an array finds exactly the command its job had."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.pipeline import Pipeline, node, pipeline

from kedro_pipelinename.batch.arrays import (
    ArrayMismatch,
    ArraySpec,
    PlannedArray,
    member_command,
    member_nodes,
    plan_arrays,
)
from kedro_pipelinename.batch.naming import JobNameRule
from kedro_pipelinename.batch.plan import JobPlan, plan_jobs
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.relaunch.argv import nodes_argument
from kedro_pipelinename.run.context import RunContext
from tests.support.plans import RUN_ID

CONTEXT = RunContext(run_id=RUN_ID, pipeline_names=("train",), env="prod")
AWS_INDEX = "AWS_BATCH_JOB_ARRAY_INDEX"


def identity(*values: Any) -> Any:
    return values[0]


def _client(namespace: str, *, extra_parent: bool = False) -> Pipeline:
    inputs = ["shared", "other"] if extra_parent else ["shared"]
    return pipeline(
        [
            node(identity, inputs, "rows", name="prepare"),
            node(identity, "rows", "model", name="fit"),
            node(identity, "model", "score", name="score"),
        ],
        namespace=namespace,
        inputs=set(inputs),
    )


def seed(clients: Sequence[str], *, odd_one: str | None = None) -> Pipeline:
    """The feature request's shape: a shared load, the same chain per client,
    and a report over every client's score."""
    train = Pipeline([node(identity, "source", "shared", name="load")])
    if odd_one is not None:
        train += Pipeline([node(identity, "source", "other", name="other")])
    for client in clients:
        train += _client(client, extra_parent=client == odd_one)
    train += Pipeline(
        [node(identity, [f"{c}.score" for c in clients], "report", name="report")]
    )
    train.name = "train"  # type: ignore[attr-defined]  # the patch adds it
    return train


def arrays_of(
    train: Pipeline, limit: int = 10_000, grouping: str = "none"
) -> tuple[JobPlan, tuple[PlannedArray, ...]]:
    plan = plan_jobs(train, settings=BatchSettings(grouping=grouping), context=CONTEXT)
    arrays = plan_arrays(
        plan,
        node_names={n.name for n in train.nodes},
        limit=limit,
        job_names=JobNameRule(max_length=128),
        prefix="kedro",
        executable=["kedro"],
        index_variable=AWS_INDEX,
    )
    return plan, arrays


def child_argv(array: PlannedArray, index: int, train: Pipeline) -> list[str]:
    """What ``kedro batch child`` runs for child ``index``: read back from the
    array's own command, as the child does."""
    launcher = list(array.command)
    spec = ArraySpec.from_argument(launcher[3].removeprefix("--array="))
    run_command = launcher[launcher.index("--") + 1 :]
    nodes = member_nodes(spec, index, {n.name for n in train.nodes})
    return member_command(spec, run_command, nodes_argument(nodes))


def test_per_node_fan_out_is_one_array_per_step_paired_child_to_child() -> None:
    train = seed(["client_1", "client_2", "client_3"])

    plan, arrays = arrays_of(train)

    assert [(a.name, [j.name for j in a.jobs]) for a in arrays] == [
        (
            "kedro-prepare-client_1-and-2-more",
            [f"kedro-client_{i}-prepare" for i in (1, 2, 3)],
        ),
        ("kedro-fit-client_1-and-2-more", [f"kedro-client_{i}-fit" for i in (1, 2, 3)]),
        (
            "kedro-score-client_1-and-2-more",
            [f"kedro-client_{i}-score" for i in (1, 2, 3)],
        ),
    ]
    prepare, fit, score = arrays
    assert prepare.depends_on == ("kedro-load",) and prepare.pairs_with == ()
    assert fit.pairs_with == (prepare.name,) and fit.depends_on == ()
    assert score.pairs_with == (fit.name,)
    # The shared load and the fan-in report stay single jobs.
    in_arrays = {job.name for array in arrays for job in array.jobs}
    assert {job.name for job in plan.jobs} - in_arrays == {"kedro-load", "kedro-report"}


def test_every_child_runs_exactly_the_command_its_job_had() -> None:
    train = seed([f"client_{i}" for i in range(12)])

    _, arrays = arrays_of(train)

    for array in arrays:
        assert array.command[:3] == ("kedro", "batch", "child")
        assert f"--index-from={AWS_INDEX}" in array.command
        for index, job in enumerate(array.jobs):
            assert child_argv(array, index, train) == list(job.command)


def test_namespace_grouping_makes_one_array_of_every_client() -> None:
    train = seed(["a", "b", "c", "d"])

    _, arrays = arrays_of(train, grouping="namespace")

    assert [[job.name for job in a.jobs] for a in arrays] == [
        ["kedro-a", "kedro-b", "kedro-c", "kedro-d"]
    ]
    for index, job in enumerate(arrays[0].jobs):
        assert child_argv(arrays[0], index, train) == list(job.command)


def test_arrays_are_cut_at_the_limit_and_pairs_stay_aligned() -> None:
    clients = [f"c{i:02d}" for i in range(7)]
    train = seed(clients)

    _, arrays = arrays_of(train, limit=3)

    sizes = [(a.name, a.size) for a in arrays]
    # 7 = 3 + 3 + 1: the last slice of one job is a plain job.
    assert [size for _, size in sizes] == [3, 3, 3, 3, 3, 3]
    fits = [a for a in arrays if "fit" in a.name]
    prepares = [a for a in arrays if "prepare" in a.name]
    for fit, prepare in zip(fits, prepares, strict=True):
        assert fit.pairs_with == (prepare.name,)
        assert [j.namespace for j in fit.jobs] == [j.namespace for j in prepare.jobs]
    for array in arrays:
        for index, job in enumerate(array.jobs):
            assert child_argv(array, index, train) == list(job.command)


def test_a_namespace_that_differs_keeps_its_whole_step_out_of_arrays() -> None:
    # client_2.prepare has another parent: its prepare is not the same job, so
    # a child listing the namespaces with a prepare would count it too, and
    # prepare stays per job; fit and score pair with prepare and stay too.
    train = seed(["client_1", "client_2", "client_3"], odd_one="client_2")

    _, arrays = arrays_of(train)

    assert arrays == ()


def test_a_child_refuses_to_run_when_the_project_changed() -> None:
    train = seed(["client_1", "client_2", "client_3"])
    _, arrays = arrays_of(train)
    spec = ArraySpec.from_argument(arrays[0].command[3].removeprefix("--array="))
    grown = seed(["client_0", "client_1", "client_2", "client_3"])

    with pytest.raises(ArrayMismatch) as error:
        member_nodes(spec, 0, {n.name for n in grown.nodes})

    message = str(error.value)
    assert spec.fingerprint in message
    assert "client_0, client_1, client_2" in message
    assert "The image or the project changed" in message


def test_a_child_index_outside_the_array_is_refused() -> None:
    train = seed(["client_1", "client_2"])
    _, arrays = arrays_of(train)
    spec = ArraySpec.from_argument(arrays[0].command[3].removeprefix("--array="))

    with pytest.raises(ArrayMismatch, match="index is 2, but the array has 2"):
        member_nodes(spec, 2, {n.name for n in train.nodes})


def test_a_spec_from_another_version_is_refused_clearly() -> None:
    with pytest.raises(ArrayMismatch, match="another version of kedro-pipelinename"):
        ArraySpec.from_argument('{"template": ["fit"]}')


def test_no_arrays_below_two_children() -> None:
    train = seed(["client_1", "client_2"])

    _, arrays = arrays_of(train, limit=1)

    assert arrays == ()


namespaces = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=14
).map(lambda names: sorted(set(names)))


@settings(max_examples=40, deadline=None)
@given(
    clients=namespaces,
    limit=st.integers(1, 16),
    grouping=st.sampled_from(["none", "namespace"]),
)
def test_each_job_is_in_at_most_one_array_and_each_child_finds_its_job(
    clients: list[str], limit: int, grouping: str
) -> None:
    train = seed(clients)

    plan, arrays = arrays_of(train, limit=limit, grouping=grouping)

    members = [job.name for array in arrays for job in array.jobs]
    assert len(members) == len(set(members))
    assert {a.name for a in arrays}.isdisjoint(job.name for job in plan.jobs)
    by_name = {array.name: array for array in arrays}
    for array in arrays:
        assert 2 <= array.size <= limit
        for paired in array.pairs_with:
            parent = by_name[paired]
            assert [j.namespace for j in parent.jobs] == [
                j.namespace for j in array.jobs
            ]
        for index, job in enumerate(array.jobs):
            assert child_argv(array, index, train) == list(job.command)
    if len(clients) >= 2 and limit >= 2:
        assert arrays  # a uniform fan-out of two or more is always an array


def test_a_client_with_resources_of_its_own_keeps_its_step_out_of_slurm_arrays() -> (
    None
):
    from kedro_pipelinename.engines.slurm.script import array_key
    from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings

    train = seed(["client_1", "client_2", "client_3"])
    plan = plan_jobs(train, settings=BatchSettings(), context=CONTEXT)

    def arrays_with(settings: SlurmBatchSettings) -> tuple[PlannedArray, ...]:
        return plan_arrays(
            plan,
            node_names={n.name for n in train.nodes},
            limit=1001,
            job_names=JobNameRule(max_length=128),
            prefix="kedro",
            executable=["kedro"],
            index_variable="SLURM_ARRAY_TASK_ID",
            key=lambda job: array_key(job, settings),
        )

    # One sbatch sets every task's resources: client_2's own memory would be
    # lost in an array with the others.
    own = SlurmBatchSettings(resources_by_namespace={"client_2": {"memory": "8G"}})
    assert arrays_with(own) == ()
    assert len(arrays_with(SlurmBatchSettings())) == 1
