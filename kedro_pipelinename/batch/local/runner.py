"""``LocalBatchRunner``: a named pipeline as processes on this machine."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ..plan import JobPlan
from ..runner import BatchRunner
from ..settings import BatchSettings
from .processes import LocalBatchBackend, LocalBatchSettings, driver_kedro

logger = logging.getLogger(__name__)


class LocalBatchRunner(BatchRunner):
    """Runs a named pipeline as local subprocesses, one per namespace or per node.

    The same jobs as ``AWSBatchRunner`` (plan, pre-flight checks, commands,
    environment, run id, ``fail_fast``, progress, resume hint), each run as
    ``kedro run --pipelines <names> --nodes ...`` in its own process group here::

        kedro run --pipelines client_1_train \\
            --runner kedro_pipelinename.batch.LocalBatchRunner

    (``--pipeline`` on Kedro versions before 1.2). Settings come from runner
    arguments (``--runner-params`` on Kedro 1.6+), the ``aws_batch:`` parameters
    block, or ``KEDRO_BATCH_*`` variables, as for ``AWSBatchRunner``; AWS settings
    are ignored. Defaults differ where a local run needs it: ``max_parallel`` is
    the number of CPUs, ``executable`` is this interpreter's ``-m kedro``, and
    jobs are checked every fraction of a second.

    Args:
        is_async: Accepted for the CLI; jobs load and save in their own processes.
        **settings: Any setting of ``BatchSettings`` or ``LocalBatchSettings``.

    Raises:
        BatchSettingsError: For an argument that is no setting.
        RuntimeError: On a platform without POSIX process groups (Windows).

    Example:
        >>> from kedro.framework.session import KedroSession
        >>> with KedroSession.create() as session:  # doctest: +SKIP
        ...     session.run(
        ...         pipeline_name="client_1_train",
        ...         runner=LocalBatchRunner(grouping="none", max_parallel=2),
        ...     )
    """

    backend_settings_class: ClassVar[type | None] = LocalBatchSettings
    setting_defaults: ClassVar[Mapping[str, Any]] = {
        "max_parallel": os.cpu_count() or 1,
        "executable": driver_kedro(),
        # A local process is checked in microseconds, and wait() returns when a
        # job exits, so these only bound how stale the progress display gets.
        "poll_interval": 0.5,
        "max_poll_interval": 2.0,
    }

    def __init__(self, is_async: bool = False, **settings: Any) -> None:
        if os.name != "posix" or not hasattr(os, "waitid"):
            raise RuntimeError(
                "LocalBatchRunner needs POSIX process groups and os.waitid (Linux, "
                "macOS); on this platform use SequentialRunner or ParallelRunner."
            )
        super().__init__(is_async=is_async, **settings)

    def create_backend(
        self, plan: JobPlan, settings: BatchSettings, backend_settings: Any
    ) -> LocalBatchBackend:
        """A ``LocalBatchBackend`` running in the run's project directory."""
        from ...run_context import current_run

        context = current_run()
        project_path = Path(
            context.project_path if context and context.project_path else Path.cwd()
        )
        backend = LocalBatchBackend(
            backend_settings, run_id=plan.run_id, project_path=project_path
        )
        logger.info("%s", plan.render_text())
        logger.info(
            "Running %d job(s) as local processes, at most %s at once; job logs in %s",
            len(plan.jobs),
            settings.max_parallel or "all",
            backend.log_dir,
        )
        return backend
