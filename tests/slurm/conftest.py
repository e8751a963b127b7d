"""Fixtures of the SLURM tests: the session's cluster and the scenario project."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from tests.support.slurm import slurm_cluster  # noqa: F401 (the fixture)


@pytest.fixture
def demo_project(tmp_path: Path) -> DemoProject:
    """A fresh copy of the scenario project."""
    return write_demo_project(tmp_path / "client-models")
