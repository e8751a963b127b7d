"""The Kedro versions this package supports, declared once, as data.

Differences *inside* the range are found by feature detection where they matter
(see ``pipeline.py`` and ``stamping.py``), never by comparing version numbers.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

#: The one place the supported range is written. ``pyproject.toml`` repeats it as
#: the install requirement and a test keeps the two equal.
SUPPORTED_KEDRO = ">=0.19.15,<2"

#: The releases the test matrix runs (``noxfile.py`` reads this list).
TESTED_KEDRO = ("0.19.15", "1.0.0", "1.3.1", "1.5.0", "1.7.0")


class UnsupportedKedroVersionError(RuntimeError):
    """Raised by ``install()`` on a Kedro outside ``SUPPORTED_KEDRO``."""


def installed_kedro_version() -> str:
    """The version of the Kedro that is imported in this process."""
    import kedro

    return str(kedro.__version__)


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)\s*$")
_RELEASE = re.compile(r"^\d+(?:\.\d+)*$")


def _padded(release: str, length: int) -> tuple[int, ...]:
    parts = tuple(int(part) for part in release.split("."))
    return parts + (0,) * (length - len(parts))


def is_supported(version: str) -> bool:
    """Whether Kedro ``version`` is inside ``SUPPORTED_KEDRO``.

    A plain release (``1.7.0``) against plain clauses is compared here, so that
    ``import kedro_pipelinename`` does not import ``packaging.specifiers`` (about
    20-50 ms, more than all our patches); anything else (pre-releases, local
    versions, other operators) is decided by ``packaging``, the reference.

    Example:
        >>> is_supported("1.7.0"), is_supported("0.19.14"), is_supported("2.0.0")
        (True, False, False)
    """
    clauses = [_CLAUSE.match(clause) for clause in SUPPORTED_KEDRO.split(",")]
    if _RELEASE.match(version) and all(clauses):
        length = max(
            [len(version.split("."))]
            + [len(c.group(2).split(".")) for c in clauses if c is not None]
        )
        installed = _padded(version, length)
        return all(
            bool(_OPERATORS[c.group(1)](installed, _padded(c.group(2), length)))
            for c in clauses
            if c is not None
        )
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    return Version(version) in SpecifierSet(SUPPORTED_KEDRO)


def check_supported(version: str | None = None) -> None:
    """Raise unless ``version`` (default: the installed Kedro) is supported.

    Raises:
        UnsupportedKedroVersionError: Naming the installed and supported versions.
    """
    version = installed_kedro_version() if version is None else version
    if not is_supported(version):
        raise UnsupportedKedroVersionError(
            f"kedro_pipelinename supports kedro{SUPPORTED_KEDRO}, but kedro=={version}"
            f" is installed. Nothing was patched. Install a supported Kedro "
            f"(pip install 'kedro{SUPPORTED_KEDRO}') or remove "
            f"'import kedro_pipelinename' from your settings.py."
        )
