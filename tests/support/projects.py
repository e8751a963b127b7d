"""Real Kedro projects written into temp dirs, and the real ``kedro`` CLI to run them.

Projects are written file by file rather than with ``kedro new``: the layout is the
one ``kedro new`` produces, but without the template's per-version extras, so the
same project runs unchanged on every Kedro of the matrix, offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import kedro

from kedro_pipelinename.demo.project import MAIN_MODULE as MAIN
from kedro_pipelinename.demo.project import PYPROJECT_TEMPLATE as PYPROJECT

#: Every ``kedro`` subprocess is bounded; a hung run fails the test, not CI.
CLI_TIMEOUT_SECONDS = 180

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


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a ``kedro`` subprocess: quiet, offline, no telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "DO_NOT_TRACK": "1",
            "KEDRO_DISABLE_TELEMETRY": "true",
            "PYTHONUNBUFFERED": "1",
            # Rich's wrapping would cut long log lines that tests read.
            "COLUMNS": "250",
            "TERM": "dumb",
        }
    )
    env.pop("KEDRO_PIPELINENAME_DISABLE", None)
    env.update(extra or {})
    return env


def kedro_cli(
    project: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = CLI_TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run ``kedro ARGS`` in ``project`` with this interpreter's Kedro."""
    return run_command(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        env=env,
        check=check,
        timeout=timeout,
    )


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = CLI_TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd``; on an unexpected exit code, fail with its output."""
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def read_json_lines(path: Path) -> list[Any]:
    """Records appended one JSON document per line (by hooks and runners)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]
