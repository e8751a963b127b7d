"""The MLflow tests' server: one per session (``mlflow_server.py``).

They need MLflow 3, and kedro-mlflow 2 for the kedro-mlflow ones (``nox -s
mlflow``); without them they skip, saying so. The run-tracker protocol's own
tests need neither.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from tests.tracking.mlflow_server import mlflow_server


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("mlflow") is None:
        pytest.skip("mlflow not installed: the MLflow tests run in `nox -s mlflow`")
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as url:
        yield url


@pytest.fixture
def kedro_mlflow() -> None:
    """Skips a test where kedro-mlflow (2.x: Kedro >= 1.0) is not installed."""
    if importlib.util.find_spec("kedro_mlflow") is None:
        pytest.skip(
            "kedro-mlflow not installed (kedro-mlflow 2 needs Kedro >= 1.0): "
            "the kedro-mlflow tests run in `nox -s mlflow`"
        )
