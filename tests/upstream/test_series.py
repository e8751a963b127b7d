"""The two series in ``patches/`` are one change, and the one for main applies there.

``patches/*.patch`` is made against Kedro's main branch (d58a0b1) and
``patches/1.7.0/*.patch`` against the 1.7.0 sdist; ``patches/regenerate.sh``
writes both. The release series must be the main series' code commits, hunk for
hunk (only line numbers, blob ids and the ``[PATCH n/m]`` counter may differ), so
that both releases get the same feature. ``patches/check.sh`` runs Kedro's own
suites on both; here the main series is only applied (fast, offline) when the
shared Kedro trees are present.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.upstream.native_kedro import (
    PATCHES_DIR,
    PROJECT_ROOT,
    RELEASE_PATCHES_DIR,
    patch_files,
)

SHARED_MAIN_SRC = PROJECT_ROOT.parent / "shared" / "kedro-src" / "main-d58a0b1"
APPLY_TIMEOUT_S = 120
#: Lines that depend on the base a patch was exported from, not on the change.
BASE_DEPENDENT = re.compile(
    r"^(index [0-9a-f]+\.\.[0-9a-f]+|@@ .* @@|Subject: \[PATCH \d+/\d+\]|"
    r" \d+ files? changed)"
)


def change_of(patch: Path) -> list[str]:
    """The lines of ``patch`` that say what it changes, whatever its base."""
    lines = patch.read_text().splitlines()
    return [
        re.sub(r"@@ .* @@", "@@", line)
        for line in lines
        if not BASE_DEPENDENT.match(line) or line.startswith("@@")
    ]


def test_main_series_has_docs_and_release_notes() -> None:
    touched = {
        line.split(" b/", 1)[1]
        for patch in patch_files(PATCHES_DIR)
        for line in patch.read_text().splitlines()
        if line.startswith("diff --git ")
    }

    assert "RELEASE.md" in touched
    assert {path.split("/")[0] for path in touched} == {
        "RELEASE.md",
        "docs",
        "kedro",
        "tests",
    }


def test_release_series_is_the_main_series_code_commits() -> None:
    main_series = patch_files(PATCHES_DIR)
    release_series = patch_files(RELEASE_PATCHES_DIR)
    code_only = [
        patch
        for patch in main_series
        if "diff --git a/docs/" not in patch.read_text()
        and "diff --git a/RELEASE.md" not in patch.read_text()
    ]

    assert [p.name for p in release_series] == [p.name for p in code_only]
    assert [change_of(p) for p in release_series] == [change_of(p) for p in code_only]


@pytest.mark.skipif(
    not SHARED_MAIN_SRC.is_dir() or shutil.which("git") is None,
    reason="needs git and the shared Kedro main tree (../shared/kedro-src)",
)
def test_main_series_applies_with_git_am_to_kedro_main(tmp_path: Path) -> None:
    script = (
        'source "$1/lib.sh"; make_main_repo "$2"; '
        'apply_series "$2" "$1"/*.patch; git -C "$2" rev-list --count base..HEAD'
    )
    result = subprocess.run(
        ["bash", "-c", script, "apply", str(PATCHES_DIR), str(tmp_path / "main")],
        capture_output=True,
        text=True,
        timeout=APPLY_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) == len(patch_files(PATCHES_DIR))
