"""Where batch settings come from, in which order, and how bad ones are reported."""

from __future__ import annotations

from typing import Any

import pytest

from kedro_pipelinename.batch import BatchRunner, LocalBatchRunner
from kedro_pipelinename.batch.errors import BatchSettingsError
from kedro_pipelinename.batch.settings import BatchSettings, resolve_settings
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.runner import AWSBatchRunner
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from kedro_pipelinename.engines.local.processes import LocalBatchEngine

REQUIRED: dict[str, Any] = {"job_queue": "queue", "job_definition": "definition"}


def test_runner_arguments_win_over_parameters_which_win_over_the_environment() -> None:
    settings = resolve_settings(
        AWSBatchSettings,
        arguments={"job_queue": "from-arguments"},
        blocks=[
            (
                "aws_batch",
                {"job_queue": "from-parameters", "job_definition": "from-parameters"},
            )
        ],
        environ={
            "KEDRO_BATCH_JOB_QUEUE": "from-env",
            "KEDRO_BATCH_JOB_DEFINITION": "from-env",
            "KEDRO_BATCH_REGION": "from-env",
        },
    )

    assert (settings.job_queue, settings.job_definition, settings.region) == (
        "from-arguments",
        "from-parameters",
        "from-env",
    )


def test_max_workers_of_kedros_aws_batch_guide_sets_max_parallel() -> None:
    settings = resolve_settings(
        BatchSettings,
        arguments={},
        blocks=[("aws_batch", {"max_workers": 3})],
        environ={},
    )

    assert settings.max_parallel == 3


def test_environment_values_are_parsed_by_type() -> None:
    settings = resolve_settings(
        AWSBatchSettings,
        arguments={},
        blocks=[("aws_batch", REQUIRED)],
        environ={
            "KEDRO_BATCH_RETRY_ATTEMPTS": "3",
            "KEDRO_BATCH_SUBMIT_RATE": "12.5",
            "KEDRO_BATCH_TAGS": '{"team": "ml", "cost-centre": 42}',
            "KEDRO_BATCH_RESOURCES": '{"vcpu": 2, "Memory": 4096}',
        },
    )

    assert (settings.retry_attempts, settings.submit_rate) == (3, 12.5)
    assert settings.tags == {"team": "ml", "cost-centre": "42"}
    assert settings.resources == {"VCPU": 2, "MEMORY": 4096}


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("0", False)])
def test_boolean_environment_values(text: str, expected: bool) -> None:
    settings = resolve_settings(
        BatchSettings,
        arguments={},
        blocks=[],
        environ={"KEDRO_BATCH_DRY_RUN": text},
    )

    assert settings.dry_run is expected


