"""Kedro's catalog commands after what earlier tests leave in the global registry.

Issue 23: in Kedro's own suite (main d58a0b1's tests), run in one process after
other tests, ``test_catalog_commands_mixin.py``'s tests read
``kedro.framework.project.pipelines`` (through ``catalog_mixins._pipelines``)
in whatever state the tests before them left it: configured with a project's
module that was never loaded (every ``-n 2`` run here left it so), loaded,
filtered by a session, or configured with a module that no longer imports
(``test_logging.py::test_configure_project_overwrites_runtime_handlers_by_default``
leaves ``test_project_no_preserve``, and
``test_resolve_patterns_skips_parameters`` then fails, stock and patched alike).
Each test here replays such a sequence in one process on stock Kedro
(``uninstall()``) and patched, and asserts what stock Kedro gives on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

import kedro_pipelinename

catalog_mixins = pytest.importorskip(
    "kedro.framework.context.catalog_mixins",
    reason="Kedro 0.19 has no catalog commands (describe_datasets)",
)

SIDES = ("stock", "patched")

#: What a predecessor leaves the global registry as (found with a conftest hook
#: printing its state before the test, in Kedro's suite run with ``-n 2``).
LEFT_BY_PREDECESSOR = ("unconfigured", "configured", "loaded", "filtered")


@pytest.fixture
def registry() -> Iterator[Any]:
    """The global registry, its state put back afterwards."""
    from kedro.framework.project import pipelines

    saved = dict(vars(pipelines))
    saved_content = dict(pipelines._content)
    yield pipelines
    vars(pipelines).update(saved)
    pipelines._content = saved_content


def _use(side: str) -> None:
    # The autouse fixture in tests/conftest.py puts the install state back.
    if side == "stock":
        kedro_pipelinename.uninstall()
    elif not kedro_pipelinename.is_installed():
        kedro_pipelinename.install()


def _catalog() -> Any:
    from kedro.framework.context.context import compose_classes
    from kedro.io import DataCatalog

    return compose_classes(DataCatalog, catalog_mixins.CatalogCommandsMixin)()


def _pipeline(output: str) -> Any:
    from kedro.pipeline import Pipeline, node

    return Pipeline([node(lambda x: x, "raw", output, name=f"make_{output}")])


def _leave(registry: Any, state: str) -> None:
    """Put the registry in the state a predecessor test leaves it in."""
    registry.configure(None if state == "unconfigured" else "i23_left_by_a_test")
    if state == "loaded":
        registry._content = {"__default__": _pipeline("x"), "other": _pipeline("y")}
        registry._is_data_loaded = True
    if state == "filtered" and hasattr(registry, "set_requested"):
        registry.set_requested(["pipe"])  # Kedro 1.5+: what a session run leaves


@pytest.mark.parametrize("state", LEFT_BY_PREDECESSOR)
@pytest.mark.parametrize("side", SIDES)
def test_describe_datasets_default_pipeline_after_a_predecessor(
    registry: Any, side: str, state: str
) -> None:
    # Kedro's test: its fixture mocks the registry callable to return
    # __default__ and pipe, then patch.dict(pipelines, {"default": p}, clear=True).
    from kedro.framework.project import _ProjectPipelines

    _use(side)
    _leave(registry, state)
    registered = _pipeline("registered")
    fake = _pipeline("memory_output")
    with (
        mock.patch.object(
            _ProjectPipelines,
            "_get_pipelines_registry_callable",
            return_value=lambda: {"__default__": registered, "pipe": registered},
        ),
        mock.patch.dict(registry, {"default": fake}, clear=True),
    ):
        described = _catalog().describe_datasets()

    assert catalog_mixins._pipelines is registry
    assert list(described) == ["default"]
    assert "memory_output" in str(described["default"])


@pytest.mark.parametrize("side", SIDES)
def test_resolve_patterns_after_a_predecessor_left_an_unimportable_module(
    registry: Any, side: str
) -> None:
    # What test_configure_project_overwrites_runtime_handlers_by_default leaves:
    # Kedro's error, unchanged by the patch, is what fails the next test.
    _use(side)
    registry.configure("i23_no_such_project_module")

    with pytest.raises(ModuleNotFoundError, match="i23_no_such_project_module"):
        _catalog().resolve_patterns()
