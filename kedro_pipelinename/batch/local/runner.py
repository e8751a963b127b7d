"""``LocalBatchRunner``: a named pipeline as processes on this machine."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from ..runner import BatchRunner, ResolvedSettings
from .processes import LocalBatchEngine, machine_parallelism
from .settings import LocalBatchSettings

logger = logging.getLogger(__name__)


class LocalBatchRunner(BatchRunner):
    """Runs a named pipeline as local subprocesses, one per namespace or per node.

    The same jobs as ``AWSBatchRunner`` (plan, pre-flight checks, commands,
    environment, run id, ``fail_fast``, progress, resume hint), each run as
    ``kedro run --pipelines <names> --nodes ...`` in its own process group here::

        kedro run --pipelines client_1_train \\
            --runner kedro_pipelinename.batch.LocalBatchRunner

    (``--pipeline`` on Kedro versions before 1.2). Settings come from runner
    arguments (``--runner-params`` on Kedro 1.6+), the ``batch:`` parameters
    block, or ``KEDRO_BATCH_*`` variables, as for every engine; other engines'
    settings there are ignored. Defaults differ where a local run needs it
    (``LocalBatchEngine.spec.setting_defaults``): ``max_parallel`` is the number
    of CPUs, ``executable`` is this interpreter's ``-m kedro``, and jobs are
    checked every fraction of a second.

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

    engine: ClassVar[type[LocalBatchEngine]] = LocalBatchEngine

    def __init__(self, is_async: bool = False, **settings: Any) -> None:
        if os.name != "posix" or not hasattr(os, "waitid"):
            raise RuntimeError(
                "LocalBatchRunner needs POSIX process groups and os.waitid (Linux, "
                "macOS); on this platform use SequentialRunner or ParallelRunner."
            )
        super().__init__(is_async=is_async, **settings)

    def resolve_settings(
        self, parameters: Mapping[str, Any] | None = None
    ) -> ResolvedSettings:
        """The settings as ``BatchRunner``'s, with ``max_parallel`` capped by
        what this machine can hold (``machine_parallelism``), with a warning
        that says what was asked, what is used and why."""
        resolved = super().resolve_settings(parameters)
        asked = resolved.settings.max_parallel
        local = resolved.engine_settings
        job_memory = getattr(local, "job_memory", LocalBatchSettings().job_memory)
        used, why = machine_parallelism(asked, job_memory=job_memory)
        if why is None:
            return resolved
        logger.warning(
            "max_parallel=%s asked; running at most %d job(s) at once: %s.",
            "all" if asked is None else asked,
            used,
            why,
        )
        return attrs.evolve(
            resolved, settings=attrs.evolve(resolved.settings, max_parallel=used)
        )
