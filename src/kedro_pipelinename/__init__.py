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

from ._install import disabled_by_environment, install, is_installed, uninstall
from .pipeline import names_of
from .versions import SUPPORTED_KEDRO, UnsupportedKedroVersionError

__version__ = "0.1.0"

__all__ = [
    "SUPPORTED_KEDRO",
    "UnsupportedKedroVersionError",
    "__version__",
    "install",
    "is_installed",
    "names_of",
    "uninstall",
]

if not disabled_by_environment():
    install()
