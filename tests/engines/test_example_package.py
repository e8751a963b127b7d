"""The example third-party engine passes the shipped contract suite, run as its
author runs it (``pytest -p kedro_pipelinename.testing`` in its own directory,
the package installed through its entry point), and a copy of it with one
behaviour broken fails exactly the contract tests of that behaviour: the suite
can fail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from kedro_pipelinename.testing import EngineContract
from tests.engines.example_package import install_example

pytestmark = pytest.mark.slow

#: The test ids of the suite's tests in the example's test module.
SUITE = "tests/test_contract.py::TestExampleEngine::"

#: How many tests the suite has.
SUITE_SIZE = sum(name.startswith("test_") for name in dir(EngineContract))
#: The array cases, skipped for the example engine (it has no submit_array).
ARRAY_CASES = sum(
    name.startswith("test_") and ("array" in name or "child" in name)
    for name in dir(EngineContract)
)

#: The command an engine author runs.
PYTEST = (sys.executable, "-m", "pytest", "-p", "kedro_pipelinename.testing")

#: Appended to the copy's engine module: ``cancel`` does nothing.
BROKEN_CANCEL = """

def _cancel_nothing(self, job_ids, reason):
    pass


ExampleEngine.cancel = _cancel_nothing
"""


def _suite(package: Path, env: Mapping[str, str], *args: str) -> tuple[int, str]:
    """``pytest -p kedro_pipelinename.testing`` in ``package``: exit code, output."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KEDRO_BATCH_", "PYTEST_"))
    }
    result = subprocess.run(
        [*PYTEST, "-p", "no:cacheprovider", "-q", "-rfE", *args],
        cwd=package,
        env={**environ, **env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def _failed(output: str) -> list[str]:
    return sorted(re.findall(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE))


def test_the_example_engine_passes_the_contract_suite(tmp_path: Path) -> None:
    package, env = install_example(tmp_path)

    code, output = _suite(package, env)

    assert code == 0, output
    assert re.search(
        rf"\b{SUITE_SIZE - ARRAY_CASES} passed, {ARRAY_CASES} skipped\b", output
    ), output


def test_an_example_whose_cancel_does_nothing_fails_the_tests_of_stopping_jobs(
    tmp_path: Path,
) -> None:
    package, env = install_example(tmp_path)
    module = package / "src" / "kedro_batch_example_engine" / "engine.py"
    module.write_text(module.read_text() + BROKEN_CANCEL)

    # Two workers: each failing test waits 10 s for the jobs that never stop.
    code, output = _suite(package, env, "-n", "2")

    assert code == 1, output
    assert _failed(output) == [
        f"{SUITE}test_a_failure_stops_the_rest_of_the_run",
        f"{SUITE}test_an_interrupted_driver_stops_every_job_of_the_run",
    ]
    assert re.search(
        rf"\b2 failed, {SUITE_SIZE - ARRAY_CASES - 2} passed, {ARRAY_CASES} skipped\b",
        output,
    ), output
