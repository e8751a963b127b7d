"""The demo-project helpers under their old name; they live in ``tests/support/``."""

from __future__ import annotations

from support.cli import pipelines_option
from support.demo import (
    CLIENT_1_TRAIN_OUTPUTS,
    node_runs,
    read_outputs,
    version_directories,
)

__all__ = [
    "CLIENT_1_TRAIN_OUTPUTS",
    "node_runs",
    "pipelines_option",
    "read_outputs",
    "version_directories",
]
