"""Real Kedro projects written into temp dirs (run them with ``support.cli``).

Projects are written file by file rather than with ``kedro new``: the layout is the
one ``kedro new`` produces, but without the template's per-version extras, so the
same project runs unchanged on every Kedro of the matrix, offline.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import kedro

from kedro_pipelinename.demo.project import MAIN_MODULE as MAIN
from kedro_pipelinename.demo.project import PYPROJECT_TEMPLATE as PYPROJECT

SETTINGS_HEADER = """\
import kedro_pipelinename  # noqa: F401  (the one line the README asks for)
"""


def _dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write_project(
    root: Path,
    *,
    package: str = "proj",
    modules: Mapping[str, str],
    registry: str,
    catalog: str = "",
    parameters: str = "",
    settings: str = "",
    extra_conf: Mapping[str, str] | None = None,
) -> Path:
    """Write a Kedro project under ``root`` and return its path.

    Args:
        root: The project directory (created).
        package: The Python package name.
        modules: ``{"nodes": "<python source>"}``: extra modules of the package.
        registry: The source of ``pipeline_registry.py``.
        catalog: ``conf/base/catalog.yml``.
        parameters: ``conf/base/parameters.yml``.
        settings: Lines appended to ``settings.py`` after the import line.
        extra_conf: Other files under ``conf/``, by relative path.
    """
    src = root / "src" / package
    src.mkdir(parents=True, exist_ok=True)
    (root / "conf" / "base").mkdir(parents=True, exist_ok=True)
    (root / "conf" / "local").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(package=package, kedro_version=kedro.__version__)
    )
    (src / "__init__.py").write_text("")
    (src / "__main__.py").write_text(MAIN)
    (src / "settings.py").write_text(SETTINGS_HEADER + _dedent(settings))
    (src / "pipeline_registry.py").write_text(_dedent(registry))
    for module, source in modules.items():
        (src / f"{module}.py").write_text(_dedent(source))
    (root / "conf" / "base" / "catalog.yml").write_text(_dedent(catalog) or "{}\n")
    (root / "conf" / "base" / "parameters.yml").write_text(
        _dedent(parameters) or "{}\n"
    )
    for relative, text in (extra_conf or {}).items():
        path = root / "conf" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dedent(text))
    return root
