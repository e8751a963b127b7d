"""The AWS Batch engine: every job a Batch job, the DAG submitted up front."""

from __future__ import annotations

from .api import (
    AWSBatchBackend,
    TokenBucket,
    job_state,
    make_client,
    submit_job_request,
)
from .runner import AWSBatchRunner

__all__ = [
    "AWSBatchBackend",
    "AWSBatchRunner",
    "TokenBucket",
    "job_state",
    "make_client",
    "submit_job_request",
]
