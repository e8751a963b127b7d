"""The example engine package (``examples/kedro-batch-example-engine``) made
importable and registered for a subprocess, from its own ``pyproject.toml``.

What ``pip install -e`` of it writes, without pip: its ``src`` on
``PYTHONPATH`` and a ``.dist-info`` beside it holding the pyproject's name,
version and entry points, so ``importlib.metadata`` (and so
``installed_engines()``) finds the engine through the entry point alone. CI also
installs it with pip (``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli before Python 3.11
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

ENGINES_GROUP = "kedro_pipelinename.batch_engines"
EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples" / "kedro-batch-example-engine"
)


def write_dist_info(
    source: Path, site: Path, extra_engines: Mapping[str, str] | None = None
) -> None:
    """A ``.dist-info`` in ``site`` for the package whose pyproject is in
    ``source``, registering ``extra_engines`` (name -> ``module:Class``) too."""
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    entry_points = {
        group: dict(points) for group, points in project["entry-points"].items()
    }
    entry_points[ENGINES_GROUP].update(extra_engines or {})
    (info / "entry_points.txt").write_text(
        "\n".join(
            f"[{group}]\n"
            + "".join(f"{key} = {value}\n" for key, value in points.items())
            for group, points in entry_points.items()
        )
    )


def install_example(
    tmp_path: Path,
    source: Path = EXAMPLE,
    extra_engines: Mapping[str, str] | None = None,
) -> tuple[Path, Mapping[str, str]]:
    """A copy of the example package in ``tmp_path`` (tests write nothing into
    the repository) and the environment of a process that has it installed."""
    copy = tmp_path / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp_path / "site"
    write_dist_info(copy, site, extra_engines)
    path = os.pathsep.join([str(site), str(copy / "src")])
    return copy, {"PYTHONPATH": path}


def site_of(env: Mapping[str, str]) -> Path:
    """The directory of ``install_example``'s dist-info (where extra modules go)."""
    return Path(env["PYTHONPATH"].split(os.pathsep)[0])
