"""Fixtures of the fault tests: moto's server behind a ``FaultProxy``.

The engine under test talks to the proxy (``through_proxy.py``); the tests count
what AWS Batch really holds by asking moto's server directly
(``BatchWorld.jobs``), never through the proxy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.aws import BatchWorld
from tests.support.fault_proxy import FaultProxy, fault_proxy


@pytest.fixture
def proxy(batch_world: BatchWorld) -> Iterator[FaultProxy]:
    """A fault proxy in front of this test's moto account."""
    with fault_proxy(batch_world.endpoint) as started:
        yield started
