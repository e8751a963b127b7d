"""``Pipeline.name`` for Kedro.

Add one line to your project's ``settings.py``::

    import kedro_pipelinename  # noqa: F401

and from then on every pipeline knows which registered pipeline(s) it came from::

    from kedro.framework.project import pipelines

    pipelines["train"].name  # "train"
    (pipelines["train"] + pipelines["evaluate"]).names  # ("evaluate", "train")

Set ``KEDRO_PIPELINENAME_DISABLE=1`` to make the import patch nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._install import disabled_by_environment, install, is_installed, uninstall
from ._lazy import lazy_attributes
from .names.pipeline import names_of
from .names.versions import SUPPORTED_KEDRO, UnsupportedKedroVersionError

if TYPE_CHECKING:
    from .relaunch.argv import build_resume_command, build_run_command, build_run_env
    from .relaunch.errors import RunCommandError
    from .run.context import RunContext, current_run

__version__ = "0.1.0"

__all__ = [
    "SUPPORTED_KEDRO",
    "RunCommandError",
    "RunContext",
    "UnsupportedKedroVersionError",
    "__version__",
    "build_resume_command",
    "build_run_command",
    "build_run_env",
    "current_run",
    "install",
    "is_installed",
    "names_of",
    "uninstall",
]

# Imported on first use, so that ``import kedro_pipelinename`` in settings.py costs
# no more than the patches themselves (see tests/benchmarks/bench_import.py).
_LAZY = {
    "RunContext": "run.context",
    "current_run": "run.context",
    "build_run_command": "relaunch.argv",
    "build_run_env": "relaunch.argv",
    "build_resume_command": "relaunch.argv",
    "RunCommandError": "relaunch.errors",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


if not disabled_by_environment():
    install()
