"""The MLflow tests' server: one per session (``mlflow_server.py``).

They need MLflow 3 and kedro-mlflow 2 (``nox -s mlflow``); without them they
skip, saying so. The run-tracker protocol's own tests need neither.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from tests.tracking.mlflow_server import mlflow_server

MISSING = [
    name
    for name in ("mlflow", "kedro_mlflow")
    if importlib.util.find_spec(name) is None
]


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if MISSING:
        pytest.skip(
            f"{' and '.join(MISSING)} not installed: the MLflow tests run in "
            f"`nox -s mlflow`"
        )
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as url:
        yield url
