"""``tests/conftest.py``'s ``ANY_KEDRO``: the tests the Kedro releases between
the oldest and the latest skip. An entry that names no test would leave that
test on every Kedro unnoticed, or claim a reason for a test that is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ANY_KEDRO, any_kedro_entry

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("entry", sorted(ANY_KEDRO))
def test_every_entry_names_a_test_file_or_a_test_in_it(entry: str) -> None:
    path, _, test = entry.partition("::")
    source = (ROOT / path).read_text()
    assert path.startswith("tests/") and path.endswith(".py")
    if test:
        assert f"def {test}(" in source


def test_a_listed_test_is_marked_with_its_parameters_and_others_are_not() -> None:
    stopped = (
        "tests/local_batch/test_local_batch_runner.py::"
        "test_a_stopped_driver_leaves_no_job_alive_and_its_own_command_finishes_the_run"
    )

    assert any_kedro_entry(f"{stopped}[sigterm]") == stopped
    assert any_kedro_entry("tests/sandbox/test_compute.py::test_x[1]") == (
        "tests/sandbox/test_compute.py"
    )
    assert (
        any_kedro_entry(
            "tests/local_batch/test_local_batch_runner.py::"
            "test_local_batch_run_matches_a_plain_run_with_one_process_per_job"
        )
        is None
    )