@pytest.mark.parametrize(
    "text", ["1", "true", "YES", " on ", "0", "False", "no", "off", "maybe", "2"]
)
def test_the_disable_switch_and_boolean_settings_read_a_word_alike(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    import warnings

    from kedro_pipelinename import _install

    monkeypatch.setenv(_install.DISABLE_ENV_VAR, text)
    try:
        as_setting: bool | None = resolve_settings(
            BatchSettings,
            arguments={},
            blocks=[],
            environ={"KEDRO_BATCH_DRY_RUN": text},
        ).dry_run
    except BatchSettingsError as error:
        assert f"KEDRO_BATCH_DRY_RUN={text!r}" in str(error)
        as_setting = None
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        disabled = _install.disabled_by_environment()

    # A word that is no boolean is refused as a setting and is a warning naming
    # it (the patches still install) for the switch: never read as "no" unsaid.
    assert disabled is bool(as_setting)
    assert [repr(text) in str(w.message) for w in warned] == (
        [True] if as_setting is None else []
    )


def test_missing_required_setting_names_it_and_every_place_to_set_it() -> None:
    with pytest.raises(BatchSettingsError) as caught:
        resolve_settings(
            AWSBatchSettings,
            arguments={},
            blocks=[("aws_batch", {"job_queue": "q"}), ("batch", {})],
            environ={},
        )

    assert caught.value.setting == "job_definition"
    assert str(caught.value) == (
        "Batch setting 'job_definition' is required and was not given. Set it as a "
        "runner argument (kedro run --runner-params job_definition=<value> on Kedro "
        "1.6+), under 'aws_batch: {job_definition: <value>}' or 'batch: "
        "{job_definition: <value>}' in the run's "
        "parameters, or as the environment variable KEDRO_BATCH_JOB_DEFINITION."
    )


def test_invalid_value_names_the_setting_and_where_the_value_came_from() -> None:
    with pytest.raises(BatchSettingsError, match="retry_attempts") as caught:
        resolve_settings(
            AWSBatchSettings,
            arguments={},
            blocks=[("aws_batch", {**REQUIRED, "retry_attempts": 11})],
            environ={},
        )

    assert "at most 10" in str(caught.value)
    assert "(from the parameter aws_batch.retry_attempts)" in str(caught.value)


def test_unparsable_environment_value_names_the_variable() -> None:
    with pytest.raises(BatchSettingsError, match="KEDRO_BATCH_TAGS") as caught:
        resolve_settings(
            AWSBatchSettings,
            arguments={},
            blocks=[("aws_batch", REQUIRED)],
            environ={"KEDRO_BATCH_TAGS": "team=ml"},
        )

    assert "write mappings and lists as JSON" in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("tags", {f"t{n}": "v" for n in range(49)}, "at most 48"),
        ("tags", {"aws:owner": "me"}, "reserved 'aws:' prefix"),
        ("attempt_timeout", 30, "at least 60"),
        ("submit_rate", 60, "at most 50"),
        ("resources", {"cpu": 2}, "has resource 'CPU'"),
        ("evaluate_on_exit", [{"onExitCode": "1"}], "needs action RETRY or EXIT"),
        ("evaluate_on_exit", [{"action": "exit"}] * 6, "at most 5 rules"),
        ("api_retry_mode", "legacy", "standard, adaptive"),
    ],
)
def test_aws_limits_are_checked_before_anything_is_submitted(
    setting: str, value: object, message: str
) -> None:
    with pytest.raises(BatchSettingsError, match=setting) as caught:
        AWSBatchSettings(**REQUIRED, **{setting: value})  # type: ignore[arg-type]

    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("grouping", "tag", "namespace, none"),
        ("max_parallel", 0, "at least 1"),
        ("job_name_prefix", "-bad", "1 to 64 letters"),
        ("extra_env", {"1BAD": "x"}, "not an environment variable name"),
        ("poll_interval", 0, "above 0"),
    ],
)
def test_generic_settings_are_validated(
    setting: str, value: object, message: str
) -> None:
    with pytest.raises(BatchSettingsError) as caught:
        BatchSettings(**{setting: value})  # type: ignore[arg-type]

    assert message in str(caught.value)


def test_poll_interval_above_its_maximum_is_refused() -> None:
    with pytest.raises(BatchSettingsError, match="max_poll_interval"):
        BatchSettings(poll_interval=10, max_poll_interval=5)


def test_unknown_runner_argument_suggests_the_setting_meant() -> None:
    with pytest.raises(BatchSettingsError, match="Did you mean job_queue"):
        AWSBatchRunner(job_queu="queue")


def test_runner_resolves_its_arguments_with_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_JOB_DEFINITION", "definition")
    monkeypatch.setenv("KEDRO_BATCH_FAIL_FAST", "false")
    runner = AWSBatchRunner(is_async=False, job_queue="queue")

    resolved = runner.resolve_settings()
    aws, settings = resolved.engine_settings, resolved.settings

    assert resolved.engine is AWSBatchEngine
    assert (aws.job_queue, aws.job_definition, settings.fail_fast) == (
        "queue",
        "definition",
        False,
    )


def test_every_unknown_key_of_the_parameters_block_is_named_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = AWSBatchRunner(job_queue="queue", job_definition="definition")

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings({"aws_batch": {"job_qeue": "q", "max_paralel": 2}})

    message = str(caught.value)
    assert (
        "'job_qeue' in the parameters block 'aws_batch'. Did you mean job_queue?"
        in (message)
    )
    assert "'max_paralel' in the parameters block 'aws_batch'. Did you mean " in message
    assert len(caught.value.problems) == 2


def test_a_misspelt_environment_variable_is_refused_with_the_one_meant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_JOB_QEUE", "queue")
    monkeypatch.setenv("KEDRO_BATCH_MAX_WORKERS", "4")
    runner = AWSBatchRunner(job_queue="queue", job_definition="definition")

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings()

    message = str(caught.value)
    assert (
        "KEDRO_BATCH_JOB_QEUE in the environment. Did you mean KEDRO_BATCH_JOB_QUEUE"
        in (message)
    )
    # An alias has no variable of its own: the setting's variable is named.
    assert "KEDRO_BATCH_MAX_WORKERS in the environment. Did you mean " in message
    assert "KEDRO_BATCH_MAX_PARALLEL?" in message


def test_unknown_keys_and_variables_are_reported_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_DRYRUN", "true")
    runner = AWSBatchRunner(job_queue="queue", job_definition="definition")

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings({"aws_batch": {"grouping_": "none"}})

    assert "'grouping_'" in str(caught.value)
    assert (
        "KEDRO_BATCH_DRYRUN in the environment. Did you mean KEDRO_BATCH_DRY_RUN"
        in (str(caught.value))
    )


