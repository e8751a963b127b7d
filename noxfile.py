"""The Kedro version matrix: the whole test suite once per tested Kedro release.

The versions come from ``kedro_pipelinename.versions.TESTED_KEDRO`` (declared once,
as data). ``nox -s matrix`` runs them all; ``nox -s "matrix(kedro='1.3.1')"`` one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True


def _tested_kedro() -> list[str]:
    # Parsed, not imported: importing the package would import (and need) Kedro.
    source = Path(__file__).parent / "src" / "kedro_pipelinename" / "versions.py"
    for statement in ast.parse(source.read_text()).body:
        if (
            isinstance(statement, ast.Assign)
            and getattr(statement.targets[0], "id", None) == "TESTED_KEDRO"
        ):
            return list(ast.literal_eval(statement.value))
    raise RuntimeError(f"TESTED_KEDRO not found in {source}")


@nox.session
@nox.parametrize("kedro", _tested_kedro())
def matrix(session: nox.Session, kedro: str) -> None:
    """Run the test suite against one Kedro release."""
    session.install("-e", ".[test]", f"kedro=={kedro}")
    session.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy (strict) over the package."""
    session.install("-e", ".[test]")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("mypy")
