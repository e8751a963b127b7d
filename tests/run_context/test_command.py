"""``build_run_command`` / ``build_run_env``: read back by the installed Kedro's CLI.

The round trip parses each argv with the installed ``kedro run`` click command
(``run.make_context``, which runs Kedro's own option callbacks) and compares what
Kedro would pass to the session with the context the argv was built from.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.pipeline import Pipeline, node

import kedro_pipelinename
from kedro_pipelinename import (
    RunCommandError,
    RunContext,
    build_resume_command,
    build_run_command,
    build_run_env,
)
from kedro_pipelinename.relaunch.params import params_argument
from kedro_pipelinename.run.run_id import (
    RUN_ID_ENV_VAR,
    InvalidRunIdError,
    run_id_from_environment,
    validate_run_id,
)
from tests.support.cli import run_flags

RUN_ID = "2030-01-01T00.00.00.000Z"


@pytest.fixture(autouse=True)
def _installed() -> Iterator[None]:
    if not kedro_pipelinename.is_installed():
        kedro_pipelinename.install()
    yield


def identity(value: Any) -> Any:
    return value


def named(name: str, pipeline: Pipeline) -> Pipeline:
    pipeline.name = name  # type: ignore[attr-defined]
    return pipeline


def train() -> Pipeline:
    return named(
        "train",
        Pipeline(
            [
                node(identity, "raw", "clean", name="prepare"),
                node(identity, "clean", "model", name="fit", namespace="ml"),
                node(identity, "model", "metrics", name="score", namespace="ml"),
            ]
        ),
    )


def kedro_reads(argv: Sequence[str]) -> dict[str, Any]:
    """What the installed ``kedro run`` passes on for ``argv`` (after "kedro run")."""
    from kedro.framework.cli.project import run

    assert list(argv[:2]) == ["kedro", "run"]
    context = run.make_context("run", list(argv[2:]))
    return dict(context.params)


def kedro_pipelines(parsed: Mapping[str, Any]) -> list[str]:
    """The pipeline names, from ``--pipelines`` (1.2+) or ``--pipeline``."""
    if parsed.get("pipelines"):
        return list(parsed["pipelines"])
    return [parsed["pipeline"]] if parsed.get("pipeline") else []


def kedro_namespaces(parsed: Mapping[str, Any]) -> list[str]:
    """``--namespaces`` (1.0+) or the one ``--namespace`` (0.19)."""
    if "namespaces" in parsed:
        return list(parsed["namespaces"])
    return [parsed["namespace"]] if parsed.get("namespace") else []


def strictly_equal(actual: Any, expected: Any) -> bool:
    """Equal with equal types all the way down (``1 == 1.0 == True`` in Python)."""
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and set(actual) == set(expected)
            and all(strictly_equal(actual[key], expected[key]) for key in expected)
        )
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, float) and math.isnan(expected):
        return math.isnan(actual)
    return bool(actual == expected)


def full_context(conf_source: Path) -> RunContext:
    return RunContext(
        run_id=RUN_ID,
        pipeline_names=("train",),
        env="staging",
        conf_source=str(conf_source),
        runtime_params={
            "model": {"alpha": 0.5, "depth": 3, "label": "1", "flag": "true"},
            "enabled": False,
            "nothing": None,
            "empty": "",
        },
        tags=("a", "b"),
        from_nodes=("prepare",),
        to_nodes=("ml.score",),
        from_inputs=("raw",),
        to_outputs=("metrics",),
        load_versions={"model": "2029-01-01T00.00.00.000Z"},
        only_missing_outputs="--only-missing-outputs" in run_flags(),
    )


# --- round trips ---------------------------------------------------------------------


def test_the_whole_run_reads_back_as_its_context(tmp_path: Path) -> None:
    context = full_context(tmp_path)

    parsed = kedro_reads(build_run_command(train(), context=context))

    assert kedro_pipelines(parsed) == ["train"]
    assert parsed["env"] == "staging"
    assert parsed["conf_source"] == str(tmp_path.resolve())
    assert strictly_equal(parsed["params"], context.runtime_params)
    assert parsed["tags"] == ["a", "b"]
    assert parsed["from_nodes"] == ["prepare"]
    assert parsed["to_nodes"] == ["ml.score"]
    assert parsed["from_inputs"] == ["raw"]
    assert parsed["to_outputs"] == ["metrics"]
    assert parsed["load_versions"] == {"model": "2029-01-01T00.00.00.000Z"}
    assert parsed["node_names"] == []
    assert parsed.get("only_missing_outputs", False) == context.only_missing_outputs


def test_a_job_of_some_nodes_reads_back_as_exactly_those_nodes(tmp_path: Path) -> None:
    context = full_context(tmp_path)

    parsed = kedro_reads(
        build_run_command(train(), nodes=["ml.fit", "ml.score"], context=context)
    )

    assert kedro_pipelines(parsed) == ["train"]
    assert parsed["node_names"] == ["ml.fit", "ml.score"]
    # The run's own filters chose these nodes; repeating them could only drop some.
    assert (parsed["tags"], parsed["from_nodes"], parsed["to_outputs"]) == ([], [], [])
    assert parsed["env"] == "staging"
    assert strictly_equal(parsed["params"], context.runtime_params)


def test_a_namespace_job_reads_back_as_that_namespace() -> None:
    parsed = kedro_reads(build_run_command(train(), namespaces=["ml"], context=None))

    assert kedro_namespaces(parsed) == ["ml"]
    assert parsed["node_names"] == []


def test_several_pipeline_names_need_the_pipelines_option() -> None:
    combined = train() + named("report", Pipeline([node(identity, "metrics", "r")]))

    if "--pipelines" in run_flags():  # Kedro 1.2+
        parsed = kedro_reads(build_run_command(combined, context=None))
        assert kedro_pipelines(parsed) == ["report", "train"]
    else:
        with pytest.raises(RunCommandError, match=r"Kedro 1\.2"):
            build_run_command(combined, context=None)


def test_the_resume_command_replaces_only_the_start_nodes(tmp_path: Path) -> None:
    context = full_context(tmp_path)

    argv = build_resume_command(train(), ["ml.fit"], context=context)
    parsed = kedro_reads(argv)

    assert parsed["from_nodes"] == ["ml.fit"]
    assert parsed["to_nodes"] == ["ml.score"]
    assert parsed["tags"] == ["a", "b"]
    assert strictly_equal(parsed["params"], context.runtime_params)


def test_an_argv_prefix_executable_comes_first() -> None:
    argv = build_run_command(
        train(), nodes=["prepare"], context=None, executable=["python", "-m", "kedro"]
    )

    assert argv[:4] == ["python", "-m", "kedro", "run"]


def test_the_context_defaults_to_none_outside_a_run() -> None:
    argv = build_run_command(train(), nodes=["prepare"])

    assert kedro_reads(argv)["env"] is None
    assert len(argv) == 4


# --- runtime params (Hypothesis) ---------------------------------------------

keys = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
#: Printable ASCII without the comma (Kedro splits on it) and ``$`` (OmegaConf
#: reads ``${...}`` as an interpolation): every such string must be expressible.
plain_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters=",$"),
    max_size=12,
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    plain_text,
)
params_trees = st.recursive(
    st.dictionaries(keys, leaves, min_size=1, max_size=4),
    lambda children: st.dictionaries(
        keys, st.one_of(leaves, children), min_size=1, max_size=3
    ),
    max_leaves=8,
)


def kedro_reads_params(value: str) -> Any:
    return kedro_reads(["kedro", "run", f"--params={value}"])["params"]


@settings(max_examples=60, deadline=None)
@given(params_trees)
def test_expressible_params_read_back_equal_with_their_types(
    params: dict[str, Any],
) -> None:
    assert strictly_equal(kedro_reads_params(params_argument(params)), params)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(keys, st.one_of(leaves, st.text(max_size=8)), min_size=1))
def test_any_params_read_back_equal_or_fail_naming_the_key(
    params: dict[str, Any],
) -> None:
    try:
        value = params_argument(params)
    except RunCommandError as error:
        assert any(repr(key) in str(error) for key in params)
    else:
        assert strictly_equal(kedro_reads_params(value), params)


# --- errors ------------------------------------------------------------------


def test_a_pipeline_without_names_is_refused_saying_how_to_name_it() -> None:
    with pytest.raises(RunCommandError) as error:
        build_run_command(Pipeline([node(identity, "a", "b", name="n")]))

    message = str(error.value)
    assert "has no registered pipeline name" in message
    assert "--pipelines" in message
    assert "pipeline.name" in message
    assert "import kedro_pipelinename" in message


def test_a_pipeline_name_with_a_comma_is_refused() -> None:
    pipeline = named("a,b", Pipeline([node(identity, "a", "b", name="n")]))

    with pytest.raises(RunCommandError, match=r"Pipeline name 'a,b'.*comma"):
        build_run_command(pipeline)


def test_a_node_outside_the_pipeline_is_refused_with_suggestions() -> None:
    with pytest.raises(RunCommandError, match=r"\['ml\.fitt'\].*'ml\.fit'"):
        build_run_command(train(), nodes=["ml.fitt"])


class PipelineOfNames:
    """A pipeline as runners see it, with node names Kedro no longer validates.

    Kedro 0.19 named unnamed nodes ``f([a]) -> [b]`` (from their datasets, so a
    dataset ``a]`` unbalances the brackets); Kedro 1.x hashes them. The check must
    hold for any name a pipeline hands over.
    """

    def __init__(self, *node_names: str) -> None:
        self.names = ("p",)
        self.nodes = [SimpleNamespace(name=name) for name in node_names]


@pytest.mark.parametrize(
    ("node_names", "message"),
    [
        (["a,b"], r"Node name 'a,b' .* reads it as \['a', 'b'\]"),
        ([" a"], r"Node name ' a' .* reads it as \['a'\]"),
        # Unbalanced brackets: split_node_names drops the name altogether.
        (
            ["identity([a]]) -> [b]", "fit"],
            r"'identity\(\[a\]\]\) -> \[b\]' .* as \[\]",
        ),
    ],
)
def test_node_names_kedro_would_split_or_change_are_refused(
    node_names: list[str], message: str
) -> None:
    pipeline = PipelineOfNames(*node_names)

    with pytest.raises(RunCommandError, match=message):
        build_run_command(
            pipeline,  # type: ignore[arg-type]  # duck-typed, as runners may pass
            nodes=node_names,
            context=None,
        )


def test_a_namespace_outside_the_pipeline_is_refused() -> None:
    with pytest.raises(RunCommandError, match="Namespace 'nope'"):
        build_run_command(train(), namespaces=["nope"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"nodes": []}, "selects nothing"),
        ({"nodes": "fit"}, "not one string"),
        ({"executable": []}, "executable"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(RunCommandError, match=message):
        build_run_command(train(), **arguments)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"a": "x,y"}, r"'a' = 'x,y' contains a comma"),
        ({"a": {"b": [1, 2]}}, r"'a\.b' = \[1, 2\] is a list"),
        ({"a.b": 1}, r"key 'a\.b'"),
        ({"a": {}}, r"'a' is an empty mapping"),
        ({"a": "x\ny"}, r"'a' = 'x\\ny' cannot be passed"),
        ({"a": object}, r"'a' = <class 'object'> is a type"),
    ],
)
def test_params_kedro_cannot_read_back_are_refused_naming_the_key(
    params: dict[str, Any], message: str
) -> None:
    context = RunContext(run_id=RUN_ID, runtime_params=params)

    with pytest.raises(RunCommandError, match=message):
        build_run_command(train(), context=context)


def test_a_load_version_kedro_would_split_is_refused() -> None:
    context = RunContext(run_id=RUN_ID, load_versions={"a,b": RUN_ID})

    with pytest.raises(RunCommandError, match=r"Load version 'a,b'"):
        build_run_command(train(), context=context)


def test_a_context_dataset_name_with_a_comma_is_refused() -> None:
    context = RunContext(run_id=RUN_ID, from_inputs=("raw,clean",))

    with pytest.raises(RunCommandError, match=r"'raw,clean' from the run context"):
        build_run_command(train(), context=context)


def test_resume_from_no_nodes_is_refused() -> None:
    with pytest.raises(RunCommandError, match="from_nodes=\\[\\] selects nothing"):
        build_resume_command(train(), [])


# --- the run id --------------------------------------------------------------


def test_run_env_carries_the_run_id_and_env() -> None:
    context = RunContext(run_id=RUN_ID, env="prod")

    assert build_run_env(context) == {RUN_ID_ENV_VAR: RUN_ID, "KEDRO_ENV": "prod"}
    assert build_run_env(RunContext(run_id=RUN_ID)) == {RUN_ID_ENV_VAR: RUN_ID}


def test_run_env_outside_a_run_is_refused() -> None:
    with pytest.raises(RunCommandError, match="needs the run to join"):
        build_run_env()


def test_run_env_refuses_a_run_id_that_is_not_a_kedro_version() -> None:
    with pytest.raises(
        RunCommandError, match=r"'my-run', which is not a Kedro version"
    ):
        build_run_env(RunContext(run_id="my-run"))


@pytest.mark.parametrize(
    "value",
    ["2030-01-01T00.00.00.000", "2030-13-01T00.00.00.000Z", "2030-01-01 00:00:00"],
)
def test_a_malformed_run_id_variable_is_an_error_naming_it(value: str) -> None:
    with pytest.raises(InvalidRunIdError, match=f"{RUN_ID_ENV_VAR} is {value!r}"):
        run_id_from_environment({RUN_ID_ENV_VAR: value})


def test_an_unset_or_empty_run_id_variable_means_no_run_id() -> None:
    assert run_id_from_environment({}) is None
    assert run_id_from_environment({RUN_ID_ENV_VAR: ""}) is None


def test_kedro_generated_timestamps_are_valid_run_ids() -> None:
    from kedro.io.core import generate_timestamp

    stamp = generate_timestamp()

    assert validate_run_id(stamp, source="test") == stamp


def test_contexts_equal_by_value_keep_their_own_param_types() -> None:
    # 1 == 1.0 == True in Python: a cache keyed on == would hand one run's
    # spelling to another and silently turn its int into a float.
    for value, spelling in ((1, "a=1"), (1.0, "a=1.0"), (True, "a=true")):
        context = RunContext(run_id=RUN_ID, runtime_params={"a": value})

        argv = build_run_command(train(), context=context)

        assert argv[-1] == f"--params={spelling}"
