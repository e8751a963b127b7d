"""The engine contract suite, shipped: a pytest plugin for batch engine authors.

An engine is done when it passes the contract suite: every behaviour users rely
on from an engine (DAG order, ``max_parallel``, each job's environment, a
failure stopping the rest, Ctrl-C stopping every job, progress, ``find_jobs``,
adoption and resume by run id, ``poll`` and ``cancel`` edge cases, a cheap
``open`` and a ``check`` that lists every problem at once, the entry point),
run through the same driver as ``kedro run``, with jobs that are real
processes. Write a harness (how to open your engine; optionally how to make its
``check`` fail, count its backend calls, start a job, find a job's process)
and one test class::

    # tests/test_contract.py
    from kedro_pipelinename.testing import EngineContract, EngineHarness

    class MyHarness(EngineHarness):
        name = "mine"  # the entry-point name

        def open_engine(self, run):
            return MyEngine.open(run, MySettings())

    class TestMyEngine(EngineContract):
        harness = MyHarness

and run it with this plugin (``pip install "kedro-pipelinename[testing]"``)::

    pytest -p kedro_pipelinename.testing tests/test_contract.py

The plugin is opt-in (``-p``), not a ``pytest11`` entry point: loading it
imports ``kedro_pipelinename``, which patches Kedro, and that must not happen
in every pytest run of an environment that merely has the package installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kedro_pipelinename.batch.kit import installed_engines

from .contract import EngineContract
from .harness import (
    FAILING_EXIT_CODE,
    FAST,
    JOB_SCRIPT,
    PREFIX,
    RUN_ID,
    EngineHarness,
    Recording,
    iter_harness,
    named,
)

__all__ = [
    "FAILING_EXIT_CODE",
    "FAST",
    "JOB_SCRIPT",
    "PREFIX",
    "RUN_ID",
    "EngineContract",
    "EngineHarness",
    "Recording",
    "kedro_engine_harness",
    "named",
    "pytest_configure",
    "pytest_report_header",
]


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's marker (``-m engine_contract`` selects it)."""
    config.addinivalue_line(
        "markers", "engine_contract: the batch engine contract suite"
    )


def pytest_report_header(config: pytest.Config) -> str:
    """Which engines are installed: the suite finds yours by its entry point."""
    engines = ", ".join(sorted(installed_engines())) or "none"
    return f"kedro_pipelinename.testing: installed batch engines: {engines}"


@pytest.fixture
def kedro_engine_harness(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EngineHarness]:
    """The harness of the ``EngineContract`` subclass under test, for one test.

    ``KEDRO_BATCH_*`` variables of the environment are removed (they would
    change the settings); every job process the test started is gone after.
    """
    harness_class = getattr(request.cls, "harness", None)
    if harness_class is None:
        pytest.fail(
            f"{request.node.nodeid}: set `harness = YourHarness` (an EngineHarness "
            f"subclass) on the EngineContract subclass."
        )
    for name in list(os.environ):
        if name.startswith("KEDRO_BATCH_"):
            monkeypatch.delenv(name)
    out = tmp_path / "jobs"
    out.mkdir()
    yield from iter_harness(harness_class, out, request)
