"""Kedro loads the ``kedro batch`` entry point for every ``kedro`` command in a
project; loading it, and ``kedro batch --help``, must not patch Kedro (only
``settings.py``'s import, or a ``kedro batch`` command itself, does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

PROBE = """
import json, sys
from importlib.metadata import entry_points

import click

points = entry_points(group="kedro.project_commands")
(point,) = [p for p in points if p.name == "batch"]
group = point.load()
context = click.Context(group)
listed = group.list_commands(context)
after_load = "kedro_pipelinename" in sys.modules
batch = group.get_command(context, "batch")
subcommands = batch.list_commands(click.Context(batch))
batch_help = batch.get_help(click.Context(batch, info_name="batch"))
after_help = "kedro_pipelinename" in sys.modules
status = batch.get_command(click.Context(batch), "status")
print(json.dumps({
    "listed": listed,
    "patched_after_load": after_load,
    "subcommands": sorted(subcommands),
    "help": batch_help,
    "patched_after_help": after_help,
    "status_help": status.get_short_help_str(),
    "patched_after_lookup": "kedro_pipelinename" in sys.modules,
}))
"""


def _probe(**env: str) -> Any:
    """What PROBE printed, run in a fresh interpreter with ``env`` added."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, **env},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_loading_the_entry_point_does_not_patch_kedro() -> None:
    probe = _probe()
    assert probe["listed"] == ["batch"]
    assert probe["patched_after_load"] is False
    assert probe["subcommands"] == [
        "cancel",
        "child",
        "plan",
        "resume",
        "runs",
        "sandbox",
        "status",
    ]
    # `kedro batch --help` lists every command with its line, patching nothing.
    assert "status   The live state of every job of a run." in probe["help"]
    assert "sandbox  An AWS Batch on 127.0.0.1 that runs" in probe["help"]
    assert probe["patched_after_help"] is False
    # Looking a command up to run it imports it (and so patches Kedro).
    assert probe["status_help"] == "The live state of every job of a run."
    assert probe["patched_after_lookup"] is True


def test_in_a_process_a_batch_run_started_loading_it_installs_the_patch() -> None:
    # Each job's `kedro run` carries the run id: without the patch there (a
    # project whose settings.py lacks the line, as Kedro's starters), its
    # versioned outputs were saved under a version of their own.
    probe = _probe(KEDRO_PIPELINENAME_RUN_ID="2026-12-05T10.00.00.000Z")

    assert probe["patched_after_load"] is True
