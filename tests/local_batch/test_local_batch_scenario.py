"""The feature request's scenario: what breaks without the pipeline context.

The project comes from ``kedro_pipelinename.demo.project``: ``client_1_train`` and
``client_2_train`` built by one factory, an ``evaluation`` pipeline (the default)
whose node names overlap the training ones, and one ``"{namespace}.{name}"``
dataset factory backed by JSON files.
"""

from __future__ import annotations

import pytest

from kedro_pipelinename.demo.project import DemoProject
from tests.support.cli import kedro_cli
from tests.support.demo import CLIENT_1_TRAIN_OUTPUTS, node_runs, read_outputs

pytestmark = pytest.mark.slow

#: The training nodes of client 1, in an order Kedro could run them.
CLIENT_1_TRAIN_NODES = (
    "client_1.prepare",
    "client_1.profile",
    "client_1.fit",
    "client_1.score",
)


def test_plain_run_of_a_named_pipeline_writes_the_expected_outputs(
    plain_run: DemoProject,
) -> None:
    assert read_outputs(plain_run) == CLIENT_1_TRAIN_OUTPUTS


def test_plain_run_runs_every_node_in_one_process_inside_the_named_pipeline(
    plain_run: DemoProject,
) -> None:
    records = node_runs(plain_run)

    assert sorted(record["node"] for record in records) == sorted(CLIENT_1_TRAIN_NODES)
    assert {record["pipeline"] for record in records} == {"client_1_train"}
    assert len({record["pid"] for record in records}) == 1


def test_jobs_built_as_kedro_aws_batch_guide_builds_them_lose_the_pipeline(
    demo_project: DemoProject,
) -> None:
    """The bug of the feature request, kept as a regression test.

    Kedro's AWS Batch guide submits one ``kedro run --node=<name>`` per node (the
    option is spelled ``--nodes`` since Kedro 0.19) with no pipeline, env or params.
    Each such job runs against ``__default__``: a node name that ``__default__``
    also has runs the *other* node of that name, which reads and writes other
    datasets of the same factory; every other node is not found.
    """
    outcomes: dict[str, str] = {}
    for node_name in CLIENT_1_TRAIN_NODES:
        result = kedro_cli(demo_project.path, "run", "--nodes", node_name, check=False)
        output = result.stdout + result.stderr
        if result.returncode == 0:
            outcomes[node_name] = "ran"
        elif f"Pipeline does not contain nodes named ['{node_name}']" in output:
            outcomes[node_name] = "not found"
        else:
            outcomes[node_name] = f"exit {result.returncode}: {output[-2000:]}"

    assert outcomes == {
        "client_1.prepare": "ran",
        "client_1.profile": "not found",
        "client_1.fit": "not found",
        "client_1.score": "not found",
    }
    # The job that "succeeded" ran the evaluation's client_1.prepare inside
    # __default__: it read client_1.holdout and wrote client_1.holdout_rows, and
    # the training data (client_1.train_rows / test_rows) was never written.
    assert read_outputs(demo_project) == {"client_1/holdout_rows.json": [2, 3, 7, 9, 9]}
    assert [(r["node"], r["pipeline"]) for r in node_runs(demo_project)] == [
        ("client_1.prepare", "__default__")
    ]
