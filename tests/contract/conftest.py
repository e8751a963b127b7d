"""Fixtures of the contract suite: the implementation under test around every
test (``implementations.py``), and registries over temp modules."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.contract.implementations import Implementation, current_implementation


@pytest.fixture(autouse=True)
def impl() -> Iterator[Implementation]:
    """The implementation under test, set up around every contract test."""
    implementation = current_implementation()
    was_installed = implementation.setup()
    try:
        yield implementation
    finally:
        implementation.teardown(was_installed)


@pytest.fixture
def make_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], tuple[Any, ModuleType]]]:
    """Build a ``kedro.framework.project._ProjectPipelines`` over a temp module.

    The returned callable takes the source of a ``pipeline_registry``-style module
    (it must define ``register_pipelines()``), writes it as a uniquely named
    module, configures a fresh ``_ProjectPipelines`` with it, exactly as
    ``configure_project`` does for the global ``pipelines``, and returns the
    registry and the imported module (so tests can reach the registered objects).
    """
    from kedro.framework.project import _ProjectPipelines

    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(source: str) -> tuple[Any, ModuleType]:
        module_name = f"contract_registry_{uuid.uuid4().hex}"
        (tmp_path / f"{module_name}.py").write_text(source)
        importlib.invalidate_caches()
        created.append(module_name)
        registry = _ProjectPipelines()
        registry.configure(module_name)
        return registry, importlib.import_module(module_name)

    yield make
    for module_name in created:
        sys.modules.pop(module_name, None)
