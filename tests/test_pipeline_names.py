"""How this package implements names (the contract suite checks what they are).

These tests look inside: the rules as data, the instance attribute, the registry's
in-place stamping, and the helpers other modules of the package call.
"""

from __future__ import annotations

import copy
import pickle
import threading
from pathlib import Path

import pytest
from kedro.framework.project import _ProjectPipelines
from kedro.pipeline import Pipeline, node

from kedro_pipelinename import names_of
from kedro_pipelinename.names import stamping
from kedro_pipelinename.names.pipeline import (
    NAMES_ATTR,
    RULES,
    normalise_names,
    validate_name,
    with_names,
)
from kedro_pipelinename.names.stamping import stamp_key
from tests.strategies import combine


def two_nodes() -> Pipeline:
    return Pipeline(
        [node(combine, "a", "b", name="first"), node(combine, "b", "c", name="second")]
    )


def test_every_rule_names_an_operation_of_some_kedro() -> None:
    # 0.19 has only_nodes_with_namespace, 1.x only_nodes_with_namespaces.
    missing = {m for m in RULES if not hasattr(Pipeline, m)}

    assert missing <= {"only_nodes_with_namespace", "only_nodes_with_namespaces"}
    assert len(missing) == 1


def test_unnamed_pipelines_carry_no_attribute() -> None:
    p = two_nodes()

    assert NAMES_ATTR not in vars(p)
    assert NAMES_ATTR not in vars(p.filter())


def test_clearing_the_name_removes_the_attribute() -> None:
    p = two_nodes()
    p.name = "alpha"

    p.name = None

    assert NAMES_ATTR not in vars(p)


def test_names_of_anything_else_is_empty() -> None:
    assert (names_of(None), names_of("alpha"), names_of(two_nodes())) == ((), (), ())


def test_normalise_names_sorts_and_deduplicates() -> None:
    assert normalise_names(["b", "a", "b"]) == ("a", "b")


def test_with_names_returns_the_same_object_when_names_match() -> None:
    p = two_nodes()
    p.name = "alpha"

    assert with_names(p, ["alpha"]) is p


def test_with_names_never_renames_the_object_it_is_given() -> None:
    p = two_nodes()
    p.name = "alpha"

    named = with_names(p, ["beta"])

    assert (named is p, p.names, named.names) == (False, ("alpha",), ("beta",))
    assert named.nodes == p.nodes


def test_validate_name_says_where_the_value_came_from() -> None:
    with pytest.raises(TypeError, match=r"--pipelines must be a str or None, got int"):
        validate_name(3, source="--pipelines")


def test_zero_plus_pipeline_returns_the_pipeline_itself_like_stock() -> None:
    p = two_nodes()
    p.name = "alpha"

    assert sum([p]) is p


def test_pickle_of_a_named_pipeline_loads_where_the_patch_is_not_installed() -> None:
    import kedro_pipelinename

    p = two_nodes()
    p.name = "alpha"
    data = pickle.dumps(p)
    kedro_pipelinename.uninstall()
    try:
        loaded = pickle.loads(data)
        nodes = [n.name for n in loaded.nodes]
    finally:
        kedro_pipelinename.install()

    assert (nodes, pickle.loads(data).names) == (["first", "second"], ("alpha",))


def test_stamping_a_key_twice_names_it_once() -> None:
    registered = two_nodes()
    registered.name = "chosen"

    stamp_key("alpha", registered)
    stamp_key("alpha", registered)

    assert registered.names == ("alpha", "chosen")


def test_stamping_ignores_values_and_keys_that_are_no_pipeline_names() -> None:
    registered = two_nodes()

    stamp_key("", registered)
    stamp_key(3, registered)
    stamp_key("alpha", "not a pipeline")

    assert registered.names == ()


def test_two_threads_registering_one_pipeline_under_two_keys_keep_both_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = _ProjectPipelines()
    shared = two_nodes()
    read_names = stamping.names_of
    second_reader = threading.Event()
    readers = 0
    count_lock = threading.Lock()

    def names_of_then_wait(pipeline: object) -> tuple[str, ...]:
        # The first stamp waits, after reading the names, for a second one to read
        # them too: without the stamp lock both write what they read plus their
        # key, and one key is lost. With it, the wait times out alone.
        nonlocal readers
        names = read_names(pipeline)
        with count_lock:
            readers += 1
            first = readers == 1
        if first:
            second_reader.wait(timeout=0.5)
        else:
            second_reader.set()
        return names

    monkeypatch.setattr(stamping, "names_of", names_of_then_wait)
    threads = [
        threading.Thread(target=registry.__setitem__, args=(key, shared))
        for key in ("alpha", "beta")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert shared.names == ("alpha", "beta")


def test_registry_lookup_is_stable_like_stock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "registry_for_identity.py"
    module.write_text(
        "from kedro.pipeline import Pipeline, node\n"
        "def f(x):\n    return x\n"
        "def register_pipelines():\n"
        "    return {'alpha': Pipeline([node(f, 'a', 'b', name='n')])}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = _ProjectPipelines()
    registry.configure("registry_for_identity")

    assert registry["alpha"] is registry["alpha"]
    assert registry.get("alpha") is registry["alpha"]


def test_shallow_copy_shares_node_structures() -> None:
    p = two_nodes()

    named = with_names(p, ["alpha"])

    assert named._nodes is p._nodes
    assert copy.copy(named).names == ("alpha",)
