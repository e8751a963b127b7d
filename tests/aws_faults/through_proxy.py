"""Engines and settings whose Batch client goes through a ``FaultProxy``."""

from __future__ import annotations

from typing import Any

from kedro_pipelinename.engines.aws.api import make_client
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from kedro_pipelinename.engines.aws.settings import AWSBatchSettings
from tests.support.aws import BatchWorld, StrictLimits
from tests.support.fault_proxy import FaultProxy
from tests.support.plans import RUN_ID


def settings_through(
    world: BatchWorld, proxy: FaultProxy, **overrides: Any
) -> AWSBatchSettings:
    """Settings of a client that goes through ``proxy``, with short waits: the
    tests are about what happens, not how long it takes."""
    values: dict[str, Any] = {
        "endpoint_url": proxy.url,
        "lookup_delay": 0.0,
        "api_retry_delay": 0.01,
        "api_timeout": 5.0,
        **overrides,
    }
    return world.settings(**values)


def engine_through(
    world: BatchWorld,
    proxy: FaultProxy,
    limits: StrictLimits | None = None,
    **overrides: Any,
) -> AWSBatchEngine:
    """An AWS Batch engine whose client goes through ``proxy``."""
    settings = settings_through(world, proxy, **overrides)
    client = make_client(settings)
    (limits or StrictLimits()).install(client)
    return AWSBatchEngine(settings, RUN_ID, client=client)
