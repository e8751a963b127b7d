"""The SLURM engine: every job a SLURM batch job, the DAG submitted up front."""

from __future__ import annotations

from .engine import SPEC, SlurmBatchEngine
from .runner import SlurmBatchRunner
from .settings import SlurmBatchSettings

__all__ = ["SPEC", "SlurmBatchEngine", "SlurmBatchRunner", "SlurmBatchSettings"]
