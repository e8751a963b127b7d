"""The project and CLI helpers under their old name; they live in ``tests/support/``."""

from __future__ import annotations

from support.cli import CLI_TIMEOUT_SECONDS, cli_env, kedro_cli, run_command
from support.outputs import read_json_lines
from support.projects import SETTINGS_HEADER, write_project

__all__ = [
    "CLI_TIMEOUT_SECONDS",
    "SETTINGS_HEADER",
    "cli_env",
    "kedro_cli",
    "read_json_lines",
    "run_command",
    "write_project",
]
