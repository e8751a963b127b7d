"""One run id for every process of a run: ``KEDRO_PIPELINENAME_RUN_ID``.

Kedro gives every session its own id (``generate_timestamp()``), and that id is the
save version of every versioned dataset. A run re-launched as one process per node
therefore writes one logical run under many versions, and a downstream process
loads "latest", which under concurrent runs can be another run's output
(kedro-org/kedro#1551, #1731).

With ``KEDRO_PIPELINENAME_RUN_ID`` set (``build_run_env`` sets it to the driver's
run id), three patches make every process of the run share one version:

1. **Session id.** ``KedroSession.__init__`` takes the variable as its
   ``session_id`` (so ``create()`` stores it, and it becomes the save version), and
   ``KedroServiceSession.run`` (Kedro 1.5+) takes it as its ``run_id`` when none is
   passed.
2. **Load version.** A versioned dataset whose load version is not pinned loads the
   version of the *current* run when that version exists, and Kedro's "latest"
   otherwise (datasets produced before the run). The current run's version is the
   dataset's own save version, which the session's catalog sets on every versioned
   dataset, so this works in every thread and process without any shared state.
3. **Retries.** Saving a versioned dataset whose file already exists at the run's
   version (a retried attempt of a job whose earlier attempt saved it) keeps the
   saved file and logs that it did, instead of failing with Kedro's "Save path ...
   must not exist" or overwriting what downstream jobs may already have read.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from ..names.logs import logger_for
from ..names.patching import PATCHES
from .catalog import dataset_in

if TYPE_CHECKING:
    from kedro.framework.session import KedroSession

    from .catalog import Catalog, VersionedDataset

logger = logger_for(__name__)

#: The environment variable naming the run every process of a run belongs to.
RUN_ID_ENV_VAR: Final = "KEDRO_PIPELINENAME_RUN_ID"

#: ``kedro.io.core.VERSION_FORMAT`` (the same in every supported Kedro); repeated
#: here only to explain the value in error messages without importing kedro.io.
VERSION_FORMAT: Final = "%Y-%m-%dT%H.%M.%S.%fZ"

#: What ``kedro.io.core.generate_timestamp`` produces: milliseconds, not micro.
_VERSION_PATTERN: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$", re.ASCII
)


class InvalidRunIdError(ValueError):
    """A run id that is not a Kedro version string."""


def validate_run_id(value: object, *, source: str) -> str:
    """Check that ``value`` is a version string as Kedro generates them.

    Args:
        value: The candidate run id.
        source: Where the value came from, for the error message.

    Returns:
        ``value``, unchanged.

    Raises:
        InvalidRunIdError: When ``value`` is not of the form
            ``YYYY-MM-DDThh.mm.ss.sssZ`` (``kedro.io.core.generate_timestamp``).

    Example:
        >>> validate_run_id("2024-01-15T10.30.00.000Z", source="test")
        '2024-01-15T10.30.00.000Z'
    """
    text = value if isinstance(value, str) else None
    valid = text is not None and bool(_VERSION_PATTERN.match(text))
    if valid and text is not None:
        try:
            datetime.strptime(text, VERSION_FORMAT)
        except ValueError:
            valid = False
    if not valid or text is None:
        raise InvalidRunIdError(
            f"{source} is {value!r}, which is not a Kedro version string. A run id "
            f"must look like '2024-01-15T10.30.00.000Z' (the format of "
            f"kedro.io.core.generate_timestamp(): {VERSION_FORMAT} with "
            f"milliseconds). Set it to the run id of the driver run (build_run_env() "
            f"does), or unset it to let Kedro generate one."
        )
    return text


#: What no run id may contain: Kedro 1.3+ refuses these in a save version (a
#: version is a directory name), and a run id names ``logs/batch/<run id>/``.
_UNSAFE_PARTS: Final = ("/", "\\", "..", "\0")


def check_safe_run_id(value: object, *, source: str) -> str:
    """Check that ``value`` can name a run's directory: Kedro's save-version rule.

    A non-empty string without ``/``, ``\\``, ``..`` or NUL that does not start
    with ``.``. Looser than ``validate_run_id`` (a ``KedroServiceSession`` may be
    given any such id), and enough that ``logs/batch/<run id>`` stays in
    ``logs/batch``.

    Raises:
        InvalidRunIdError: Naming ``source`` and the value.

    Example:
        >>> check_safe_run_id("2024-01-15T10.30.00.000Z", source="test")
        '2024-01-15T10.30.00.000Z'
    """
    if (
        not isinstance(value, str)
        or not value
        or value.startswith(".")
        or any(part in value for part in _UNSAFE_PARTS)
        or len(value) > 255
    ):
        raise InvalidRunIdError(
            f"{source} is {value!r}, which is not a run id: a run id is a Kedro "
            f"version string like '2024-01-15T10.30.00.000Z' and never contains "
            f"'/', '\\' or '..'. See `kedro batch runs` for the run ids."
        )
    return value


def run_id_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The run id ``KEDRO_PIPELINENAME_RUN_ID`` asks for, or ``None`` when unset.

    Args:
        environ: The environment to read; ``os.environ`` by default.

    Returns:
        The validated run id, or ``None`` when the variable is unset or empty.

    Raises:
        InvalidRunIdError: When the variable is set to anything but a Kedro
            version string.
    """
    value = (os.environ if environ is None else environ).get(RUN_ID_ENV_VAR, "")
    if not value:
        return None
    return validate_run_id(value, source=f"The environment variable {RUN_ID_ENV_VAR}")


