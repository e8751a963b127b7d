"""Planning: groups, dependencies, job names, commands; and the pre-flight checks."""

from __future__ import annotations

import io
import json
import re
import shlex
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node, pipeline

from kedro_pipelinename.batch import naming as naming_module
from kedro_pipelinename.batch.errors import BatchSettingsError, PreflightError
from kedro_pipelinename.batch.naming import JobNameRule
from kedro_pipelinename.batch.plan import plan_jobs
from kedro_pipelinename.batch.plan_render import as_json, as_text, plan_blocks, render
from kedro_pipelinename.batch.preflight import (
    check_persisted,
    check_reproducible,
    require_names,
)
from kedro_pipelinename.batch.record_model import JobRecord, RunRecord, record_data
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.batch.tables import show
from kedro_pipelinename.engines.aws import SPEC as AWS_SPEC
from kedro_pipelinename.engines.local import SPEC as LOCAL_SPEC
from kedro_pipelinename.relaunch.argv import build_run_command, build_run_commands
from kedro_pipelinename.relaunch.errors import RunCommandError
from kedro_pipelinename.run.context import RunContext
from tests.support.batch_project import persisted_dataset_type
from tests.support.cli import run_options
from tests.support.plans import RUN_ID

CONTEXT = RunContext(
    run_id=RUN_ID, pipeline_names=("train",), env="prod", runtime_params={"alpha": 1}
)


def identity(value: Any) -> Any:
    return value


def combine(first: Any, second: Any) -> Any:
    return [first, second]


def _client(namespace: str) -> Pipeline:
    return pipeline(
        [
            node(identity, "raw", "rows", name="prepare"),
            node(identity, "rows", "model", name="fit"),
        ],
        namespace=namespace,
    )


def _train() -> Pipeline:
    train = (
        _client("client_1")
        + _client("client_2")
        + Pipeline(
            [
                node(
                    combine,
                    ["client_1.model", "client_2.model"],
                    "report",
                    name="report",
                )
            ]
        )
    )
    train.name = "train"  # type: ignore[attr-defined]  # the patch adds it
    return train


def _summary(plan: Any) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return [(job.name, job.nodes, job.depends_on) for job in plan.jobs]


def test_namespace_grouping_makes_one_job_per_namespace_and_one_per_other_node() -> (
    None
):
    plan = plan_jobs(_train(), settings=BatchSettings(), context=CONTEXT)

    assert _summary(plan) == [
        ("kedro-client_1", ("client_1.prepare", "client_1.fit"), ()),
        ("kedro-client_2", ("client_2.prepare", "client_2.fit"), ()),
        ("kedro-report", ("report",), ("kedro-client_1", "kedro-client_2")),
    ]


def test_grouping_none_makes_one_job_per_node() -> None:
    plan = plan_jobs(_train(), settings=BatchSettings(grouping="none"), context=CONTEXT)

    assert [job.nodes for job in plan.jobs] == [
        ("client_1.prepare",),
        ("client_2.prepare",),
        ("client_1.fit",),
        ("client_2.fit",),
        ("report",),
    ]
    assert plan.job("kedro-client_1-fit").depends_on == ("kedro-client_1-prepare",)


def test_each_job_command_and_env_reproduce_the_run_for_its_nodes() -> None:
    settings = BatchSettings(executable="python -m proj", extra_env={"TEAM": "ml"})

    plan = plan_jobs(_train(), settings=settings, context=CONTEXT)

    flags = run_options()
    pipelines = flags.get("pipelines", flags["pipeline"])
    assert plan.job("kedro-client_1").command == (
        "python",
        "-m",
        "proj",
        "run",
        f"{pipelines}=train",
        f"{flags['node_names']}=client_1.prepare,client_1.fit",
        "--env=prod",
        "--params=alpha=1",
    )
    assert plan.job("kedro-client_1").env == {
        "KEDRO_PIPELINENAME_RUN_ID": RUN_ID,
        "KEDRO_ENV": "prod",
        "TEAM": "ml",
    }


