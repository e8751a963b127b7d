"""Finding engines: the ``kedro_pipelinename.batch_engines`` entry-point group.

Every engine, ours included, is registered there by its package's metadata::

    [project.entry-points."kedro_pipelinename.batch_engines"]
    slurm = "my_package.engine:SlurmEngine"

so the batch core names no engine: ``installed_engines()`` is what settings are
checked against (one ``batch:`` block may hold settings of several engines),
and ``BatchRunner(engine="slurm")`` runs any of them. Loading an entry point
imports the engine's module only, never its client library (boto3).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Final

from ..names.logs import logger_for
from .engine import Engine, engine_problem
from .errors import BatchSettingsError
from .plugins import loaded, registered

logger = logger_for(__name__)

#: The entry-point group engines register in.
ENTRY_POINT_GROUP: Final = "kedro_pipelinename.batch_engines"


def _entry_points() -> list[EntryPoint]:
    return registered(ENTRY_POINT_GROUP)


def installed_engines() -> dict[str, type[Engine]]:
    """Every engine the installed packages register, by name.

    An entry point that cannot be loaded, or loads something that is no engine,
    is logged and left out: one broken plug-in must not stop runs on the others.
    """
    engines: dict[str, type[Engine]] = {}
    for entry_point, engine in loaded(_entry_points(), "Batch engine"):
        problem = engine_problem(engine)
        if problem:
            logger.warning(
                "Batch engine %r (%s) is left out: %s.",
                entry_point.name,
                entry_point.value,
                problem,
            )
            continue
        engines[entry_point.name] = engine
    return engines


def engine_named(name: str, source: str) -> type[Engine]:
    """The installed engine called ``name``.

    Raises:
        BatchSettingsError: Naming ``name``, where it came from (``source``),
            the installed engines and a close match.
    """
    import difflib

    engines = installed_engines()
    if name in engines:
        return engines[name]
    close = difflib.get_close_matches(name, list(engines), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise BatchSettingsError(
        "engine",
        f"No batch engine {name!r} (from {source}) is installed.{hint} Installed: "
        f"{', '.join(sorted(engines)) or 'none'}. An engine registers in the "
        f"entry-point group {ENTRY_POINT_GROUP!r}.",
    )
