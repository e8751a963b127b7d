"""Fixtures for the upstream-patch tests: a copy of the installed Kedro with the
series in ``patches/`` applied."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import kedro
import pytest

#: The Kedro release the series in ``patches/`` is made against.
PINNED_KEDRO = "1.7.0"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PATCHES_DIR = PROJECT_ROOT / "patches"
APPLY_TIMEOUT_S = 60


def patch_files() -> list[Path]:
    """The series, in order."""
    return sorted(PATCHES_DIR.glob("*.patch"))


def apply_command(patch: Path) -> list[str]:
    """``git apply`` where git exists (CI machines), else ``patch -p1``.

    Both refuse a hunk that does not apply exactly, so a series that no longer
    fits the pinned Kedro fails instead of half-applying.
    """
    if shutil.which("git"):
        return ["git", "apply", "--verbose", "--whitespace=nowarn", str(patch)]
    if shutil.which("patch"):
        return ["patch", "-p1", "--forward", "--batch", "--input", str(patch)]
    pytest.fail("Neither git nor patch is on PATH: install git to apply patches/.")


def apply_series(root: Path) -> None:
    """Apply every patch of the series to the tree at ``root``; fail if one doesn't.

    Raises:
        pytest.fail.Exception: Naming the patch and the tool's output.
    """
    for patch in patch_files():
        result = subprocess.run(
            apply_command(patch),
            cwd=root,
            # ``git apply`` inside someone's work tree patches relative to that
            # tree's top; stop git from looking above ``root`` for one.
            env={**os.environ, "GIT_CEILING_DIRECTORIES": str(root.parent)},
            capture_output=True,
            text=True,
            timeout=APPLY_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"{patch.name} does not apply to Kedro {kedro.__version__} "
                f"installed at {Path(kedro.__file__).parent}:\n{result.stdout}"
                f"{result.stderr}\nRebuild the series with patches/regenerate.sh "
                f"(see patches/README.md)."
            )


@pytest.fixture(scope="session")
def patched_kedro_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory holding ``kedro/``: the installed Kedro with the series applied.

    Put it first on ``PYTHONPATH`` to import the native implementation. Skips
    unless the installed Kedro is the release the series is made against.
    """
    if kedro.__version__ != PINNED_KEDRO:
        pytest.skip(
            f"patches/ is made against Kedro {PINNED_KEDRO}; Kedro "
            f"{kedro.__version__} is installed."
        )
    root = tmp_path_factory.mktemp("native-kedro")
    shutil.copytree(
        Path(kedro.__file__).parent,
        root / "kedro",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    apply_series(root)
    # The series also adds Kedro-style tests; they belong to Kedro's suite, and a
    # ``tests`` directory on PYTHONPATH must not shadow anything here.
    shutil.rmtree(root / "tests", ignore_errors=True)
    yield root
