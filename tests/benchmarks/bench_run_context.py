"""What the run-context patches cost, against stock Kedro in the same process.

Run: ``python -m tests.benchmarks.bench_run_context [--repeats N]``.

1. Loading a versioned dataset (``resolve_load_version`` asks first whether the
   run's own version exists): patched vs ``uninstall()``-ed, with 50 older
   versions on disk, both when the run's version exists and when it does not.
2. ``build_run_command`` for one node of a 1,000-node pipeline, against a
   baseline: the installed ``kedro run`` parsing the same argv
   (``run.make_context``), which every job pays anyway.

Timings alternate between the two sides so that drift hits both; the script
prints medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kedro.io import Version
from kedro.pipeline import Pipeline, node

import kedro_pipelinename
from kedro_pipelinename import RunContext, build_run_command
from kedro_pipelinename.demo.datasets import JSONFileDataset

RUN_ID = "2030-01-01T00.00.00.000Z"


def median_seconds(action: Callable[[], object], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        action()
    return (time.perf_counter() - start) / loops


def compare(
    label: str,
    patched: Callable[[], object],
    stock: Callable[[], object],
    *,
    repeats: int,
    loops: int,
    toggle: bool = True,
) -> None:
    patched_times, stock_times = [], []
    for _ in range(repeats):
        if toggle:
            kedro_pipelinename.uninstall()
        stock_times.append(median_seconds(stock, loops))
        if toggle:
            kedro_pipelinename.install()
        patched_times.append(median_seconds(patched, loops))
    ours, theirs = statistics.median(patched_times), statistics.median(stock_times)
    print(
        f"{label:<58} ours {ours * 1e6:9.1f} us  baseline {theirs * 1e6:9.1f} us"
        f"  ratio {ours / theirs:5.2f}"
    )


def write_versions(root: Path, run_version_exists: bool) -> str:
    filepath = root / "data.json"
    for day in range(1, 51):
        version = f"2029-01-{day % 28 + 1:02d}T00.00.{day:02d}.000Z"
        JSONFileDataset(str(filepath), Version(None, version)).save({"day": day})
    if run_version_exists:
        JSONFileDataset(str(filepath), Version(None, RUN_ID)).save({"run": True})
    return str(filepath)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    if not kedro_pipelinename.is_installed():
        kedro_pipelinename.install()

    with tempfile.TemporaryDirectory() as temporary:
        for exists in (True, False):
            root = Path(temporary) / str(exists)
            filepath = write_versions(root, exists)

            def load(filepath: str = filepath) -> object:
                return JSONFileDataset(filepath, Version(None, RUN_ID)).load()

            compare(
                f"versioned load, run version {'exists' if exists else 'absent'}",
                load,
                load,
                repeats=repeats,
                loops=200,
            )

    def identity(value: object) -> object:
        return value

    pipeline = Pipeline(
        [node(identity, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(1000)]
    )
    pipeline.name = "train"  # type: ignore[attr-defined]
    context = RunContext(
        run_id=RUN_ID,
        pipeline_names=("train",),
        env="prod",
        runtime_params={"model": {"alpha": 0.5, "label": "7"}, "seed": 3},
    )
    argv = build_run_command(pipeline, nodes=["n500"], context=context)
    from kedro.framework.cli.project import run

    compare(
        "build_run_command, 1 of 1,000 nodes (vs kedro parsing it)",
        lambda: build_run_command(pipeline, nodes=["n500"], context=context),
        lambda: run.make_context("run", argv[2:]),
        repeats=repeats,
        loops=50,
        toggle=False,
    )


if __name__ == "__main__":
    main()
