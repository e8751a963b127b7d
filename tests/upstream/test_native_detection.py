"""``install()`` stands down on a Kedro that has ``Pipeline.names`` natively.

Runs on every Kedro of the matrix: native support is simulated by giving stock
Kedro's ``Pipeline`` a ``names`` property of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from kedro.pipeline import Pipeline

import kedro_pipelinename
from kedro_pipelinename._install import has_native_support


@pytest.fixture
def native_kedro(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stock Kedro with the patch uninstalled and a ``Pipeline.names`` of its own."""
    kedro_pipelinename.uninstall()
    monkeypatch.setattr(Pipeline, "names", property(lambda self: ()), raising=False)
    yield
    # Uninstall what the test installed while ``names`` looked native, before the
    # fake ``names`` goes: else the process keeps a patch that stood down for
    # ``Pipeline``, and the suite's restore fixture (which only compares
    # ``is_installed()``) would leave it so for every later test.
    kedro_pipelinename.uninstall()


def test_stock_kedro_has_no_native_support() -> None:
    kedro_pipelinename.uninstall()
    assert has_native_support() is False


def test_our_own_names_property_is_not_native_support() -> None:
    kedro_pipelinename.uninstall()
    kedro_pipelinename.install()
    assert has_native_support() is False


@pytest.mark.usefixtures("native_kedro")
def test_install_leaves_pipeline_alone_on_native_kedro(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = dict(Pipeline.__dict__)
    with caplog.at_level(logging.INFO, logger="kedro_pipelinename"):
        kedro_pipelinename.install()

    changed = [
        name
        for name, value in Pipeline.__dict__.items()
        if before.get(name) is not value
    ]
    # Pipeline is left alone; the run-context patches (not in the upstream series)
    # still install.
    assert (kedro_pipelinename.is_installed(), changed) == (True, [])
    messages = [
        record.getMessage()
        for record in caplog.records
        if record.name == "kedro_pipelinename._install"
        and record.levelno == logging.INFO
    ]
    assert len(messages) == 1
    assert messages[0].endswith(
        "has Pipeline.name and Pipeline.names built in; kedro_pipelinename "
        "leaves Pipeline and the registry as they are and installs only the "
        "run-context patches."
    )
