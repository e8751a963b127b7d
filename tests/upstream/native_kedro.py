"""The upstream series (``patches/``) and a Kedro with it applied: where it is,
how it is applied, and the environment of a child Python that imports it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import kedro
import pytest

#: The Kedro release ``patches/1.7.0/`` is made against. ``patches/*.patch``, the
#: series for Kedro's main branch, holds the same commits plus docs and RELEASE.md.
PINNED_KEDRO = "1.7.0"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PATCHES_DIR = PROJECT_ROOT / "patches"
RELEASE_PATCHES_DIR = PATCHES_DIR / PINNED_KEDRO
APPLY_TIMEOUT_S = 60


def patch_files(directory: Path = RELEASE_PATCHES_DIR) -> list[Path]:
    """A series, in order: by default the one for the pinned release."""
    return sorted(directory.glob("*.patch"))


def subprocess_env(*, native_root: Path | None) -> dict[str, str]:
    """The environment of a child Python: ``native_root`` first on ``PYTHONPATH``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KEDRO_PIPELINENAME_", "PYTEST_"))
    }
    if native_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(native_root), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    return env


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
