"""The Kedro versions this package supports, declared once, as data.

Differences *inside* the range are found by feature detection where they matter
(see ``pipeline.py`` and ``session.py``), never by comparing version numbers.
"""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

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


def check_supported(version: str | None = None) -> None:
    """Raise unless ``version`` (default: the installed Kedro) is supported.

    Raises:
        UnsupportedKedroVersionError: Naming the installed and supported versions.
    """
    version = installed_kedro_version() if version is None else version
    if Version(version) not in SpecifierSet(SUPPORTED_KEDRO):
        raise UnsupportedKedroVersionError(
            f"kedro_pipelinename supports kedro{SUPPORTED_KEDRO}, but kedro=={version}"
            f" is installed. Nothing was patched. Install a supported Kedro "
            f"(pip install 'kedro{SUPPORTED_KEDRO}') or remove "
            f"'import kedro_pipelinename' from your settings.py."
        )
