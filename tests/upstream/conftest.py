"""Fixtures for the upstream-patch tests: a copy of the installed Kedro with the
series for its release (``patches/1.7.0/``) applied (``native_kedro.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import kedro
import pytest

from tests.upstream.native_kedro import PINNED_KEDRO, apply_series


@pytest.fixture(scope="session")
def patched_kedro_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory holding ``kedro/``: the installed Kedro with the series applied.

    Put it first on ``PYTHONPATH`` to import the native implementation. Skips
    unless the installed Kedro is the release the series is made against.
    """
    if kedro.__version__ != PINNED_KEDRO:
        pytest.skip(
            f"patches/ is made against Kedro {PINNED_KEDRO}; Kedro "
            f"{kedro.__version__} is installed."
        )
    root = tmp_path_factory.mktemp("native-kedro")
    shutil.copytree(
        Path(kedro.__file__).parent,
        root / "kedro",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    apply_series(root)
    # The series also adds Kedro-style tests; they belong to Kedro's suite, and a
    # ``tests`` directory on PYTHONPATH must not shadow anything here.
    shutil.rmtree(root / "tests", ignore_errors=True)
    yield root
