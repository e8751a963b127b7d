"""Fixtures for the local batch runner and the demo: one plain run of the
scenario project (``demo_project`` is in ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from tests.support.cli import kedro_cli, pipelines_option


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> DemoProject:
    """The scenario project after one plain ``kedro run --pipelines client_1_train``."""
    project = write_demo_project(tmp_path_factory.mktemp("plain") / "client-models")
    kedro_cli(project.path, "run", *pipelines_option("client_1_train"))
    return project
