"""The AWS Batch settings of a Kedro project, resolved as ``AWSBatchRunner`` does."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

from ..engines.aws.runner import AWSBatchRunner
from ..engines.aws.settings import AWSBatchSettings


def project_settings(project: Path, env: str | None = None) -> AWSBatchSettings:
    """The ``aws_batch:`` / ``batch:`` parameters and ``KEDRO_BATCH_*`` variables
    of ``project`` (Kedro environment ``env``), as a run would resolve them.

    Raises:
        BatchSettingsError: Listing every missing or invalid setting.
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    # Kedro's session logs to stdout; a --format json document must be all of it.
    with contextlib.redirect_stdout(sys.stderr):
        bootstrap_project(project)
        # Typed as Kedro's AbstractSession on some versions; a KedroSession here.
        session: Any = KedroSession.create(project_path=project, env=env)
        with session:
            parameters = session.load_context().params
    resolved = AWSBatchRunner().resolve_settings(parameters)
    settings = resolved.engine_settings
    assert isinstance(settings, AWSBatchSettings)
    return settings
