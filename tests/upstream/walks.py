"""Replayable pipeline-algebra walks: the same steps, run on either implementation.

A walk is a universe of node specs and a list of steps, all plain JSON. `Walk`
applies one step at a time and returns a record of what every pipeline built so
far is named afterwards (steps such as ``pipelines[key] = p`` rename in place, so
earlier pipelines are recorded too), which nodes the step's result holds, and the
error it raised. The test draws the steps with Hypothesis while it applies them
under the monkey patch, then sends the walk to this file run as a script in a
process that imports the natively patched Kedro; both must give the same records.

Run as a script it reads one walk per line on stdin (JSON: ``{"universe": [...],
"steps": [...]}``) and writes its records as one JSON line on stdout, after
`REPLY_PREFIX` (Kedro logs to stdout too, so other lines are skipped). It uses only
Kedro (no Hypothesis, no ``kedro_pipelinename``), so that the native side never
imports the monkey patch.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any, cast

from kedro.framework.project import _ProjectPipelines
from kedro.pipeline import Pipeline, node, pipeline
from kedro.pipeline.node import Node

#: The ``Pipeline`` methods a ``method`` step may call; each returns a new pipeline.
METHODS = (
    "filter",
    "only_nodes",
    "only_nodes_with_namespaces",
    "only_nodes_with_inputs",
    "only_nodes_with_outputs",
    "from_inputs",
    "to_outputs",
    "from_nodes",
    "to_nodes",
    "only_nodes_with_tags",
    "tag",
)
BINARY: dict[str, Callable[[Pipeline, Pipeline], Pipeline]] = {
    "+": lambda a, b: a + b,
    "|": lambda a, b: a | b,
    "-": lambda a, b: a - b,
    "&": lambda a, b: a & b,
}
DUPLICATES: dict[str, Callable[[Pipeline], Pipeline]] = {
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pickle": lambda p: pickle.loads(pickle.dumps(p)),
}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
#: Marks the script's replies among whatever else reaches stdout (Kedro's logs).
REPLY_PREFIX = "WALK-RECORDS "

Record = dict[str, Any]


def combine(*values: object) -> tuple[object, ...]:
    """The one node function (never run)."""
    return values


def build_node(spec: dict[str, Any]) -> Node:
    """A node from ``{"name", "inputs", "output", "namespace", "tags"}``."""
    return node(
        combine,
        spec["inputs"],
        spec["output"],
        name=spec["name"],
        namespace=spec["namespace"],
        tags=spec["tags"],
    )


class Walk:
    """The pipelines of one walk, and the registry its ``register`` steps fill."""

    def __init__(self, universe: list[dict[str, Any]]) -> None:
        self.universe = [build_node(spec) for spec in universe]
        self.pool: list[Pipeline] = []
        self.registry = _ProjectPipelines()

    def _result(self, step: list[Any]) -> Pipeline | None:
        kind, *args = step
        pool = self.pool
        if kind == "build":
            return Pipeline([self.universe[i] for i in args[0]])
        if kind == "set_name":
            pool[args[0]].name = args[1]
            return None
        if kind == "binary":
            return BINARY[args[0]](pool[args[1]], pool[args[2]])
        if kind == "sum":
            # Plain ``sum``: ``0 + p`` is ``p`` itself (``Pipeline.__radd__``).
            return cast(Pipeline, sum(pool[i] for i in args[0]))
        if kind == "wrap":
            index, kwargs, via = args
            return (Pipeline if via == "Pipeline" else pipeline)(pool[index], **kwargs)
        if kind == "compose":
            pipelines, nodes = args
            return Pipeline(
                [*(pool[i] for i in pipelines), *(self.universe[i] for i in nodes)]
            )
        if kind == "method":
            index, method, positional, keywords = args
            if method not in METHODS:
                raise ValueError(f"unknown method {method!r}")
            method_of_pipeline = getattr(pool[index], method)
            return cast(Pipeline, method_of_pipeline(*positional, **keywords))
        if kind == "duplicate":
            return DUPLICATES[args[1]](pool[args[0]])
        if kind == "register":
            key, index = args
            self.registry[key] = pool[index]
            found = self.registry[key]
            # The registry hands out the registered object itself (no copies).
            return found if found is pool[index] else None
        if kind == "unregister":
            del self.registry[args[0]]
            return None
        raise ValueError(f"unknown step {kind!r}")

    def apply(self, step: list[Any]) -> Record:
        """Apply one step; return the names of every pipeline so far and more."""
        error = None
        result = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = self._result(step)
            except Exception as exc:  # both sides must raise alike
                error = [type(exc).__name__, _ADDRESS.sub("0x?", str(exc))]
        if result is not None and all(result is not p for p in self.pool):
            self.pool.append(result)
        return {
            "step": step,
            "error": error,
            "result_nodes": None
            if result is None
            else sorted(n.name for n in result.nodes),
            "names": [list(p.names) for p in self.pool],
            "registry": sorted(self.registry.keys()),
        }


def run_walk(universe: list[dict[str, Any]], steps: list[list[Any]]) -> list[Record]:
    """Apply ``steps`` to a fresh walk over ``universe``; the record of each."""
    walk = Walk(universe)
    return [walk.apply(step) for step in steps]


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        records = run_walk(request["universe"], request["steps"])
        sys.stdout.write(REPLY_PREFIX + json.dumps(records) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