# --- session id ------------------------------------------------------------------


def _patched_session_init(original: Callable[..., None]) -> Callable[..., None]:
    """``KedroSession.__init__`` taking ``KEDRO_PIPELINENAME_RUN_ID`` as its id.

    ``KedroSession.create`` calls ``generate_timestamp()`` (imported into
    ``kedro.framework.session.session`` as a module name in every supported Kedro)
    and passes it as ``session_id=`` to ``cls(...)``. Patching the module function
    would miss code that imported it first (wrapt's rule), and ``create`` offers no
    parameter for the id, so the constructor, a class attribute, is the one place
    that sees every session id, and ``create`` stores ``session.session_id`` after it.
    """

    @functools.wraps(original)
    def patched_init(self: KedroSession, *args: Any, **kwargs: Any) -> None:
        if PATCHES.active:
            run_id = run_id_from_environment()
            if run_id is not None:
                if args:
                    args = (run_id, *args[1:])
                else:
                    kwargs["session_id"] = run_id
        original(self, *args, **kwargs)

    return patched_init


# --- versioned datasets ----------------------------------------------------------


def _run_version_of(dataset: object) -> str | None:
    """The save version the session's catalog gave ``dataset``, if it has one."""
    version = getattr(dataset, "_version", None)
    save = getattr(version, "save", None)
    return save if isinstance(save, str) and save else None


def _exists_at(dataset: VersionedDataset, version: str) -> bool:
    """Whether ``dataset`` has a file at ``version``, asked the way Kedro asks."""
    try:
        path = dataset._get_versioned_path(version)
        return bool(dataset._exists_function(str(path)))
    except Exception:  # a dataset that cannot answer behaves as stock Kedro
        logger.debug(
            "Could not check %s at version %s", dataset, version, exc_info=True
        )
        return False


def _patched_resolve_load_version(
    original: Callable[[VersionedDataset], str | None],
) -> Callable[[VersionedDataset], str | None]:
    @functools.wraps(original)
    def patched_resolve_load_version(self: VersionedDataset) -> str | None:
        if not PATCHES.active:
            return original(self)
        version = getattr(self, "_version", None)
        run_version = _run_version_of(self)
        # Kedro would load "latest", which under concurrent runs can be another
        # run's output (kedro-org/kedro#1551): prefer this run's own version.
        if (
            version is not None
            and not version.load
            and run_version is not None
            and _exists_at(self, run_version)
        ):
            return run_version
        return original(self)

    return patched_resolve_load_version


def _patched_catalog_save(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def patched_save(
        self: Catalog, name: str, data: object, *args: Any, **kwargs: Any
    ) -> None:
        if PATCHES.active:
            run_id = run_id_from_environment()
            if run_id is not None:
                dataset = dataset_in(self, name)
                # A dataset with a save version is a versioned one.
                if _run_version_of(dataset) == run_id and _exists_at(
                    cast("VersionedDataset", dataset), run_id
                ):
                    logger.warning(
                        "Not saving '%s': it was already saved at version %s of this "
                        "run (%s=%s), by an earlier attempt of this job. Keeping "
                        "that version, which later jobs may already have read.",
                        name,
                        run_id,
                        RUN_ID_ENV_VAR,
                        run_id,
                    )
                    return None
        return original(self, name, data, *args, **kwargs)

    return patched_save


def _catalog_classes() -> Iterator[type]:
    """Every catalog class of the installed Kedro that defines ``save`` itself."""
    import importlib

    # 0.19 has DataCatalog and KedroDataCatalog (kedro.io.kedro_data_catalog);
    # 1.x has DataCatalog and SharedMemoryDataCatalog (which inherits save).
    for module_name, class_name in (
        ("kedro.io.data_catalog", "DataCatalog"),
        ("kedro.io.kedro_data_catalog", "KedroDataCatalog"),
        ("kedro.io.data_catalog", "SharedMemoryDataCatalog"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        cls = getattr(module, class_name, None)
        if isinstance(cls, type) and "save" in cls.__dict__:
            yield cls


def patches() -> Iterator[tuple[type, str, object]]:
    """``(owner, attribute, replacement)`` for the run-id patches."""
    from kedro.framework.session import KedroSession
    from kedro.io import AbstractVersionedDataset

    yield KedroSession, "__init__", _patched_session_init(KedroSession.__init__)
    yield (
        AbstractVersionedDataset,
        "resolve_load_version",
        _patched_resolve_load_version(AbstractVersionedDataset.resolve_load_version),
    )
    for catalog_class in _catalog_classes():
        yield (
            catalog_class,
            "save",
            _patched_catalog_save(catalog_class.__dict__["save"]),
        )
