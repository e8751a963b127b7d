"""The contract table of issue 2, row by row, through Kedro's public API only.

| operation | names of the result |
|---|---|
| ``Pipeline(p, ...)``, ``pipeline(p, ...)``, ``nodes=`` keyword | ``names(p)`` |
| ``Pipeline([p1, p2, node, ...])`` | union of the component pipelines' names |
| ``filter(...)``, ``only_*``, ``from_*``, ``to_*``, ``tag`` | ``names(self)`` |
| ``a + b``, ``a | b``, ``sum([...])`` | ``names(a) | names(b)`` |
| ``a - b`` | ``names(a)`` |
| ``a & b`` | ``names(a)``, or ``names(b)`` when ``a`` has none |
| ``copy.copy``, ``copy.deepcopy``, pickle | preserved |
| ``==``, ``hash`` | unchanged |
| ``repr`` | shows the name |
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any, cast

import pytest
from kedro.pipeline import Pipeline, node, pipeline

from tests.contract.implementations import Implementation
from tests.contract.pipelines import (
    alpha_nodes,
    beta_nodes,
    fingerprint,
    has_method,
    named,
    pipeline_function_first_keyword,
)
from tests.strategies import combine, filter_namespace_keyword

#: The names of ``self`` each family test runs with: one, several, none.
SELF_NAMES = [("alpha",), ("alpha", "beta"), ()]

# --- row 1: Pipeline(p, ...) and pipeline(p, ...) keep names(p) ------------------

WRAPPERS: dict[str, Callable[[Pipeline], Pipeline]] = {
    "Pipeline(p)": lambda p: Pipeline(p),
    "Pipeline(nodes=p)": lambda p: Pipeline(nodes=p),
    "Pipeline([p])": lambda p: Pipeline([p]),
    "Pipeline(p, namespace)": lambda p: Pipeline(p, namespace="wrap"),
    "Pipeline(p, inputs)": lambda p: Pipeline(p, inputs={"raw": "source"}),
    "Pipeline(p, outputs)": lambda p: Pipeline(p, outputs={"d2": "result"}),
    "Pipeline(p, parameters)": lambda p: Pipeline(p, parameters={"rate": "speed"}),
    "Pipeline(p, tags)": lambda p: Pipeline(p, tags=["extra"]),
    "Pipeline(p, all)": lambda p: Pipeline(
        p,
        namespace="wrap",
        inputs="raw",
        outputs={"d2": "result"},
        parameters="rate",
        tags="extra",
    ),
    "pipeline(p)": lambda p: pipeline(p),
    "pipeline(<keyword>=p)": lambda p: pipeline(
        **{pipeline_function_first_keyword(): p}  # type: ignore[arg-type]
    ),
    "pipeline(p, namespace)": lambda p: pipeline(p, namespace="wrap"),
    "pipeline(p, inputs)": lambda p: pipeline(p, inputs={"raw": "source"}),
    "pipeline(p, outputs)": lambda p: pipeline(p, outputs="d2"),
    "pipeline(p, parameters)": lambda p: pipeline(p, parameters={"rate": "speed"}),
    "pipeline(p, tags)": lambda p: pipeline(p, tags=["extra"]),
    "pipeline([p], all)": lambda p: pipeline(
        [p], namespace="wrap", inputs={"raw": "source"}, outputs="d2", tags=["x"]
    ),
    "Pipeline(generator of p)": lambda p: Pipeline(x for x in [p]),
}


@pytest.mark.parametrize("self_names", SELF_NAMES, ids=str)
@pytest.mark.parametrize("wrap", list(WRAPPERS.values()), ids=list(WRAPPERS))
def test_building_from_a_pipeline_keeps_its_names(
    wrap: Callable[[Pipeline], Pipeline], self_names: tuple[str, ...]
) -> None:
    source = named(alpha_nodes(), *self_names)

    result = wrap(source)

    assert result.names == self_names
    assert result.name == (",".join(self_names) or None)
    assert source.names == self_names


def test_namespace_without_prefixing_keeps_names() -> None:
    # ``prefix_datasets_with_namespace`` exists from Kedro 1.0 on.
    import inspect

    if "prefix_datasets_with_namespace" not in inspect.signature(Pipeline).parameters:
        pytest.skip("this Kedro has no prefix_datasets_with_namespace")
    source = named(alpha_nodes(), "alpha")

    result = Pipeline(source, namespace="grp", prefix_datasets_with_namespace=False)

    assert result.names == ("alpha",)


# --- row 2: Pipeline([p1, p2, node]) is the union ---------------------------------


def test_list_of_pipelines_and_nodes_unions_the_pipeline_names() -> None:
    alpha = named(alpha_nodes(), "alpha")
    beta = named(beta_nodes(), "beta")
    loose = node(combine, "e1", "f0", name="loose")

    result = Pipeline([beta, loose, alpha])

    assert result.names == ("alpha", "beta")
    assert result.name == "alpha,beta"


def test_list_with_an_unnamed_pipeline_adds_no_name() -> None:
    alpha = named(alpha_nodes(), "alpha")
    unnamed = Pipeline(beta_nodes())

    assert Pipeline([alpha, unnamed]).names == ("alpha",)


def test_list_of_nodes_only_has_no_name() -> None:
    result = Pipeline(alpha_nodes())

    assert result.names == ()
    assert result.name is None
    assert result.pipeline_name is None


def test_union_of_component_names_is_sorted_and_deduplicated() -> None:
    gamma_and_alpha = named(alpha_nodes(), "gamma", "alpha")
    alpha_again = named(beta_nodes(), "alpha")

    assert Pipeline([gamma_and_alpha, alpha_again]).names == ("alpha", "gamma")


def test_generator_of_pipelines_unions_names_and_nodes_like_stock(
    impl: Implementation,
) -> None:
    alpha = named(alpha_nodes(), "alpha")
    beta = named(beta_nodes(), "beta")

    result = Pipeline(p for p in (alpha, beta))
    with impl.stock():
        expected = fingerprint(Pipeline(p for p in (Pipeline(alpha_nodes()), beta)))

    assert result.names == ("alpha", "beta")
    assert fingerprint(result) == expected


# --- row 3: the filter family keeps names(self) -----------------------------------


def _namespace_filter() -> dict[str, Any]:
    keyword = filter_namespace_keyword()
    return {keyword: ["ns_a"] if keyword == "node_namespaces" else "ns_a"}


FAMILY: dict[str, Callable[[Pipeline], Pipeline]] = {
    "filter()": lambda p: p.filter(),
    "filter(tags)": lambda p: p.filter(tags=["t1"]),
    "filter(from_nodes)": lambda p: p.filter(from_nodes=["ns_a.inner.n1"]),
    "filter(to_nodes)": lambda p: p.filter(to_nodes=["ns_a.inner.n1"]),
    "filter(node_names)": lambda p: p.filter(node_names=["n2"]),
    "filter(from_inputs)": lambda p: p.filter(from_inputs=["d0"]),
    "filter(to_outputs)": lambda p: p.filter(to_outputs=["d1"]),
    "filter(namespace)": lambda p: p.filter(**_namespace_filter()),
    "filter(several)": lambda p: p.filter(tags=["t1", "t2"], from_inputs=["d0"]),
    "only_nodes": lambda p: p.only_nodes("n2", "ns_a.n0"),
    "only_nodes_with_inputs": lambda p: p.only_nodes_with_inputs("d0"),
    "only_nodes_with_outputs": lambda p: p.only_nodes_with_outputs("d1"),
    "from_inputs": lambda p: p.from_inputs("d0"),
    "to_outputs": lambda p: p.to_outputs("d1"),
    "from_nodes": lambda p: p.from_nodes("ns_a.inner.n1"),
    "to_nodes": lambda p: p.to_nodes("ns_a.inner.n1"),
    "only_nodes_with_tags": lambda p: p.only_nodes_with_tags("t2"),
    "tag": lambda p: p.tag(["new_tag"]),
}
# Kedro 0.19 has ``only_nodes_with_namespace(str)``; 1.0 replaced it by
# ``only_nodes_with_namespaces(list)``. Test whichever the imported Kedro has.
if has_method("only_nodes_with_namespace"):
    FAMILY["only_nodes_with_namespace"] = lambda p: p.only_nodes_with_namespace("ns_a")
if has_method("only_nodes_with_namespaces"):
    FAMILY["only_nodes_with_namespaces"] = lambda p: p.only_nodes_with_namespaces(
        ["ns_a"]
    )


def test_the_installed_kedro_has_a_namespace_filter_method() -> None:
    assert "only_nodes_with_namespace" in FAMILY or (
        "only_nodes_with_namespaces" in FAMILY
    )


@pytest.mark.parametrize("self_names", SELF_NAMES, ids=str)
@pytest.mark.parametrize("operation", list(FAMILY.values()), ids=list(FAMILY))
def test_filter_family_keeps_names_of_self(
    operation: Callable[[Pipeline], Pipeline],
    self_names: tuple[str, ...],
    impl: Implementation,
) -> None:
    source = named(alpha_nodes(), *self_names)

    result = operation(source)
    with impl.stock():
        expected_nodes = fingerprint(operation(Pipeline(alpha_nodes())))

    assert result.names == self_names
    assert source.names == self_names
    assert fingerprint(result) == expected_nodes


def test_filter_that_selects_nothing_raises_stock_error(impl: Implementation) -> None:
    source = named(alpha_nodes(), "alpha")
    with impl.stock(), pytest.raises(ValueError) as stock_error:
        Pipeline(alpha_nodes()).filter(tags=["t1"], node_names=["ns_a.inner.n1"])

    with pytest.raises(ValueError) as error:
        source.filter(tags=["t1"], node_names=["ns_a.inner.n1"])

    assert str(error.value) == str(stock_error.value)


# --- row 4: a + b, a | b, sum([...]) are the union --------------------------------

UNIONS: dict[str, Callable[[Pipeline, Pipeline], Pipeline]] = {
    "a + b": lambda a, b: a + b,
    "a | b": lambda a, b: a | b,
    "sum([a, b])": lambda a, b: cast(Pipeline, sum([a, b])),
    "sum([a, b], Pipeline([]))": lambda a, b: sum([a, b], Pipeline([])),
    "a += b": lambda a, b: _iadd(a, b),
    "Pipeline([]) + a + b": lambda a, b: Pipeline([]) + a + b,
}


def _iadd(a: Pipeline, b: Pipeline) -> Pipeline:
    a += b
    return a


@pytest.mark.parametrize(
    ("a_names", "b_names", "expected"),
    [
        (("alpha",), ("beta",), ("alpha", "beta")),
        (("beta",), ("alpha",), ("alpha", "beta")),
        (("alpha",), (), ("alpha",)),
        ((), ("beta",), ("beta",)),
        ((), (), ()),
        (("alpha", "gamma"), ("alpha", "beta"), ("alpha", "beta", "gamma")),
    ],
    ids=str,
)
@pytest.mark.parametrize("union", list(UNIONS.values()), ids=list(UNIONS))
def test_union_operations_union_the_names(
    union: Callable[[Pipeline, Pipeline], Pipeline],
    a_names: tuple[str, ...],
    b_names: tuple[str, ...],
    expected: tuple[str, ...],
) -> None:
    a = named(alpha_nodes(), *a_names)
    b = named(beta_nodes(), *b_names)

    result = union(a, b)

    assert result.names == expected
    assert b.names == b_names


def test_sum_of_three_unions_all_names() -> None:
    parts = [
        named(alpha_nodes(), "gamma"),
        named(beta_nodes(), "alpha"),
        named([node(combine, "e1", "f", name="k")], "beta"),
    ]

    assert sum(parts).names == ("alpha", "beta", "gamma")  # type: ignore[union-attr]


def test_sum_of_one_pipeline_has_its_names() -> None:
    alpha = named(alpha_nodes(), "alpha")

    result: Pipeline = sum([alpha])  # type: ignore[assignment]

    assert result.names == ("alpha",)
    assert alpha.names == ("alpha",)


def test_union_with_a_non_pipeline_raises_stock_type_error(
    impl: Implementation,
) -> None:
    alpha = named(alpha_nodes(), "alpha")
    with impl.stock(), pytest.raises(TypeError) as stock_error:
        Pipeline(alpha_nodes()) + 1

    with pytest.raises(TypeError) as error:
        alpha + 1

    assert str(error.value) == str(stock_error.value)


# --- row 5: a - b keeps names(a) -------------------------------------------------


@pytest.mark.parametrize(
    ("a_names", "b_names"),
    [(("alpha",), ("beta",)), (("alpha", "gamma"), ()), ((), ("beta",))],
    ids=str,
)
def test_difference_keeps_names_of_left_operand(
    a_names: tuple[str, ...], b_names: tuple[str, ...]
) -> None:
    a = named(alpha_nodes() + beta_nodes(), *a_names)
    b = named(beta_nodes(), *b_names)

    assert (a - b).names == a_names


# --- row 6: a & b keeps names(a), else names(b) ----------------------------------


@pytest.mark.parametrize(
    ("a_names", "b_names", "expected"),
    [
        (("alpha",), ("beta",), ("alpha",)),
        (("alpha",), (), ("alpha",)),
        ((), ("beta",), ("beta",)),
        ((), ("beta", "gamma"), ("beta", "gamma")),
        ((), (), ()),
    ],
    ids=str,
)
def test_intersection_keeps_left_names_else_right(
    a_names: tuple[str, ...], b_names: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    a = named(alpha_nodes() + beta_nodes(), *a_names)
    b = named(alpha_nodes(), *b_names)

    assert (a & b).names == expected


# --- row 7: copy, deepcopy and pickle preserve names -----------------------------

COPIES: dict[str, Callable[[Pipeline], Pipeline]] = {
    "copy.copy": copy.copy,
    "copy.deepcopy": copy.deepcopy,
    "pickle": lambda p: pickle.loads(pickle.dumps(p)),
}


@pytest.mark.parametrize("self_names", SELF_NAMES, ids=str)
@pytest.mark.parametrize("duplicate", list(COPIES.values()), ids=list(COPIES))
def test_copies_preserve_names(
    duplicate: Callable[[Pipeline], Pipeline], self_names: tuple[str, ...]
) -> None:
    source = named(alpha_nodes(), *self_names)

    result = duplicate(source)

    assert result.names == self_names
    assert fingerprint(result) == fingerprint(source)


@pytest.mark.parametrize("duplicate", list(COPIES.values()), ids=list(COPIES))
def test_renaming_a_copy_leaves_the_original(
    duplicate: Callable[[Pipeline], Pipeline],
) -> None:
    source = named(alpha_nodes(), "alpha")

    result = duplicate(source)
    result.name = "beta"

    assert source.names == ("alpha",)


# --- row 8: == and hash are unaffected by names ----------------------------------


def test_names_never_change_hash() -> None:
    p = Pipeline(alpha_nodes())
    before = hash(p)

    p.name = "alpha"
    named_hash = hash(p)
    p.name = None

    assert (named_hash, hash(p)) == (before, before)


def test_names_never_change_equality() -> None:
    nodes = alpha_nodes()
    p, q = Pipeline(nodes), Pipeline(nodes)
    before = (p == q, p == p, p != q)

    p.name = "alpha"
    q.name = "alpha"
    same_names = (p == q, p == p, p != q)
    q.name = "beta"
    other_names = (p == q, p == p, p != q)

    assert (same_names, other_names) == (before, before)


def test_copy_compares_like_stock(impl: Implementation) -> None:
    with impl.stock():
        stock = Pipeline(alpha_nodes())
        expected = (stock == copy.copy(stock), stock == stock)
    p = named(alpha_nodes(), "alpha")

    assert (p == copy.copy(p), p == p) == expected


# --- row 9: repr shows the name --------------------------------------------------


def test_repr_shows_the_name() -> None:
    p = named(alpha_nodes(), "alpha")

    assert "name='alpha'" in repr(p)


def test_repr_shows_all_names_joined() -> None:
    p = named(alpha_nodes(), "beta", "alpha")

    assert "name='alpha,beta'" in repr(p)


def test_repr_without_name_is_stock(impl: Implementation) -> None:
    with impl.stock():
        expected = repr(Pipeline(alpha_nodes()))

    assert repr(Pipeline(alpha_nodes())) == expected


# --- the name / pipeline_name property -------------------------------------------


@pytest.mark.parametrize("attribute", ["name", "pipeline_name"])
def test_setting_a_name_makes_it_the_only_name(attribute: str) -> None:
    p = named(alpha_nodes(), "alpha", "beta")

    setattr(p, attribute, "gamma")

    assert (p.names, p.name, p.pipeline_name) == (("gamma",), "gamma", "gamma")


@pytest.mark.parametrize("attribute", ["name", "pipeline_name"])
def test_setting_none_clears_the_names(attribute: str) -> None:
    p = named(alpha_nodes(), "alpha")

    setattr(p, attribute, None)

    assert (p.names, p.name, p.pipeline_name) == ((), None, None)


def test_name_is_names_joined_by_comma() -> None:
    p = named(alpha_nodes(), "gamma", "alpha", "beta")

    assert (p.names, p.name) == (("alpha", "beta", "gamma"), "alpha,beta,gamma")


@pytest.mark.parametrize("attribute", ["name", "pipeline_name"])
@pytest.mark.parametrize(
    ("value", "type_name"),
    [(3, "int"), (b"alpha", "bytes"), (["alpha"], "list"), (("alpha",), "tuple")],
    ids=str,
)
def test_setting_a_non_string_raises_type_error_naming_the_type(
    attribute: str, value: object, type_name: str
) -> None:
    p = named(alpha_nodes(), "alpha")

    with pytest.raises(TypeError) as error:
        setattr(p, attribute, value)

    assert type_name in str(error.value)
    assert p.names == ("alpha",)


@pytest.mark.parametrize("attribute", ["name", "pipeline_name"])
@pytest.mark.parametrize("value", ["", " ", "\t\n"], ids=repr)
def test_setting_an_empty_or_blank_name_raises_value_error(
    attribute: str, value: str
) -> None:
    p = named(alpha_nodes(), "alpha")

    with pytest.raises(ValueError, match=r"empty|blank|whitespace"):
        setattr(p, attribute, value)

    assert p.names == ("alpha",)


def test_setting_a_name_renames_only_that_object() -> None:
    p = named(alpha_nodes(), "alpha")
    derived = p.filter()

    derived.name = "beta"

    assert (p.names, derived.names) == (("alpha",), ("beta",))
