"""``SlurmBatchRunner``: a named pipeline as SLURM batch jobs."""

from __future__ import annotations

from typing import ClassVar

from ...batch.kit import BatchRunner
from .engine import SlurmBatchEngine


class SlurmBatchRunner(BatchRunner):
    """Runs a named pipeline on a SLURM cluster, one job per namespace or per node.

    The same jobs as every engine (plan, pre-flight checks, commands, environment,
    run id, ``fail_fast``, progress, resume hint), each a batch script submitted
    with ``sbatch``, the whole DAG up front with ``--dependency=afterok``::

        kedro run --pipelines train \\
            --runner kedro_pipelinename.batch.SlurmBatchRunner

    needs no settings (the default partition, the commands on ``PATH``); give
    them in the ``slurm_batch:`` (or ``batch:``) parameters block, as
    ``KEDRO_BATCH_*`` variables, or (Kedro 1.6+) ``--runner-params
    partition=gpu,gres=gpu:1``.

    Args:
        is_async: Accepted for the CLI; jobs load and save in their own processes.
        **settings: Any setting of ``BatchSettings`` or ``SlurmBatchSettings``.

    Raises:
        BatchSettingsError: For an argument that is no setting.

    Example:
        >>> runner = SlurmBatchRunner(partition="cpu", time_limit="1:00:00")
        >>> session.run(pipeline_names=["train"], runner=runner)  # doctest: +SKIP
    """

    public_path: ClassVar[str | None] = "kedro_pipelinename.batch.SlurmBatchRunner"

    engine: ClassVar[type[SlurmBatchEngine]] = SlurmBatchEngine
