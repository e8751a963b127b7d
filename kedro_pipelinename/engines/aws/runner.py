"""``AWSBatchRunner``: a named pipeline on AWS Batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ...batch.kit import BatchRunner, Engine, EngineRun
from .api import make_client
from .engine import AWSBatchEngine
from .settings import AWSBatchSettings


class AWSBatchRunner(BatchRunner):
    """Runs a named pipeline on AWS Batch, one job per namespace or per node.

    Works with the stock CLI on every supported Kedro::

        kedro run --pipelines train --env aws \\
            --runner kedro_pipelinename.batch.AWSBatchRunner

    with the settings in the run's parameters (``aws_batch: {job_queue: ...,
    job_definition: ...}``, or the shared ``batch:`` block), ``KEDRO_BATCH_*``
    environment variables, or (Kedro 1.6+) ``--runner-params
    job_queue=...,job_definition=...``.

    Args:
        is_async: Accepted for the CLI; jobs load and save in their own processes.
        **settings: Any setting of ``BatchSettings`` or ``AWSBatchSettings``.

    Raises:
        BatchSettingsError: For an argument that is no setting.

    Example:
        >>> runner = AWSBatchRunner(job_queue="kedro", job_definition="project:3")
        >>> session.run(pipeline_names=["train"], runner=runner)  # doctest: +SKIP
    """

    public_path: ClassVar[str | None] = "kedro_pipelinename.batch.AWSBatchRunner"

    engine: ClassVar[type[AWSBatchEngine]] = AWSBatchEngine
    #: Builds the Batch client from the settings; replace it (on the class or an
    #: instance) to add botocore event hooks or your own session.
    client_factory: Callable[[AWSBatchSettings], Any] = staticmethod(make_client)

    def open_engine(
        self, engine: type[Engine], run: EngineRun, engine_settings: Any
    ) -> AWSBatchEngine:
        """An ``AWSBatchEngine`` on ``client_factory``'s client (the driver
        then runs its ``check``)."""
        return AWSBatchEngine.with_client(
            run, engine_settings, self.client_factory(engine_settings)
        )
