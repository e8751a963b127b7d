"""Fixtures of the run-context tests: fresh ``rcproj`` projects (support/rcproj.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kedro_pipelinename
from tests.support.rcproj import PARAMS_OPTION, kedro, make_project, read_outputs


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh ``rcproj`` project."""
    return make_project(tmp_path / "rcproj")


@pytest.fixture(scope="session")
def plain_run_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The outputs of one plain ``kedro run --env staging --params ...``."""
    project = make_project(tmp_path_factory.mktemp("plain") / "rcproj")
    kedro(project, "run", "--env=staging", PARAMS_OPTION)
    return read_outputs(project)


@pytest.fixture
def installed() -> Iterator[None]:
    """The patches installed for the test (the suite imports the package)."""
    if not kedro_pipelinename.is_installed():
        kedro_pipelinename.install()
    yield
