"""``LocalBatchRunner``: a named pipeline as processes on this machine."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from ...batch.kit import BatchRunner
from .processes import LocalBatchEngine


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
    checked every fraction of a second. ``max_parallel`` is capped by what this
    machine can hold (``LocalBatchEngine.bound_settings``), with a warning.

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

    public_path: ClassVar[str | None] = "kedro_pipelinename.batch.LocalBatchRunner"

    engine: ClassVar[type[LocalBatchEngine]] = LocalBatchEngine

    def __init__(self, is_async: bool = False, **settings: Any) -> None:
        if os.name != "posix" or not hasattr(os, "waitid"):
            raise RuntimeError(
                "LocalBatchRunner needs POSIX process groups and os.waitid (Linux, "
                "macOS); on this platform use SequentialRunner or ParallelRunner."
            )
        super().__init__(is_async=is_async, **settings)
