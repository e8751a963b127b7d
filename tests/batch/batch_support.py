"""The batch helpers under their old name, for ``from batch_support import ...``.

They live in ``tests/support/`` (``aws``, ``plans``, ``batch_project``, ``cli``);
this module re-exports them for the benchmarks and the engine tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The benchmarks put only tests/batch on sys.path; ``support`` is in tests/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.aws import (
    AWS_JOB_NAME,
    MOTO_REGION,
    BatchWorld,
    StrictLimits,
    create_batch_resources,
)
from support.batch_project import (
    MEMORY_CATALOG,
    PERSISTED_CATALOG,
    PROJECT_DATASETS,
    PROJECT_NODES,
    PROJECT_PARAMETERS,
    PROJECT_REGISTRY,
    LocalJSON,
    persisted_dataset_type,
    write_batch_project,
)
from support.cli import pipelines_flag, run_options
from support.plans import RUN_ID, plan_of, planned, wide_dag

__all__ = [
    "AWS_JOB_NAME",
    "MEMORY_CATALOG",
    "MOTO_REGION",
    "PERSISTED_CATALOG",
    "PROJECT_DATASETS",
    "PROJECT_NODES",
    "PROJECT_PARAMETERS",
    "PROJECT_REGISTRY",
    "RUN_ID",
    "BatchWorld",
    "LocalJSON",
    "StrictLimits",
    "create_batch_resources",
    "persisted_dataset_type",
    "pipelines_flag",
    "plan_of",
    "planned",
    "run_options",
    "wide_dag",
    "write_batch_project",
]
