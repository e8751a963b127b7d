"""``AWSBatchRunner``: a named pipeline on AWS Batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ..plan import JobPlan
from ..runner import BatchRunner
from ..settings import AWSBatchSettings, BatchSettings
from .api import AWSBatchBackend, make_client


class AWSBatchRunner(BatchRunner):
    """Runs a named pipeline on AWS Batch, one job per namespace or per node.

    Works with the stock CLI on every supported Kedro::

        kedro run --pipelines train --env aws \\
            --runner kedro_pipelinename.batch.AWSBatchRunner

    with the settings in the run's parameters (``aws_batch: {job_queue: ...,
    job_definition: ...}``), ``KEDRO_BATCH_*`` environment variables, or (Kedro
    1.6+) ``--runner-params job_queue=...,job_definition=...``.

    Args:
        is_async: Accepted for the CLI; jobs load and save in their own processes.
        **settings: Any setting of ``BatchSettings`` or ``AWSBatchSettings``.

    Raises:
        BatchSettingsError: For an argument that is no setting.

    Example:
        >>> runner = AWSBatchRunner(job_queue="kedro", job_definition="project:3")
        >>> session.run(pipeline_names=["train"], runner=runner)  # doctest: +SKIP
    """

    backend_settings_class: ClassVar[type | None] = AWSBatchSettings
    #: Builds the Batch client from the settings; replace it (on the class or an
    #: instance) to add botocore event hooks or your own session.
    client_factory: Callable[[AWSBatchSettings], Any] = staticmethod(make_client)

    def create_backend(
        self, plan: JobPlan, settings: BatchSettings, backend_settings: Any
    ) -> AWSBatchBackend:
        """An ``AWSBatchBackend`` whose queue and definition were checked."""
        backend = AWSBatchBackend(
            backend_settings,
            run_id=plan.run_id,
            client=self.client_factory(backend_settings),
        )
        try:
            backend.verify()
        except BaseException:
            backend.close()
            raise
        return backend
