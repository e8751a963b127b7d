"""The one ``install()`` / ``uninstall()`` pair."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator

from ._patching import PATCHES
from .versions import check_supported

#: Set to ``1`` (or ``true``/``yes``) to make ``import kedro_pipelinename`` patch nothing.
DISABLE_ENV_VAR = "KEDRO_PIPELINENAME_DISABLE"

_lock = threading.Lock()


def _all_patches() -> Iterator[tuple[type, str, object]]:
    from . import pipeline, session

    yield from pipeline.patches()
    yield from session.patches()


def install() -> None:
    """Patch Kedro in place so pipelines know their registered names.

    Idempotent: a second call warns and changes nothing. Either every patch is
    applied or none is.

    Raises:
        UnsupportedKedroVersionError: When the installed Kedro is outside
            ``kedro_pipelinename.versions.SUPPORTED_KEDRO``; nothing is patched.
    """
    with _lock:
        if PATCHES.active:
            warnings.warn(
                "kedro_pipelinename is already installed; install() did nothing.",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        check_supported()
        try:
            # Build every replacement before applying any, so a failure in
            # feature detection leaves Kedro untouched.
            planned = list(_all_patches())
            for owner, name, replacement in planned:
                PATCHES.patch(owner, name, replacement)
        except BaseException:
            PATCHES.restore_all()
            raise


def uninstall() -> None:
    """Restore every patched attribute to the exact object it replaced.

    An attribute that someone else replaced after us is left in place with a
    ``RuntimeWarning``; our wrapper under it then calls straight through. Calling
    ``uninstall()`` when nothing is installed does nothing.
    """
    with _lock:
        PATCHES.restore_all()


def is_installed() -> bool:
    """Whether the patches are currently installed."""
    return PATCHES.active


def disabled_by_environment() -> bool:
    """Whether ``KEDRO_PIPELINENAME_DISABLE`` asks the import not to install."""
    value = os.environ.get(DISABLE_ENV_VAR, "").strip().lower()
    return value in {"1", "true", "yes", "on"}
