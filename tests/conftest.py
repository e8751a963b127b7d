"""Suite-wide fixtures.

The suite runs the way a project does: ``import kedro_pipelinename`` installs the
patch (unless ``KEDRO_PIPELINENAME_DISABLE=1``, as the native contract run sets).
Tests that uninstall or re-install it must leave it as they found it; the
autouse fixture below puts it back if one does not, so one leaky test cannot
change what every later test sees.

The shared helpers are ``tests.support`` (``tests/`` is a package; the
repository root is on ``sys.path`` by pytest's ``pythonpath`` option in
``pyproject.toml``). The moto
fixtures (``moto_endpoint``, ``aws_environment``, ``batch_world``) are here so
that every folder can use them; see ``support/aws.py`` for what moto does.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import kedro_pipelinename
from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from tests.support.aws import (
    MOTO_REGION,
    BatchWorld,
    create_batch_resources,
    moto_server,
    reset_moto,
    use_fake_aws,
)

#: The engine contract suite, loaded as an engine author loads it (``pytest -p
#: kedro_pipelinename.testing``): tests/engines runs our engines through it.
pytest_plugins = ("kedro_pipelinename.testing",)

#: Why a test is left to the latest tested Kedro (``any_kedro``).
#: The rule: what the test checks is decided by our batch core, our engines,
#: botocore, moto, SLURM or the OS, and the Kedro it goes through (if any) is
#: only the path that a test kept on every Kedro already takes the same way.
FAULTS = (
    "the batch core and engines under faults and races (HTTP faults, lost "
    "answers, outages, racing and killed drivers, leases, damaged records, "
    "machine limits, a broken plugin engine)"
)
NO_KEDRO = (
    "imports no Kedro module and starts no `kedro` process: engines driven "
    "directly with plain commands, or our own import graph"
)
BATCH_CORE = (
    "a batch-core scenario (records, views, cancel, signals, adoption, "
    "secrets, trackers) behind `kedro run --runner ...` and `kedro batch`, "
    "whose Kedro path is the end-to-end of its engine kept on every Kedro: "
    "local tests/local_batch/test_local_batch_runner.py, AWS "
    "tests/batch/test_cli_moto.py and tests/sandbox/test_recipe.py, SLURM "
    "tests/slurm/test_slurm_scenario.py's first two tests, a plugin engine "
    "tests/engines/test_example_engine.py, the commands "
    "tests/commands/test_local_commands.py"
)

#: Tests (a file, or ``file::test`` for a test and its parameters) that the
#: README command runs on the latest tested Kedro only: the Kedro matrix skips
#: them on the others (``.ci/run``, ``-m "not fanout and not any_kedro"``),
#: which keeps CI inside its hour. A test not listed runs on all
#: five; everything that goes through what differs between Kedro releases (the
#: patch and names, sessions, hooks, runners, the catalog and its factories,
#: ``kedro run`` and its options, relaunched and resumed commands, pre-flight,
#: plans of Kedro pipelines, ``kedro batch`` loaded by Kedro's CLI, one
#: end-to-end per engine) stays there. The value says why.
ANY_KEDRO: dict[str, str] = {
    "tests/aws_faults/test_aws_preflight.py": FAULTS,
    "tests/aws_faults/test_direct_http.py": FAULTS,
    "tests/aws_faults/test_http_reader.py": FAULTS,
    "tests/aws_faults/test_lost_submit_responses.py": FAULTS,
    "tests/aws_faults/test_rate_limit.py": FAULTS,
    "tests/aws_faults/test_real_driver_on_aws.py": FAULTS,
    "tests/aws_faults/test_runnable.py": FAULTS,
    "tests/aws_faults/test_status_log_lookup.py": FAULTS,
    "tests/aws_faults/test_status_outages.py": FAULTS,
    "tests/aws_faults/test_submit_call.py": FAULTS,
    "tests/batch/test_interrupt_on_aws.py": FAULTS,
    "tests/commands/test_record_damage.py": FAULTS,
    "tests/commands/test_reopen_without_preflight.py": FAULTS,
    "tests/commands/test_run_ownership.py": FAULTS,
    "tests/commands/test_s3_record_store.py": FAULTS,
    "tests/engines/test_example_package.py": FAULTS,
    "tests/local_batch/test_machine_limits.py": FAULTS,
    "tests/sandbox/test_arrays.py": FAULTS,
    "tests/sandbox/test_compute.py": FAULTS,
    # The shipped engine contract submits plain Python commands to each engine.
    "tests/engines/test_engine_contract.py": NO_KEDRO,
    "tests/slurm/test_arrays.py": NO_KEDRO,
    "tests/test_architecture.py": NO_KEDRO,
    "tests/test_ci_kedro_suites.py": NO_KEDRO,
    "tests/commands/test_aws_commands.py": BATCH_CORE,
    "tests/commands/test_secrets.py": BATCH_CORE,
    "tests/commands/test_local_commands.py::"
    "test_user_errors_are_one_line_that_says_what_to_do_and_change_nothing": (
        BATCH_CORE
    ),
    "tests/commands/test_local_commands.py::"
    "test_cancel_from_another_terminal_stops_a_live_run": BATCH_CORE,
    "tests/engines/test_example_engine.py::"
    "test_kedro_batch_status_opens_a_plugin_engine": BATCH_CORE,
    "tests/local_batch/test_local_batch_demo.py::"
    "test_without_a_path_the_demo_removes_its_temp_project": BATCH_CORE,
    "tests/local_batch/test_local_batch_runner.py::"
    "test_a_stopped_driver_leaves_no_job_alive_and_its_own_command_finishes_the_run": (
        BATCH_CORE
    ),
    "tests/local_batch/test_local_batch_runner.py::"
    "test_a_killed_drivers_command_run_again_adopts_what_finished": BATCH_CORE,
    "tests/sandbox/test_sandbox_demo.py": BATCH_CORE,
    "tests/slurm/test_slurm_scenario.py::"
    "test_a_rerun_with_the_same_run_id_submits_no_job_twice": BATCH_CORE,
    "tests/slurm/test_slurm_scenario.py::"
    "test_a_failed_node_fails_the_run_and_cancels_the_rest": BATCH_CORE,
    "tests/slurm/test_slurm_scenario.py::"
    "test_ctrl_c_cancels_every_job_of_the_run": BATCH_CORE,
    "tests/slurm/test_slurm_scenario.py::"
    "test_a_second_driver_of_a_live_slurm_run_refuses_and_nodes_run_once": (BATCH_CORE),
    "tests/tracking/test_tracker_protocol.py": BATCH_CORE,
}


def any_kedro_entry(nodeid: str) -> str | None:
    """The ``ANY_KEDRO`` entry that covers the test ``nodeid``, if any."""
    path, _, rest = nodeid.partition("::")
    if path in ANY_KEDRO:
        return path
    name = rest.split("[", 1)[0]
    test = f"{path}::{name}"
    return test if test in ANY_KEDRO else None


#: Set by the nox sessions that exist to run tests skipped elsewhere (``starters``,
#: ``mlflow``): there a skipped test fails the run, so a session whose
#: requirements went missing cannot pass while checking nothing.
NO_SKIPS_VARIABLE = "KEDRO_PIPELINENAME_TESTS_NO_SKIPS"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(NO_SKIPS_VARIABLE) != "1" or hasattr(
        session.config, "workerinput"
    ):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = list(getattr(reporter, "stats", {}).get("skipped", []))
    if skipped:
        for report in skipped:
            print(f"\n{NO_SKIPS_VARIABLE}=1, yet skipped: {report.longrepr}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        path = item.path.relative_to(root).as_posix()
        if any_kedro_entry(f"{path}::{item.name}") is not None:
            item.add_marker(pytest.mark.any_kedro)


@pytest.fixture(autouse=True)
def _restore_install_state() -> Iterator[None]:
    installed_before = kedro_pipelinename.is_installed()
    yield
    if kedro_pipelinename.is_installed() == installed_before:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if installed_before:
            kedro_pipelinename.install()
        else:
            kedro_pipelinename.uninstall()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server on 127.0.0.1, Batch without docker."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region; no real AWS configuration is read."""
    use_fake_aws(monkeypatch, MOTO_REGION)


@pytest.fixture
def batch_world(moto_endpoint: str, aws_environment: None) -> BatchWorld:
    """A fresh moto account with a compute environment, queue and definition."""
    reset_moto(moto_endpoint)
    return create_batch_resources(moto_endpoint, MOTO_REGION)


@pytest.fixture
def demo_project(tmp_path: Path) -> DemoProject:
    """A fresh copy of the demo's scenario project (local, SLURM and engine tests)."""
    return write_demo_project(tmp_path / "client-models")
