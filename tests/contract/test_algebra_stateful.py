"""Random sequences of every pipeline operation, against a model and stock Kedro.

Modelled on Hypothesis' database-agreement test: a ``RuleBasedStateMachine``
keeps a ``Bundle`` of pipelines; each rule applies one operation to pipelines from
the bundle twice, once with names (the implementation under test) and once on
stock Kedro (``Implementation.stock()``), and returns the result to the bundle.

The invariants:

* names agree with a simple model, ``expected[id(pipeline)] -> names``, that
  applies the contract table by hand (independently of the implementation's rules);
* the nodes (names, inputs, outputs, namespaces, tags, order) agree with stock
  Kedro running the same sequence;
* an operation that raises raises the same exception with the same message on
  both sides, and warns the same warnings.
"""

from __future__ import annotations

import copy
import importlib
import pickle
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from attrs import define, field
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from kedro.pipeline import Pipeline, pipeline
from kedro.pipeline.node import Node

from tests.contract.implementations import Implementation
from tests.contract.pipelines import fingerprint, has_method
from tests.strategies import (
    PIPELINE_NAMES,
    TAGS,
    filter_kwargs,
    free_inputs_of,
    namespaces_of,
    node_names_of,
    node_universes,
    some_of,
    subsets,
    wrapping_kwargs,
)

Names = tuple[str, ...]


def union(*names: Names) -> Names:
    """The model's union: sorted, de-duplicated."""
    return tuple(sorted({n for group in names for n in group}))


@define
class Pair:
    """One pipeline as built with names, and its twin built on stock Kedro."""

    named: Pipeline
    stock: Pipeline


@define
class Outcome:
    """What one side of an operation did: a result or an error, and its warnings."""

    result: Any = None
    error: tuple[type[BaseException], str] | None = None
    warned: list[tuple[type[Warning], str]] = field(factory=list)


#: Kedro puts ``repr(pipeline)`` into some errors (duplicate node names); the repr
#: of a named pipeline shows its name, the one difference the contract allows.
_NAME_IN_REPR = re.compile(r", name='[^']*'\)")


def _forget_once_per_process_warnings() -> None:
    """Let both sides warn afresh.

    Kedro 1.x warns about dotted dataset names once per process, remembering it
    on the ``Node`` class; without this only the side that runs first would warn.
    """
    # ``kedro.pipeline.node`` the attribute is the function; the module is needed.
    node_module = importlib.import_module("kedro.pipeline.node")
    flag = getattr(node_module, "_DOTTED_DATASET_NAME_WARNED", None)
    if flag is not None and getattr(Node, flag, False):
        setattr(Node, flag, False)


def _observe(operation: Callable[..., Any], *args: Any) -> Outcome:
    _forget_once_per_process_warnings()
    outcome = Outcome()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome.result = operation(*args)
        except Exception as error:  # compared with stock below, never swallowed
            outcome.error = (type(error), _NAME_IN_REPR.sub(")", str(error)))
    outcome.warned = [(w.category, str(w.message)) for w in caught]
    return outcome