def test_every_missing_and_invalid_setting_is_listed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_MAX_PARALLEL", "0")
    runner = AWSBatchRunner(grouping="tag")

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings({"aws_batch": {"retry_attempts": 11}})

    problems = caught.value.problems
    assert [problem.split("'")[1] for problem in problems] == [
        "grouping",
        "max_parallel",
        "job_queue",
        "job_definition",
        "retry_attempts",
    ]
    assert "(from the runner argument grouping='tag')" in problems[0]
    assert "(from the environment variable KEDRO_BATCH_MAX_PARALLEL)" in problems[1]
    assert str(caught.value).startswith("5 problems with the batch settings")


def test_the_shared_block_serves_every_engine_and_the_engine_block_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The local engine caps max_parallel by the machine (tests/local_batch/
    # test_machine_limits.py); here, a machine that holds what is asked.
    monkeypatch.setattr(
        "kedro_pipelinename.engines.local.processes.machine_parallelism",
        lambda asked, **_: (asked, None),
    )
    parameters = {
        "batch": {"grouping": "none", "max_parallel": 3, "job_queue": "shared"},
        "aws_batch": {"max_parallel": 5, "job_definition": "definition"},
    }

    aws = AWSBatchRunner().resolve_settings(parameters)
    local = LocalBatchRunner().resolve_settings(parameters)

    assert (aws.settings.grouping, aws.settings.max_parallel) == ("none", 5)
    assert aws.engine_settings.job_queue == "shared"
    # The local engine reads the shared block only; AWS keys there are no error.
    assert (local.settings.grouping, local.settings.max_parallel) == ("none", 3)
    assert local.engine is LocalBatchEngine


def test_the_generic_runner_runs_the_engine_its_setting_names() -> None:
    resolved = BatchRunner().resolve_settings({"batch": {"engine": "local"}})

    assert resolved.engine is LocalBatchEngine
    # The engine's own defaults apply: the local poll interval, not 2 s.
    assert resolved.settings.poll_interval == 0.5


def test_the_generic_runner_names_a_misspelt_engine_and_the_installed_ones() -> None:
    with pytest.raises(BatchSettingsError) as caught:
        BatchRunner(engine="lcoal").resolve_settings()

    message = str(caught.value)
    assert (
        "No batch engine 'lcoal' (from the runner argument engine='lcoal')" in message
    )
    assert "Did you mean 'local'?" in message
    assert "Installed: aws, local, slurm." in message


def test_the_generic_runner_without_an_engine_says_how_to_choose_one() -> None:
    with pytest.raises(BatchSettingsError, match="needs the setting 'engine'"):
        BatchRunner().resolve_settings()


def test_an_engine_runner_refuses_another_engine() -> None:
    with pytest.raises(BatchSettingsError, match="runs on the engine 'local'"):
        LocalBatchRunner().resolve_settings({"batch": {"engine": "aws"}})


def test_every_unknown_key_of_the_shared_batch_block_is_named_too() -> None:
    # The shared block is checked like the engine's own (a mutation skipping
    # it passed every other settings test).
    runner = LocalBatchRunner()

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings({"batch": {"max_paralel": 2, "grouping": "none"}})

    assert "'max_paralel' in the parameters block 'batch'. Did you mean " in str(
        caught.value
    )
    assert len(caught.value.problems) == 1


def test_an_invalid_value_a_parameter_shadows_is_refused_naming_both_places(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Alone, KEDRO_BATCH_GROUPING=per-node is refused; shadowed by batch.grouping
    # it was accepted silently, to surface in the first run without the block.
    monkeypatch.setenv("KEDRO_BATCH_GROUPING", "per-node")
    runner = LocalBatchRunner()

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings({"batch": {"grouping": "namespace"}})

    (problem,) = caught.value.problems
    assert "got 'per-node'" in problem
    assert "(from the environment variable KEDRO_BATCH_GROUPING)" in problem
    assert "shadowed in this run by the parameter batch.grouping" in problem


def test_a_valid_shadowed_value_is_accepted_and_the_first_place_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_GROUPING", "none")
    monkeypatch.setenv("KEDRO_BATCH_MAX_PARALLEL", "not a number")
    runner = AWSBatchRunner(max_parallel=3, **REQUIRED)

    with pytest.raises(BatchSettingsError, match="KEDRO_BATCH_MAX_PARALLEL='not a"):
        runner.resolve_settings({"batch": {"grouping": "namespace"}})

    monkeypatch.setenv("KEDRO_BATCH_MAX_PARALLEL", "8")
    settings = runner.resolve_settings({"batch": {"grouping": "namespace"}}).settings

    assert (settings.grouping, settings.max_parallel) == ("namespace", 3)
