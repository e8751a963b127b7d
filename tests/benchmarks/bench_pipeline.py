"""Patched vs stock Kedro on a 5,000-node pipeline, measured in one process.

Run: ``python -m tests.benchmarks.bench_pipeline [--repeats N]``.

For each operation the stock and patched timings are taken alternately (stock
with ``kedro_pipelinename.uninstall()``, patched after ``install()``, in ABBA
order), so drift of the machine hits both alike. Times are this process's CPU
time, not wall time, so other work on a shared machine counts less. The script
prints the medians, the median of the per-repeat patched/stock ratios, and their
interquartile range (the noise floor of the machine).
Target: every ratio <= 1.02.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from kedro.pipeline import Pipeline, node
from kedro.pipeline.node import Node

import kedro_pipelinename

NODE_COUNT = 5_000
NAMESPACES = 50
TARGET = 1.02


def combine(*values: object) -> tuple[object, ...]:
    return values


def make_nodes(count: int = NODE_COUNT) -> list[Node]:
    """``NAMESPACES`` chains of namespaced nodes; each chain reads the one before."""
    per_namespace = count // NAMESPACES
    nodes = []
    for index in range(count):
        group, position = divmod(index, per_namespace)
        inputs = [f"d{index - 1}"] if position else [f"raw{group}"]
        if group and not position:
            inputs.append(f"d{index - per_namespace}")
        nodes.append(
            node(
                combine,
                inputs,
                f"d{index}",
                name=f"n{index}",
                namespace=f"ns{group}",
                tags=["even"] if index % 2 == 0 else ["odd"],
            )
        )
    return nodes


def namespace_filter() -> dict[str, Any]:
    # Kedro 0.19 takes one node_namespace; 1.0 a list, node_namespaces.
    if "node_namespaces" in inspect.signature(Pipeline.filter).parameters:
        return {"node_namespaces": ["ns10", "ns20"]}
    return {"node_namespace": "ns10"}


def time_once(operation: Callable[[], object]) -> float:
    """CPU seconds of one call: the machine is shared, wall time would measure it."""
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        operation()
        return time.process_time() - start
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument(
        "--only", default="", help="run only operations whose label contains this"
    )
    args = parser.parse_args(argv)

    nodes = make_nodes()
    first_half, second_half = nodes[: NODE_COUNT // 2], nodes[NODE_COUNT // 2 :]
    by_namespace = namespace_filter()

    def fixtures(named: bool) -> dict[str, Pipeline]:
        built = {
            "whole": Pipeline(nodes),
            "first": Pipeline(first_half),
            "second": Pipeline(second_half),
        }
        if named:
            for key, p in built.items():
                p.name = key  # type: ignore[attr-defined]
        return built

    operations: dict[str, Callable[[dict[str, Pipeline]], object]] = {
        "build Pipeline(5000 nodes)": lambda f: Pipeline(nodes),
        "filter()": lambda f: f["whole"].filter(),
        "filter(node_namespace(s))": lambda f: f["whole"].filter(**by_namespace),
        "filter(from_nodes)": lambda f: f["whole"].filter(from_nodes=["ns25.n2500"]),
        "a + b": lambda f: f["first"] + f["second"],
        "Pipeline(p, namespace=...)": lambda f: Pipeline(f["whole"], namespace="x"),
    }

    operations = {k: v for k, v in operations.items() if args.only in k}
    kedro_pipelinename.uninstall()
    stock_fixtures = fixtures(named=False)
    kedro_pipelinename.install()
    patched_fixtures = fixtures(named=True)

    timings: dict[str, dict[str, list[float]]] = {
        label: {"stock": [], "patched": []} for label in operations
    }

    def measure(label: str, side: str) -> None:
        if side == "stock":
            kedro_pipelinename.uninstall()
            elapsed = time_once(lambda: operations[label](stock_fixtures))
        else:
            if not kedro_pipelinename.is_installed():
                kedro_pipelinename.install()
            elapsed = time_once(lambda: operations[label](patched_fixtures))
        timings[label][side].append(elapsed)

    for label in operations:
        # One warm-up pair, then ABBA order so linear drift of a shared machine
        # hits both sides alike.
        for repeat in range(args.repeats + 1):
            order = ("stock", "patched") if repeat % 2 else ("patched", "stock")
            for side in order:
                measure(label, side)
    if not kedro_pipelinename.is_installed():
        kedro_pipelinename.install()

    import kedro

    print(
        f"kedro {kedro.__version__}, {NODE_COUNT} nodes, median of {args.repeats} "
        f"alternating runs (first run dropped)"
    )
    print(
        f"{'operation':<30} {'stock ms':>9} {'patched ms':>10} {'ratio':>6} "
        f"{'pair ratio p25-p75':>19}"
    )
    worst = 0.0
    for label, sides in timings.items():
        stock_runs, patched_runs = sides["stock"][1:], sides["patched"][1:]
        # Each repeat's stock and patched runs are adjacent in time: the median
        # of their ratios is robust to drift, and its spread shows the noise.
        pair_ratios = sorted(
            p / s for p, s in zip(patched_runs, stock_runs, strict=True)
        )
        ratio = statistics.median(pair_ratios)
        quartiles = statistics.quantiles(pair_ratios, n=4)
        worst = max(worst, ratio)
        print(
            f"{label:<30} {statistics.median(stock_runs) * 1e3:>9.2f} "
            f"{statistics.median(patched_runs) * 1e3:>10.2f} {ratio:>6.3f} "
            f"{quartiles[0]:>11.3f}-{quartiles[2]:.3f}"
        )
    verdict = "OK" if worst <= TARGET else "ABOVE TARGET"
    print(f"worst ratio {worst:.3f} (target <= {TARGET}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
