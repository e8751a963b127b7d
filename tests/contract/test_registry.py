"""The registry hands out pipelines named by their key, never renaming its own objects.

``kedro.framework.project.pipelines`` is a ``_ProjectPipelines``; each test
configures a fresh one over a temp ``pipeline_registry``-style module, exactly as
``configure_project`` configures the global one.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REGISTRY = """
from kedro.pipeline import Pipeline, node


def combine(*values):
    return values


ALPHA = Pipeline(
    [node(combine, "raw", "a0", name="a0"), node(combine, "a0", "a1", name="a1")]
)
BETA = Pipeline([node(combine, "a1", "b0", name="b0", namespace="ns_b")])
GAMMA_NAMED = Pipeline([node(combine, "raw", "g0", name="g0")])
GAMMA_NAMED.name = "chosen_in_registry"
REGISTERED = {}


def register_pipelines():
    REGISTERED.update(
        {
            "alpha": ALPHA,
            "beta": BETA,
            "gamma": GAMMA_NAMED,
            # What Kedro 1.5+'s find_pipelines produces when only "alpha" is
            # requested: sum([alpha]) is alpha itself, so __default__ and alpha
            # are one object.
            "__default__": sum([ALPHA]),
        }
    )
    return dict(REGISTERED)
"""

MakeRegistry = Callable[[str], tuple[Any, ModuleType]]


@pytest.fixture
def registry_and_module(make_registry: MakeRegistry) -> tuple[Any, ModuleType]:
    return make_registry(REGISTRY)


def test_default_is_the_same_object_as_alpha_in_the_registered_dict(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, module = registry_and_module
    registry.keys()

    assert module.REGISTERED["__default__"] is module.REGISTERED["alpha"]


@pytest.mark.parametrize(
    "get",
    [lambda r, k: r[k], lambda r, k: r.get(k)],
    ids=["getitem", "get"],
)
@pytest.mark.parametrize("key", ["alpha", "beta", "gamma", "__default__"])
def test_lookup_is_named_by_its_key(
    registry_and_module: tuple[Any, ModuleType],
    get: Callable[[Any, str], Any],
    key: str,
) -> None:
    registry, _ = registry_and_module

    assert get(registry, key).names == (key,)


def test_items_are_named_by_their_keys(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    assert {key: p.names for key, p in registry.items()} == {
        "alpha": ("alpha",),
        "beta": ("beta",),
        "gamma": ("gamma",),
        "__default__": ("__default__",),
    }


def test_values_are_named_by_their_keys(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    assert sorted(p.name for p in registry.values()) == [
        "__default__",
        "alpha",
        "beta",
        "gamma",
    ]


def test_lookups_never_mutate_the_registered_objects(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, module = registry_and_module

    for key in ("alpha", "__default__", "beta", "gamma"):
        registry[key]
        registry.get(key)
    list(registry.items())
    list(registry.values())

    assert (module.ALPHA.names, module.BETA.names, module.GAMMA_NAMED.names) == (
        (),
        (),
        ("chosen_in_registry",),
    )


@pytest.mark.parametrize(
    "order", [("alpha", "__default__"), ("__default__", "alpha")], ids=str
)
def test_default_and_alpha_never_show_each_others_name(
    registry_and_module: tuple[Any, ModuleType], order: tuple[str, str]
) -> None:
    registry, _ = registry_and_module

    first, second = (registry[key] for key in order)
    seen = {order[0]: first.names, order[1]: second.names}
    again = {key: registry[key].names for key in order}
    via_items = {k: p.names for k, p in registry.items() if k in order}

    expected = {"alpha": ("alpha",), "__default__": ("__default__",)}
    assert (seen, again, via_items) == (expected, expected, expected)


def test_default_and_alpha_share_nodes(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    assert registry["__default__"].nodes == registry["alpha"].nodes


def test_combining_registry_pipelines_unions_their_keys(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    combined = registry["beta"] + registry["alpha"]

    assert combined.names == ("alpha", "beta")
    assert combined.filter(node_names=["a1"]).names == ("alpha", "beta")


def test_renaming_a_looked_up_pipeline_does_not_rename_the_key(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    registry["alpha"].name = "something_else"

    assert registry["alpha"].names == ("alpha",)


def test_missing_key_raises_key_error_and_get_returns_default(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    with pytest.raises(KeyError):
        registry["nope"]

    assert registry.get("nope") is None


def test_global_pipelines_is_the_registry_class() -> None:
    from kedro.framework.project import _ProjectPipelines, pipelines

    assert type(pipelines) is _ProjectPipelines


# --- Kedro 1.5+ selective loading, through the real find_pipelines ---------------

SELECTIVE_PIPELINE = """
from kedro.pipeline import Pipeline, node


def combine(*values):
    return values


def create_pipeline(**kwargs):
    return Pipeline([node(combine, "raw", "{name}_out", name="{name}_node")])
"""

SELECTIVE_REGISTRY = """
from kedro.framework.project import find_pipelines

REGISTERED = {}


def register_pipelines():
    found = find_pipelines(raise_errors=True)
    found["__default__"] = sum(found.values())
    REGISTERED.clear()
    REGISTERED.update(found)
    return found
"""


@pytest.fixture
def selective_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, ModuleType]]:
    """A package laid out like ``kedro new``'s, configured as *the* project.

    ``find_pipelines`` reads ``PACKAGE_NAME`` and the global registry's requested
    pipelines, so the global ``kedro.framework.project.pipelines`` is configured;
    its state is put back after the test.
    """
    from kedro.framework import project

    registry = project.pipelines
    if not hasattr(registry, "set_requested"):
        pytest.skip("this Kedro has no selective pipeline loading (< 1.5)")
    for attribute in vars(registry):
        # Setting an attribute to itself makes monkeypatch restore it afterwards.
        monkeypatch.setattr(registry, attribute, getattr(registry, attribute))
    package = f"selective_{uuid.uuid4().hex}"
    root = tmp_path / package
    for name in ("alpha", "beta"):
        (root / "pipelines" / name).mkdir(parents=True)
        (root / "pipelines" / name / "__init__.py").write_text(
            "from .pipeline import create_pipeline\n"
        )
        (root / "pipelines" / name / "pipeline.py").write_text(
            SELECTIVE_PIPELINE.replace("{name}", name)
        )
    (root / "__init__.py").write_text("")
    (root / "pipelines" / "__init__.py").write_text("")
    (root / "pipeline_registry.py").write_text(SELECTIVE_REGISTRY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(project, "PACKAGE_NAME", package)
    registry.configure(f"{package}.pipeline_registry")
    yield registry, importlib.import_module(f"{package}.pipeline_registry")
    for module in [m for m in sys.modules if m.startswith(package)]:
        sys.modules.pop(module)


def test_selective_loading_default_and_alpha_keep_their_own_names(
    selective_project: tuple[Any, ModuleType],
) -> None:
    registry, module = selective_project
    registry.set_requested(["alpha"])

    alpha, default = registry["alpha"], registry["__default__"]

    assert module.REGISTERED["__default__"] is module.REGISTERED["alpha"]
    assert (alpha.names, default.names) == (("alpha",), ("__default__",))
    assert (registry["alpha"].names, module.REGISTERED["alpha"].names) == (
        ("alpha",),
        (),
    )
    assert sorted(registry) == ["__default__", "alpha"]