@pytest.mark.parametrize("grouping", ["namespace", "none"])
def test_every_job_command_is_what_build_run_command_gives_for_its_nodes(
    grouping: str,
) -> None:
    train = _train()
    settings = BatchSettings(grouping=grouping, executable="python -m proj")

    plan = plan_jobs(train, settings=settings, context=CONTEXT)

    assert [job.command for job in plan.jobs] == [
        tuple(
            build_run_command(
                train,
                nodes=job.nodes,
                context=CONTEXT,
                executable=["python", "-m", "proj"],
            )
        )
        for job in plan.jobs
    ]


def _error_of(call: Any, *args: Any) -> str:
    with pytest.raises(RunCommandError) as raised:
        call(*args)
    return str(raised.value)


def _one_by_one(node_lists: list[list[str]], context: RunContext) -> None:
    for nodes in node_lists:
        build_run_command(_train(), nodes=nodes, context=context)


BAD_PARAMS = RunContext(run_id=RUN_ID, runtime_params={"alpha": [1, 2]})


@pytest.mark.parametrize(
    ("node_lists", "context"),
    [
        pytest.param([["report"], ["client_1.fti"]], CONTEXT, id="unknown-node"),
        pytest.param([["report"], []], CONTEXT, id="empty-selection"),
        pytest.param([["client_1.fti"]], BAD_PARAMS, id="nodes-before-params"),
        pytest.param([["report"], ["client_1.fit"]], BAD_PARAMS, id="bad-params"),
    ],
)
def test_build_run_commands_raises_what_build_run_command_raises_first(
    node_lists: list[list[str]], context: RunContext
) -> None:
    batched = _error_of(
        lambda: build_run_commands(_train(), node_lists, context=context)
    )

    assert batched == _error_of(_one_by_one, node_lists, context)


def test_extra_env_may_not_replace_the_run_id() -> None:
    settings = BatchSettings(extra_env={"KEDRO_PIPELINENAME_RUN_ID": "other"})

    with pytest.raises(BatchSettingsError, match="KEDRO_PIPELINENAME_RUN_ID"):
        plan_jobs(_train(), settings=settings, context=CONTEXT)


def test_namespace_interrupted_by_another_job_is_split_so_jobs_never_cycle() -> None:
    interrupted = Pipeline(
        [
            node(identity, "raw", "ns.a", name="first", namespace="ns"),
            node(identity, "ns.a", "b", name="middle"),
            node(identity, "b", "ns.c", name="last", namespace="ns"),
            node(identity, "raw", "ns.d", name="side", namespace="ns"),
        ]
    )
    interrupted.name = "train"  # type: ignore[attr-defined]

    plan = plan_jobs(interrupted, settings=BatchSettings(), context=CONTEXT)

    assert _summary(plan) == [
        ("kedro-ns-first", ("ns.first",), ()),
        ("kedro-ns-side", ("ns.side",), ()),
        ("kedro-middle", ("middle",), ("kedro-ns-first",)),
        ("kedro-ns-last", ("ns.last",), ("kedro-middle",)),
    ]


def test_plan_json_has_every_job_with_command_env_and_dependencies() -> None:
    plan = plan_jobs(_train(), settings=BatchSettings(), context=CONTEXT)

    data: Any = json.loads(as_json(plan, "local"))

    assert (data["run_id"], data["engine"], data["grouping"]) == (
        RUN_ID,
        "local",
        "namespace",
    )
    assert data["jobs"][2] == {
        "name": "kedro-report",
        "group": "report",
        "namespace": None,
        "nodes": ["report"],
        "tags": [],
        "depends_on": ["kedro-client_1", "kedro-client_2"],
        "command": list(plan.jobs[2].command),
        "env": {"KEDRO_PIPELINENAME_RUN_ID": RUN_ID, "KEDRO_ENV": "prod"},
    }


