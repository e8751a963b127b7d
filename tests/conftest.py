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

#: Test files that check the batch core and engines under faults and races
#: (HTTP faults, lost answers, outages, racing and killed drivers, leases, damaged
#: records, machine limits, a broken plugin engine): what they exercise is ours,
#: botocore's and the OS's, and no Kedro release changes it. They are marked
#: ``any_kedro``; the Kedro matrix runs them on the oldest tested Kedro and the
#: README command on the latest, and the Kedro releases between skip them
#: (``.ci/run``), which keeps CI inside its hour. Everything that goes through
#: what differs between Kedro releases (the patch, sessions, ``kedro run`` and
#: its options, relaunched commands, every engine's contract) runs on all five.
ANY_KEDRO: frozenset[str] = frozenset(
    {
        "tests/aws_faults/test_aws_preflight.py",
        "tests/aws_faults/test_lost_submit_responses.py",
        "tests/aws_faults/test_rate_limit.py",
        "tests/aws_faults/test_real_driver_on_aws.py",
        "tests/aws_faults/test_runnable.py",
        "tests/aws_faults/test_status_outages.py",
        "tests/batch/test_interrupt_on_aws.py",
        "tests/commands/test_record_damage.py",
        "tests/commands/test_reopen_without_preflight.py",
        "tests/commands/test_run_ownership.py",
        "tests/commands/test_s3_record_store.py",
        "tests/engines/test_example_package.py",
        "tests/local_batch/test_machine_limits.py",
        "tests/sandbox/test_arrays.py",
        "tests/sandbox/test_compute.py",
    }
)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        if item.path.relative_to(root).as_posix() in ANY_KEDRO:
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
