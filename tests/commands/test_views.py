"""``kedro batch runs`` and ``status``: rich tables on a terminal, plain columns
in a pipe, JSON exactly; user and job text verbatim, never read as Rich markup.

In-process (click's ``CliRunner``) against a record on disk: ``FORCE_COLOR``
makes rich take the output for a terminal, as it does for a user's.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kedro_pipelinename_commands import commands

RUN_ID = "2025-06-01T00.00.00.000Z"
#: Rich markup in what a job, an engine or a user wrote: shown as written.
PIPELINE = "[red]p[/red]"
REASON = "[bold red]boom[/bold red] [link=https://evil.example/x]see[/link]"
LOG = "/logs/[link=https://evil.example/y]a[/link].log"
#: An ANSI colour or style, and an OSC 8 hyperlink (what [link=...] becomes).
_STYLE = re.compile(r"\x1b\[[0-9;]*m")
_HYPERLINK = "\x1b]8;"
#: Click before 8.2 mixes stderr into stdout unless told not to (Kedro 0.19's).
_SEPARATE_STDERR: dict[str, Any] = (
    {"mix_stderr": False}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters
    else {}
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with one failed run whose texts hold Rich markup."""
    record = {
        "format": 2,
        "run_id": RUN_ID,
        "engine": "local",
        "engine_label": "local processes",
        "project_path": str(tmp_path),
        "pipeline_names": [PIPELINE],
        "grouping": "none",
        "settings": {},
        "engine_settings": {},
        "state": "failed",
        "started": "2025-06-01T00:00:00Z",
        "finished": "2025-06-01T00:01:00Z",
        "jobs": [
            {
                "job": {"name": "kedro-a", "nodes": ["a"]},
                "state": "FAILED",
                "reason": REASON,
                "attempts": [
                    {
                        "number": 1,
                        "driver": 1,
                        "job_id": "kedro-a",
                        "state": "FAILED",
                        "reason": REASON,
                        "exit_code": 1,
                        "log": LOG,
                        "submitted": "2025-06-01T00:00:00Z",
                        "finished": "2025-06-01T00:01:00Z",
                    }
                ],
            }
        ],
    }
    path = tmp_path / "logs" / "batch" / RUN_ID / "run.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record))
    return tmp_path


def _invoke(project: Path, *args: str, terminal: bool) -> Result:
    env = {"FORCE_COLOR": "1", "COLUMNS": "300"} if terminal else {"FORCE_COLOR": None}
    return CliRunner(**_SEPARATE_STDERR).invoke(
        commands,
        ["batch", *args],
        obj=SimpleNamespace(project_path=project),
        env=env,
        catch_exceptions=False,
    )


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize(
    "args", [("status",), ("status", RUN_ID, "--watch")], ids=["status", "watch"]
)
def test_status_shows_job_text_verbatim(
    project: Path, args: tuple[str, ...], terminal: bool
) -> None:
    result = _invoke(project, *args, terminal=terminal)

    shown = _STYLE.sub("", result.stdout)
    assert result.exit_code == 0, result.output
    assert _HYPERLINK not in result.stdout
    assert f"Run {RUN_ID} ({PIPELINE}) on local processes: failed" in shown
    assert f"kedro-a failed: {REASON}; exit code 1; log: {LOG}" in shown
    assert REASON in shown and LOG in shown  # the attempts table's cells too
    if not terminal:
        # A pipe gets plain columns: one greppable line per job, no box.
        assert re.search(r"^kedro-a +a +FAILED +2025-06-01T00:00:00Z", shown, re.M)
        assert "─" not in shown and "\x1b" not in result.stdout


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_runs_shows_pipeline_names_verbatim(project: Path, terminal: bool) -> None:
    result = _invoke(project, "runs", terminal=terminal)

    shown = _STYLE.sub("", result.stdout)
    assert re.search(rf"{re.escape(RUN_ID)}\W+local\W+{re.escape(PIPELINE)}", shown)


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_json_is_exactly_the_document(project: Path, terminal: bool) -> None:
    status = _invoke(project, "status", "--json", terminal=terminal)
    runs = _invoke(project, "runs", "--json", terminal=terminal)
    watched = _invoke(project, "status", "--watch", "--json", terminal=terminal)

    document = json.loads(status.stdout)
    assert document["jobs"][0]["reason"] == REASON
    assert [run["pipeline_names"] for run in json.loads(runs.stdout)] == [[PIPELINE]]
    # --watch --json: one document per line and round; the run ended, so one.
    assert [json.loads(line) for line in watched.stdout.splitlines()] == [document]