def test_the_run_record_stores_the_plan_document_of_kedro_batch_plan() -> None:
    plan = plan_jobs(_train(), settings=BatchSettings(), context=CONTEXT)
    record = RunRecord(
        run_id=plan.run_id,
        engine="local",
        engine_label="local processes",
        project_path="/project",
        pipeline_names=plan.pipeline_names,
        grouping=plan.grouping,
        settings={},
        engine_settings=None,
        jobs=[JobRecord(job=job) for job in plan.jobs],
    )

    document = json.loads(render(plan, "local", "json"))
    stored = record_data(record)

    # One schema: the record's run fields and jobs[].job are the document's.
    assert {
        **{key: stored[key] for key in document if key != "jobs"},
        "jobs": [job["job"] for job in stored["jobs"]],
    } == document


MARKUP = "[red]x[/red] [link=https://evil.example]y[/link]"


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_plan_text_shows_every_command_verbatim_never_as_rich_markup(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    context = attrs.evolve(CONTEXT, runtime_params={"note": MARKUP})
    plan = plan_jobs(_train(), settings=BatchSettings(), context=context)
    monkeypatch.setenv("COLUMNS", "1000")
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    shown = io.StringIO()

    show(plan_blocks(plan, "local"), shown)

    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.getvalue())
    assert ("\x1b" in shown.getvalue()) is terminal
    assert "\x1b]8;" not in shown.getvalue()  # no hyperlink made of [link=...]
    assert all(MARKUP in shlex.join(job.command) for job in plan.jobs)
    assert text.count(MARKUP) == len(plan.jobs)
    assert as_text(plan, "local").count(MARKUP) == len(plan.jobs)


# --- job names ---------------------------------------------------------------------


#: Every engine's rule, and a short case-sensitive one (a scheduler with tighter
#: names): the naming algorithm must keep each rule's promise.
RULES = {
    "aws": AWS_SPEC.job_names,
    "local": LOCAL_SPEC.job_names,
    "short": JobNameRule(max_length=24, characters="a-z0-9-", case_insensitive=False),
}


def test_job_names_are_sanitised_and_unique_after_sanitising() -> None:
    names = AWS_SPEC.job_names.names(
        "kedro", ["a.b", "a b", "a-b", "A.B", "x(y) -> [z]"]
    )
    assert names == [
        "kedro-a-b",
        "kedro-a-b-2",
        "kedro-a-b-3",
        "kedro-A-B-4",
        "kedro-x-y-z",
    ]


def test_a_rule_that_allows_dots_keeps_them() -> None:
    rule = JobNameRule(max_length=64, characters="A-Za-z0-9_.-")
    assert rule.names("kedro", ["a.b", "a b"]) == [
        "kedro-a.b",
        "kedro-a-b",
    ]


def test_long_job_names_are_cut_to_128_and_stay_unique() -> None:
    long = "n" * 200
    rule = AWS_SPEC.job_names
    names = rule.names("kedro", [f"{long}.a", f"{long}.b", f"{long}.b"])

    assert [len(name) for name in names] == [128, 128, 128]
    assert len({name.lower() for name in names}) == 3
    assert all(rule.valid(name) for name in names)


def _job_names_one_suffix_at_a_time(
    rule: JobNameRule, prefix: str, groups: list[str]
) -> list[str]:
    """The naming rule, plainly: the first of base, base-2, base-3, ... not taken."""
    import re

    invalid = re.compile(rf"[^{rule.characters}]+")
    taken: set[str] = set()
    names = []
    for group in groups:
        base = f"{prefix}-{naming_module._sanitise(group, invalid)}"
        if len(base) > rule.max_length:
            base = rule._fit(base, f"-{naming_module._short_hash(group)}")
        candidate, number = base, 1
        while rule._key(candidate) in taken:
            number += 1
            candidate = rule._fit(base, f"-{number}")
        taken.add(rule._key(candidate))
        names.append(candidate)
    return names


@pytest.mark.parametrize("rule_name", sorted(RULES))
@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "A", "a-2", "a-3", "a.2", "b", "a_", "n" * 130]),
        max_size=40,
    )
)
def test_job_names_take_the_first_free_suffix(
    rule_name: str, groups: list[str]
) -> None:
    rule = RULES[rule_name]
    assert rule.names("kedro", groups) == _job_names_one_suffix_at_a_time(
        rule, "kedro", groups
    )


