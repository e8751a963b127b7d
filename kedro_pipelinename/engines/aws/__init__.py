"""The AWS Batch engine: every job a Batch job, the DAG submitted up front."""

from __future__ import annotations

from .api import SPEC, TokenBucket, job_state, make_client, submit_job_request
from .engine import AWSBatchEngine
from .runner import AWSBatchRunner
from .settings import AWSBatchSettings

__all__ = [
    "SPEC",
    "AWSBatchEngine",
    "AWSBatchRunner",
    "AWSBatchSettings",
    "TokenBucket",
    "job_state",
    "make_client",
    "submit_job_request",
]