class PipelineAlgebra(RuleBasedStateMachine):
    """Every operation of the contract table as one rule."""

    implementation: Implementation  # set by the test before running

    pairs = Bundle("pairs")

    def __init__(self) -> None:
        super().__init__()
        self.expected: dict[int, Names] = {}
        # Holding every pair keeps ids unique for the model's dict.
        self.alive: list[Pair] = []
        self.universe: list[Node] = []

    # --- plumbing ------------------------------------------------------------

    def _apply(
        self,
        operation: Callable[..., Any],
        pairs: Sequence[Pair],
        names: Callable[[], Names],
        *,
        compare_warnings: bool = True,
    ) -> Any:
        """Run ``operation`` on both sides; return the new pair or nothing."""
        named = _observe(operation, *(p.named for p in pairs))
        with self.implementation.stock():
            stock = _observe(operation, *(p.stock for p in pairs))
        assert named.error == stock.error
        if compare_warnings:
            assert named.warned == stock.warned
        if named.error is not None:
            return multiple()
        assert isinstance(named.result, Pipeline)
        return self._keep(Pair(named.result, stock.result), names())

    def _keep(self, pair: Pair, names: Names) -> Pair:
        self.alive.append(pair)
        self.expected[id(pair.named)] = names
        return pair

    def _names(self, pair: Pair) -> Names:
        return self.expected[id(pair.named)]

    # --- building ------------------------------------------------------------

    @initialize(target=pairs, universe=node_universes(), data=st.data())
    def registered(self, universe: list[Node], data: st.DataObject) -> Any:
        """Pipelines as a registry would hold them: some named, one unnamed."""
        self.universe = universe
        built = []
        for name in (*PIPELINE_NAMES[:2], None):
            nodes = data.draw(subsets(universe))
            with warnings.catch_warnings():
                # Random namespaces are often "interrupted"; Kedro warns, rightly.
                warnings.simplefilter("ignore", UserWarning)
                with self.implementation.stock():
                    stock = Pipeline(nodes)
                named = Pipeline(nodes)
            if name is not None:
                named.name = name
            built.append(self._keep(Pair(named, stock), (name,) if name else ()))
        return multiple(*built)

    @rule(target=pairs, data=st.data())
    def from_universe(self, data: st.DataObject) -> Any:
        nodes = data.draw(subsets(self.universe))
        return self._apply(lambda: Pipeline(nodes), [], lambda: ())

    @rule(pair=pairs, name=st.none() | st.sampled_from(PIPELINE_NAMES))
    def set_name(self, pair: Pair, name: str | None) -> None:
        pair.named.name = name
        self.expected[id(pair.named)] = (name,) if name else ()

    @rule(target=pairs, pair=pairs, data=st.data())
    def construct(self, pair: Pair, data: st.DataObject) -> Any:
        kwargs = data.draw(wrapping_kwargs(pair.named))
        return self._apply(
            lambda p: Pipeline(p, **kwargs), [pair], lambda: self._names(pair)
        )

    @rule(target=pairs, pair=pairs, data=st.data())
    def pipeline_function(self, pair: Pair, data: st.DataObject) -> Any:
        kwargs = data.draw(wrapping_kwargs(pair.named))
        return self._apply(
            lambda p: pipeline(p, **kwargs), [pair], lambda: self._names(pair)
        )

    @rule(target=pairs, components=st.lists(pairs, min_size=1, max_size=3))
    def list_of_pipelines(self, components: list[Pair]) -> Any:
        return self._apply(
            lambda *ps: Pipeline(list(ps)),
            components,
            lambda: union(*(self._names(c) for c in components)),
        )

    # --- the filter family ---------------------------------------------------

    @rule(target=pairs, pair=pairs, data=st.data())
    def filter(self, pair: Pair, data: st.DataObject) -> Any:
        kwargs = data.draw(filter_kwargs(pair.named))
        # Kedro's filter() intersects a *set* of pipelines, hashed by id, so the
        # intermediate pipelines (and their namespace warnings) follow memory
        # addresses even on stock Kedro; only the result is deterministic.
        return self._apply(
            lambda p: p.filter(**kwargs),
            [pair],
            lambda: self._names(pair),
            compare_warnings=False,
        )

    def _same_names(self, pair: Pair, operation: Callable[[Pipeline], Any]) -> Any:
        return self._apply(operation, [pair], lambda: self._names(pair))

    def _draw_some(
        self, data: st.DataObject, candidates: Sequence[str], bogus: str
    ) -> list[str]:
        chosen: list[str] = data.draw(some_of(candidates, bogus=bogus))
        return chosen

    @rule(target=pairs, pair=pairs, data=st.data())
    def only_nodes(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, node_names_of(pair.named), "no_such_node")
        return self._same_names(pair, lambda p: p.only_nodes(*chosen))

    @rule(target=pairs, pair=pairs, data=st.data())
    def only_nodes_with_namespace(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, namespaces_of(pair.named), "no_such_ns")
        # 0.19 has only_nodes_with_namespace(str); 1.0 only_nodes_with_namespaces.
        if has_method("only_nodes_with_namespaces"):
            return self._same_names(
                pair, lambda p: p.only_nodes_with_namespaces(chosen)
            )
        return self._same_names(
            pair,
            lambda p: p.only_nodes_with_namespace(chosen[0] if chosen else ""),
        )

    @rule(target=pairs, pair=pairs, data=st.data())
    def only_nodes_with_inputs(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, sorted(pair.named.all_inputs()), "no_ds")
        return self._same_names(pair, lambda p: p.only_nodes_with_inputs(*chosen))

    @rule(target=pairs, pair=pairs, data=st.data())
    def only_nodes_with_outputs(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, sorted(pair.named.all_outputs()), "no_ds")
        return self._same_names(pair, lambda p: p.only_nodes_with_outputs(*chosen))

    @rule(target=pairs, pair=pairs, data=st.data())
    def from_inputs(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, free_inputs_of(pair.named), "no_ds")
        return self._same_names(pair, lambda p: p.from_inputs(*chosen))

    @rule(target=pairs, pair=pairs, data=st.data())
    def to_outputs(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, sorted(pair.named.all_outputs()), "no_ds")
        return self._same_names(pair, lambda p: p.to_outputs(*chosen))

    @rule(target=pairs, pair=pairs, data=st.data())
    def from_nodes(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, node_names_of(pair.named), "no_such_node")
        return self._same_names(pair, lambda p: p.from_nodes(*chosen))

    @rule(target=pairs, pair=pairs, data=st.data())
    def to_nodes(self, pair: Pair, data: st.DataObject) -> Any:
        chosen = self._draw_some(data, node_names_of(pair.named), "no_such_node")
        return self._same_names(pair, lambda p: p.to_nodes(*chosen))

    @rule(target=pairs, pair=pairs, tags=st.lists(st.sampled_from(TAGS), max_size=2))
    def only_nodes_with_tags(self, pair: Pair, tags: list[str]) -> Any:
        return self._same_names(pair, lambda p: p.only_nodes_with_tags(*tags))

    @rule(target=pairs, pair=pairs, tags=st.sampled_from(["t1", "extra"]))
    def tag(self, pair: Pair, tags: str) -> Any:
        return self._same_names(pair, lambda p: p.tag(tags))

    # --- set algebra ---------------------------------------------------------

    @rule(target=pairs, a=pairs, b=pairs)
    def add(self, a: Pair, b: Pair) -> Any:
        return self._apply(
            lambda x, y: x + y, [a, b], lambda: union(self._names(a), self._names(b))
        )

    @rule(target=pairs, a=pairs, b=pairs)
    def or_(self, a: Pair, b: Pair) -> Any:
        return self._apply(
            lambda x, y: x | y, [a, b], lambda: union(self._names(a), self._names(b))
        )

    @rule(target=pairs, parts=st.lists(pairs, min_size=1, max_size=3))
    def sum_(self, parts: list[Pair]) -> Any:
        return self._apply(
            lambda *ps: sum(ps),
            parts,
            lambda: union(*(self._names(p) for p in parts)),
        )

    @rule(target=pairs, a=pairs, b=pairs)
    def sub(self, a: Pair, b: Pair) -> Any:
        return self._apply(lambda x, y: x - y, [a, b], lambda: self._names(a))

    @rule(target=pairs, a=pairs, b=pairs)
    def and_(self, a: Pair, b: Pair) -> Any:
        return self._apply(
            lambda x, y: x & y, [a, b], lambda: self._names(a) or self._names(b)
        )

    # --- copies --------------------------------------------------------------

    @rule(
        target=pairs,
        pair=pairs,
        how=st.sampled_from(
            [copy.copy, copy.deepcopy, lambda p: pickle.loads(pickle.dumps(p))]
        ),
    )
    def duplicate(self, pair: Pair, how: Callable[[Pipeline], Pipeline]) -> Any:
        return self._same_names(pair, how)

    # --- invariants ----------------------------------------------------------

    @invariant()
    def names_match_the_model(self) -> None:
        actual = {id(p.named): p.named.names for p in self.alive}
        assert actual == self.expected
        for p in self.alive:
            assert p.named.name == (",".join(self.expected[id(p.named)]) or None)

    @invariant()
    def nodes_match_stock_kedro(self) -> None:
        for p in self.alive:
            assert fingerprint(p.named) == fingerprint(p.stock)


def test_random_operation_sequences_agree_with_model_and_stock(
    impl: Implementation,
) -> None:
    PipelineAlgebra.implementation = impl
    run_state_machine_as_test(
        PipelineAlgebra,
        settings=settings(
            max_examples=60,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