@pytest.mark.parametrize("rule_name", sorted(RULES))
@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=300), max_size=30))
def test_any_groups_get_valid_unique_names(rule_name: str, groups: list[str]) -> None:
    rule = RULES[rule_name]
    names = rule.names("kedro", groups)

    assert all(rule.valid(name) for name in names)
    assert len({rule._key(name) for name in names}) == len(groups)


# --- pre-flight -----------------------------------------------------------------------


def test_pipeline_without_a_name_is_refused_with_how_to_name_it() -> None:
    with pytest.raises(PreflightError, match="import kedro_pipelinename"):
        require_names(Pipeline([node(identity, "a", "b", name="n")]), "AWSBatchRunner")


def test_every_unpersisted_dataset_between_jobs_is_listed_with_its_jobs() -> None:
    train = _train()
    plan = plan_jobs(train, settings=BatchSettings(), context=CONTEXT)
    catalog = DataCatalog.from_config({"client_1.model": {"type": "MemoryDataset"}})

    problems = check_persisted(plan, train, catalog)

    assert len(problems) == 2
    assert problems[0].startswith(
        "Dataset 'client_1.model' is a MemoryDataset (in memory"
    )
    assert (
        "written by job 'kedro-client_1' and read by job(s) kedro-report"
        in (problems[0])
    )
    assert problems[1].startswith(
        "Dataset 'client_2.model' is not declared in the catalog"
    )


def test_dataset_factory_patterns_count_as_persisted() -> None:
    train = _train()
    plan = plan_jobs(train, settings=BatchSettings(), context=CONTEXT)
    catalog = DataCatalog.from_config(
        {
            "{namespace}.model": {
                "type": persisted_dataset_type(),
                "filepath": "data/{namespace}/model.json",
            }
        }
    )

    assert check_persisted(plan, train, catalog) == []


def test_factory_datasets_are_judged_by_the_type_their_pattern_gives() -> None:
    train = _train()
    plan = plan_jobs(train, settings=BatchSettings(), context=CONTEXT)
    catalog = DataCatalog.from_config(
        {
            "client_1.{name}": {"type": "MemoryDataset"},
            "{namespace}.model": {
                "type": persisted_dataset_type(),
                "filepath": "data/{namespace}/model.json",
            },
        }
    )

    problems = check_persisted(plan, train, catalog)

    assert len(problems) == 1  # client_2.model matches only the persisted one
    assert problems[0].startswith(
        "Dataset 'client_1.model' is a MemoryDataset (in memory; also what Kedro "
        "makes for a dataset the catalog does not declare); it is written by job "
        "'kedro-client_1'"
    )


def test_datasets_inside_one_job_may_stay_in_memory() -> None:
    train = _train()
    plan = plan_jobs(train, settings=BatchSettings(), context=CONTEXT)
    catalog = DataCatalog.from_config(
        {
            "client_1.model": {"type": persisted_dataset_type(), "filepath": "m1"},
            "client_2.model": {"type": persisted_dataset_type(), "filepath": "m2"},
        }
    )

    assert "client_1.rows" not in catalog  # undeclared, but never leaves its job
    assert check_persisted(plan, train, catalog) == []


def test_jobs_whose_nodes_are_not_in_the_registered_pipeline_are_refused() -> None:
    train = _train()
    plan = plan_jobs(train, settings=BatchSettings(), context=CONTEXT)
    registered_without_report = _client("client_1") + _client("client_2")

    problems = check_reproducible(plan, {"train": registered_without_report})

    assert len(problems) == 1
    assert problems[0].startswith(
        "Job 'kedro-report': node(s) report are not in the registered pipeline(s) train"
    )


def test_pipeline_names_missing_from_the_registry_are_refused() -> None:
    plan = plan_jobs(_train(), settings=BatchSettings(), context=CONTEXT)

    problems = check_reproducible(plan, {})

    assert problems == [
        "Pipeline 'train' is not in the project's pipeline registry, so a job's "
        "`kedro run --pipelines train` would not find it. Register it in "
        "pipeline_registry.py."
    ]
