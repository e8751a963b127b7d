"""Where batch settings come from, in which order, and how bad ones are reported."""

from __future__ import annotations

import pytest

from kedro_pipelinename.batch.aws import AWSBatchRunner
from kedro_pipelinename.batch.errors import BatchSettingsError
from kedro_pipelinename.batch.settings import (
    AWSBatchSettings,
    BatchSettings,
    resolve_settings,
)

REQUIRED = {"job_queue": "queue", "job_definition": "definition"}


def test_runner_arguments_win_over_parameters_which_win_over_the_environment() -> None:
    settings = resolve_settings(
        AWSBatchSettings,
        arguments={"job_queue": "from-arguments"},
        parameters={
            "job_queue": "from-parameters",
            "job_definition": "from-parameters",
        },
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
        BatchSettings, arguments={}, parameters={"max_workers": 3}, environ={}
    )

    assert settings.max_parallel == 3


def test_environment_values_are_parsed_by_type() -> None:
    settings = resolve_settings(
        AWSBatchSettings,
        arguments={},
        parameters=REQUIRED,
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
        parameters={},
        environ={"KEDRO_BATCH_DRY_RUN": text},
    )

    assert settings.dry_run is expected


def test_missing_required_setting_names_it_and_every_place_to_set_it() -> None:
    with pytest.raises(BatchSettingsError) as caught:
        resolve_settings(
            AWSBatchSettings, arguments={}, parameters={"job_queue": "q"}, environ={}
        )

    assert caught.value.setting == "job_definition"
    assert str(caught.value) == (
        "Batch setting 'job_definition' is required and was not given. Set it as a "
        "runner argument (kedro run --runner-params job_definition=<value> on Kedro "
        "1.6+), under 'aws_batch: {job_definition: <value>}' in the run's "
        "parameters, or as the environment variable KEDRO_BATCH_JOB_DEFINITION."
    )


def test_invalid_value_names_the_setting_and_where_the_value_came_from() -> None:
    with pytest.raises(BatchSettingsError, match="retry_attempts") as caught:
        resolve_settings(
            AWSBatchSettings,
            arguments={},
            parameters={**REQUIRED, "retry_attempts": 11},
            environ={},
        )

    assert "at most 10" in str(caught.value)
    assert "(from the parameter aws_batch.retry_attempts)" in str(caught.value)


def test_unparsable_environment_value_names_the_variable() -> None:
    with pytest.raises(BatchSettingsError, match="KEDRO_BATCH_TAGS") as caught:
        resolve_settings(
            AWSBatchSettings,
            arguments={},
            parameters=REQUIRED,
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

    settings, aws = runner.resolve_settings()

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
    assert "'job_qeue'. Did you mean job_queue?" in message
    assert "'max_paralel'. Did you mean max_parallel?" in message


def test_a_misspelt_environment_variable_is_refused_with_the_one_meant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_JOB_QEUE", "queue")
    monkeypatch.setenv("KEDRO_BATCH_MAX_WORKERS", "4")
    runner = AWSBatchRunner(job_queue="queue", job_definition="definition")

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings()

    message = str(caught.value)
    assert "KEDRO_BATCH_JOB_QEUE. Did you mean KEDRO_BATCH_JOB_QUEUE" in message
    # An alias has no variable of its own: the setting's variable is named.
    assert "KEDRO_BATCH_MAX_WORKERS. Did you mean KEDRO_BATCH_MAX_PARALLEL?" in message


def test_unknown_keys_and_variables_are_reported_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEDRO_BATCH_DRYRUN", "true")
    runner = AWSBatchRunner(job_queue="queue", job_definition="definition")

    with pytest.raises(BatchSettingsError) as caught:
        runner.resolve_settings({"aws_batch": {"grouping_": "none"}})

    assert "'grouping_'" in str(caught.value)
    assert "KEDRO_BATCH_DRYRUN. Did you mean KEDRO_BATCH_DRY_RUN" in str(caught.value)
