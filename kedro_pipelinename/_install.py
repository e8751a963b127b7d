"""The one ``install()`` / ``uninstall()`` pair."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator

from .names.logs import logger_for
from .names.patching import PATCHES
from .names.versions import check_supported

#: ``1`` (or ``true``/``yes``/``on``) makes ``import kedro_pipelinename`` patch nothing.
DISABLE_ENV_VAR = "KEDRO_PIPELINENAME_DISABLE"

_lock = threading.Lock()

logger = logger_for(__name__)


def has_native_support() -> bool:
    """Whether the imported Kedro has ``Pipeline.names`` built in (not ours).

    True for a Kedro with the series in ``patches/`` applied, or a release that
    ships it: then there is nothing to patch.

    Example:
        >>> from kedro_pipelinename._install import has_native_support
        >>> has_native_support()  # stock Kedro 1.7.0
        False
    """
    from kedro.pipeline import Pipeline

    return isinstance(
        getattr(Pipeline, "names", None), property
    ) and not PATCHES.is_patched(Pipeline, "names")


def _all_patches(*, native_names: bool) -> Iterator[tuple[type, str, object]]:
    from .names import pipeline, stamping
    from .relaunch import resume_hint
    from .run import run_id, tracking

    if not native_names:
        yield from pipeline.patches()
        yield from stamping.patches()
    yield from run_id.patches()
    yield from tracking.patches()
    yield from resume_hint.patches()


def install() -> None:
    """Patch Kedro in place so pipelines know their registered names.

    Idempotent: a second call warns and changes nothing. Either every patch is
    applied or none is. On a Kedro that has ``Pipeline.names`` natively (see
    ``patches/``) it leaves ``Pipeline`` and the registry alone, installs only the
    run-context patches, and logs that at INFO.

    Raises:
        UnsupportedKedroVersionError: When the installed Kedro is outside
            ``kedro_pipelinename.names.versions.SUPPORTED_KEDRO``; nothing is patched.

    Example:
        >>> import kedro_pipelinename  # installs on import
        >>> kedro_pipelinename.uninstall()
        >>> kedro_pipelinename.install()
        >>> kedro_pipelinename.is_installed()
        True
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
        native_names = has_native_support()
        if native_names:
            import kedro

            # The run-context layer (current_run, the shared run id, the resume
            # hint) is not part of the upstream series, so it still installs.
            logger.info(
                "Kedro %s has Pipeline.name and Pipeline.names built in; "
                "kedro_pipelinename leaves Pipeline and the registry as they are "
                "and installs only the run-context patches.",
                kedro.__version__,
            )
        try:
            # Applied as they are built: a layer that wraps what an earlier one
            # wrapped (both wrap the sessions' ``run``) wraps the earlier wrapper,
            # never the original under it. A failure in feature detection undoes
            # whatever was applied, so Kedro is left untouched.
            for owner, name, replacement in _all_patches(native_names=native_names):
                PATCHES.patch(owner, name, replacement)
        except BaseException:
            PATCHES.restore_all()
            raise


def uninstall() -> None:
    """Restore every patched attribute to the exact object it replaced.

    An attribute that someone else replaced after us is left in place with a
    ``RuntimeWarning``; our wrapper under it then calls straight through. Calling
    ``uninstall()`` when nothing is installed does nothing.

    Example:
        >>> from kedro.pipeline import Pipeline
        >>> kedro_pipelinename.uninstall()
        >>> hasattr(Pipeline, "name"), kedro_pipelinename.is_installed()
        (False, False)
    """
    with _lock:
        PATCHES.restore_all()


def is_installed() -> bool:
    """Whether the patches are currently installed.

    Returns:
        ``False`` before ``install()``, after ``uninstall()``, with
        ``KEDRO_PIPELINENAME_DISABLE=1`` and on a Kedro with native names.
    """
    return PATCHES.active


def disabled_by_environment() -> bool:
    """Whether ``KEDRO_PIPELINENAME_DISABLE`` asks the import not to install."""
    value = os.environ.get(DISABLE_ENV_VAR, "")
    if not value.strip():
        return False
    # Only when the variable is set: the batch core's one boolean parser.
    from .batch.settings import parse_bool

    try:
        return parse_bool(value)
    except ValueError as error:
        warnings.warn(
            f"{DISABLE_ENV_VAR}: {error}; installing the patches. Set it to 1 to "
            f"disable them, or unset it.",
            stacklevel=3,
        )
        return False
