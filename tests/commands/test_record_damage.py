"""A damaged run record never breaks a ``kedro batch`` command.

Hypothesis writes random valid records, damages each in one random way
(``strategies.damaged_records``) and runs every ``kedro batch`` command's code
path in-process (click's ``CliRunner``, a real project directory): each answers
with a correct result or one ``Error:`` line naming the file, never a
traceback, and ``runs`` lists the other runs and names the one it skipped. One
test does the same through the real ``kedro`` CLI.
"""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kedro_pipelinename.batch.record_model import RecordError, parse_record
from kedro_pipelinename.commands import control
from kedro_pipelinename_commands import commands
from tests.strategies import RECORD_RUN_ID, damaged_records
from tests.support.commands_project import (
    batch,
    json_of,
    write_commands_project,
)

#: A healthy run beside the damaged one: ``runs`` must keep listing it.
HEALTHY_RUN_ID = "2025-06-01T00.00.00.000Z"
COMMANDS = (
    ("runs",),
    ("runs", "--json"),
    ("status", RECORD_RUN_ID),
    ("status", RECORD_RUN_ID, "--json"),
    ("status",),
    ("cancel", RECORD_RUN_ID),
    ("resume", RECORD_RUN_ID),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_commands_project(tmp_path_factory.mktemp("damage") / "proj")


def _write(project: Path, run_id: str, text: str) -> Path:
    path = project / "logs" / "batch" / run_id / "run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _healthy(project: Path) -> dict[str, object]:
    """A succeeded run of one job with one attempt."""
    data = {
        "format": 2,
        "run_id": HEALTHY_RUN_ID,
        "engine": "local",
        "engine_label": "local processes",
        "project_path": str(project),
        "pipeline_names": ["p"],
        "grouping": "none",
        "settings": {},
        "engine_settings": {},
        "state": "succeeded",
        "started": "2025-06-01T00:00:00Z",
        "jobs": [
            {
                "job": {"name": "kedro-a", "nodes": ["a"]},
                "state": "SUCCEEDED",
                "attempts": [
                    {
                        "number": 1,
                        "driver": 1,
                        "job_id": "kedro-a",
                        "state": "SUCCEEDED",
                        "submitted": "2025-06-01T00:00:00Z",
                    }
                ],
            }
        ],
    }
    assert _readable(json.dumps(data))
    return data


def _readable(text: str) -> bool:
    try:
        parse_record(json.loads(text))
    except (ValueError, RecordError):
        return False
    return True


#: Click before 8.2 mixes stderr into stdout unless told not to (Kedro 0.19's).
_SEPARATE_STDERR: dict[str, Any] = (
    {"mix_stderr": False}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters
    else {}
)


def _invoke(project: Path, *args: str) -> Result:
    # `kedro batch resume` of a readable record runs its command: not here.
    with mock.patch.object(control.subprocess, "call", return_value=0):  # type: ignore[attr-defined]
        return CliRunner(**_SEPARATE_STDERR).invoke(
            commands, ["batch", *args], obj=SimpleNamespace(project_path=project)
        )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_command_answers_a_damaged_record_in_one_line(
    project: Path, data: st.DataObject
) -> None:
    shutil.rmtree(project / "logs" / "batch", ignore_errors=True)
    _write(project, HEALTHY_RUN_ID, json.dumps(_healthy(project)))
    text = data.draw(damaged_records(str(project)))
    path = _write(project, RECORD_RUN_ID, text)
    readable = _readable(text)

    for args in COMMANDS:
        result = _invoke(project, *args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.output,
        )
        errors = [line for line in result.stderr.splitlines() if "Error" in line]
        if result.exit_code != 0:
            assert len(errors) == 1, (args, result.stderr)
            if not readable:
                assert str(path) in errors[0] or args == ("status",), errors
        if args[0] == "runs":
            assert HEALTHY_RUN_ID in result.stdout
            assert result.exit_code == 0
            if not readable:
                assert f"Skipped: The run record {path}" in result.stderr
        elif not readable and args != ("status",):
            assert result.exit_code != 0, (args, result.output)


def test_the_real_cli_names_a_damaged_record_and_lists_the_others(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    _write(project, HEALTHY_RUN_ID, json.dumps(_healthy(project)))
    damaged = _write(project, RECORD_RUN_ID, "[]")

    listed = batch(project, "runs", "--json", check=False)
    status = batch(project, "status", RECORD_RUN_ID, check=False)

    assert [run["run_id"] for run in json_of(listed.stdout)] == [HEALTHY_RUN_ID]
    assert listed.stderr.strip().splitlines()[-1] == (
        f"Skipped: The run record {damaged} is damaged: the top level is list, "
        f"not an object."
    )
    assert "Traceback" not in listed.stderr + status.stderr
    assert status.returncode != 0
    assert status.stderr.strip().splitlines()[-1] == (
        f"Error: The run record {damaged} is damaged: the top level is list, not "
        f"an object."
    )
