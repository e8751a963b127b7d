"""The registry names its own objects by their keys, in place, and hands them out.

The rule: ``pipelines[key]``, ``.get``, ``.items()``, ``.values()``, iteration and
``dict(pipelines)`` hand out the very objects ``register_pipelines()`` returned
(or that were set with ``pipelines[key] = p``); each of them has every key it is
registered under added to its names, and keeps a name its author set. Names only
ever grow by a key, so loading the registry again changes nothing.

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


LOOKUPS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "getitem": lambda r: {key: r[key] for key in list(r.keys())},
    "get": lambda r: {key: r.get(key) for key in list(r.keys())},
    "items": lambda r: dict(r.items()),
    "values": lambda r: dict(zip(list(r.keys()), list(r.values()), strict=True)),
    "dict": dict,
    "iteration": lambda r: {key: r[key] for key in r},
}


@pytest.mark.parametrize("lookup", list(LOOKUPS), ids=str)
def test_lookups_hand_out_the_registered_objects_themselves(
    registry_and_module: tuple[Any, ModuleType], lookup: str
) -> None:
    registry, module = registry_and_module

    handed_out = LOOKUPS[lookup](registry)

    assert {key: handed_out[key] is module.REGISTERED[key] for key in handed_out} == {
        "alpha": True,
        "beta": True,
        "gamma": True,
        "__default__": True,
    }


def test_dict_of_the_registry_equals_what_register_pipelines_returned(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, module = registry_and_module

    assert dict(registry) == module.REGISTERED


def test_every_registered_object_knows_every_key_it_is_registered_under(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    assert {key: p.names for key, p in registry.items()} == {
        "alpha": ("__default__", "alpha"),
        "beta": ("beta",),
        "gamma": ("chosen_in_registry", "gamma"),
        "__default__": ("__default__", "alpha"),
    }


def test_an_object_registered_under_two_keys_stays_one_object(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, module = registry_and_module

    assert registry["__default__"] is registry["alpha"] is module.ALPHA
    assert module.ALPHA.name == "__default__,alpha"


def test_a_name_set_before_registration_is_kept(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, module = registry_and_module
    registry.keys()

    assert module.GAMMA_NAMED.names == ("chosen_in_registry", "gamma")


def test_reloading_the_registry_names_nothing_twice(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, module = registry_and_module
    before = {key: p.names for key, p in registry.items()}

    registry.configure(module.__name__)
    after = {key: p.names for key, p in registry.items()}

    assert after == before


def test_a_pipeline_set_into_the_registry_is_named_by_its_key(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    from kedro.pipeline import Pipeline

    registry, _ = registry_and_module
    extra = Pipeline([])

    registry["extra"] = extra

    assert registry["extra"] is extra
    assert extra.names == ("extra",)


def test_lookups_of_an_unconfigured_registry_never_change_names() -> None:
    from kedro.framework.project import _ProjectPipelines
    from kedro.pipeline import Pipeline

    registry = _ProjectPipelines()
    pipeline = Pipeline([])
    registry["alpha"] = pipeline
    pipeline.name = "beta"

    registry.keys()
    registry["alpha"]

    assert pipeline.names == ("beta",)


def test_a_name_set_after_registration_is_what_the_registry_hands_out(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, module = registry_and_module

    registry["beta"].name = "renamed"

    assert (registry["beta"].names, module.BETA.names) == (("renamed",), ("renamed",))


def test_combining_registry_pipelines_unions_their_names(
    registry_and_module: tuple[Any, ModuleType],
) -> None:
    registry, _ = registry_and_module

    combined = registry["beta"] + registry["gamma"]

    assert combined.names == ("beta", "chosen_in_registry", "gamma")
    assert combined.filter(node_names=["g0"]).names == combined.names


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


def test_selective_loading_default_and_alpha_are_one_object_with_both_names(
    selective_project: tuple[Any, ModuleType],
) -> None:
    registry, module = selective_project
    registry.set_requested(["alpha"])

    alpha, default = registry["alpha"], registry["__default__"]

    assert alpha is default is module.REGISTERED["alpha"]
    assert alpha.names == ("__default__", "alpha")
    assert sorted(registry) == ["__default__", "alpha"]


# --- mock.patch.dict over the registry, from every state a test leaves -----------
#
# Kedro's own test_describe_datasets_default_pipeline replaces the global
# registry's content with ``mock.patch.dict(pipelines, {...}, clear=True)`` after
# other tests have configured, loaded or filtered it (issue 23). Whatever state
# it finds, the patched registry must then hold exactly the new keys, as stock
# Kedro's does, and get every registered pipeline back afterwards.


@pytest.mark.parametrize("requested", [None, ["alpha"], ["__default__"]], ids=str)
@pytest.mark.parametrize("loaded_before", [False, True], ids=["fresh", "loaded"])
def test_patch_dict_with_clear_leaves_only_the_new_keys(
    registry_and_module: tuple[Any, ModuleType],
    requested: list[str] | None,
    loaded_before: bool,
) -> None:
    from unittest import mock

    from kedro.pipeline import Pipeline

    registry, _ = registry_and_module
    if requested is not None and hasattr(registry, "set_requested"):
        registry.set_requested(requested)  # Kedro 1.5+: a session's filter
    if loaded_before:
        registry.keys()
    replacement = Pipeline([])

    with mock.patch.dict(registry, {"default": replacement}, clear=True):
        during = (sorted(registry.keys()), registry.get("default") is replacement)

    assert during == (["default"], True)
    assert sorted(registry.keys()) == ["__default__", "alpha", "beta", "gamma"]
