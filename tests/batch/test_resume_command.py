"""The pieces of the resume command: runner arguments as ``--runner-params``
(Kedro 1.6+) or as ``KEDRO_BATCH_*`` variables, and the one shell line."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from kedro_pipelinename.batch.runner import _as_variables
from kedro_pipelinename.batch.settings import BatchSettings, resolve_settings
from kedro_pipelinename.relaunch.kedro_cli import option_for as _option
from kedro_pipelinename.relaunch.kedro_cli import parse_value as _parse
from kedro_pipelinename.relaunch.params import runner_params_argument
from kedro_pipelinename.relaunch.resume_hint import resume_hint
from tests.support.cli import run_options

ARGUMENTS: dict[str, Any] = {
    "max_parallel": 3,
    "fail_fast": False,
    "poll_interval": 0.5,
    "extra_env": {"MODE": "fast"},
    "job_name_prefix": "nightly",
}


@pytest.mark.skipif(
    "runner_params" not in run_options(), reason="--runner-params: Kedro 1.6+"
)
def test_runner_arguments_read_back_equal_from_runner_params() -> None:
    value = runner_params_argument(ARGUMENTS)

    option = _option("runner_params")
    assert option is not None
    assert _parse(option, value) == ARGUMENTS


def test_runner_arguments_as_variables_resolve_to_the_same_settings() -> None:
    variables = _as_variables(ARGUMENTS)

    from_variables = resolve_settings(
        BatchSettings, arguments={}, blocks=[], environ=variables
    )
    assert from_variables == BatchSettings(**ARGUMENTS)
    assert variables["KEDRO_BATCH_FAIL_FAST"] == "false"


def test_the_resume_line_sets_the_variables_then_the_run_id_then_the_command() -> None:
    line = resume_hint(
        ["kedro", "run", "--params=a=it's"],
        "2026-12-02T09.00.00.000Z",
        env={"KEDRO_BATCH_POLL_INTERVAL": "0.5", "KEDRO_BATCH_ENGINE": "local"},
    )

    assert line == (
        "KEDRO_BATCH_ENGINE=local KEDRO_BATCH_POLL_INTERVAL=0.5 "
        "KEDRO_PIPELINENAME_RUN_ID=2026-12-02T09.00.00.000Z "
        "kedro run '--params=a=it'\"'\"'s'"
    )
    assert shlex.split(line)[-1] == "--params=a=it's"
