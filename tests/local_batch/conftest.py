"""Fixtures for the local batch runner and the demo: the scenario project."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from tests.support.cli import kedro_cli, pipelines_option


@pytest.fixture
def demo_project(tmp_path: Path) -> DemoProject:
    """A fresh copy of the scenario project."""
    return write_demo_project(tmp_path / "client-models")


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> DemoProject:
    """The scenario project after one plain ``kedro run --pipelines client_1_train``."""
    project = write_demo_project(tmp_path_factory.mktemp("plain") / "client-models")
    kedro_cli(project.path, "run", *pipelines_option("client_1_train"))
    return project
