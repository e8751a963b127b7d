"""Our three engines through the shipped contract suite, exactly as an engine
author runs it (``kedro_pipelinename.testing``; ``tests/conftest.py`` loads the
plugin): ``[local]``, ``[aws]`` (moto's server) and ``[slurm]`` (a real
one-node cluster). Behaviour only one engine has is tested beside that engine."""

from __future__ import annotations

import pytest

from kedro_pipelinename.testing import EngineContract
from tests.engines.harnesses import AWSHarness, LocalHarness, SlurmHarness
from tests.support.slurm import slurm_cluster  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow


class TestLocalEngine(EngineContract):
    harness = LocalHarness


class TestAWSEngine(EngineContract):
    harness = AWSHarness


@pytest.mark.slurm
class TestSlurmEngine(EngineContract):
    harness = SlurmHarness
