"""What a run left behind: JSON lines, and JSON outputs with versions masked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: A Kedro save version (what ``kedro.io.core.generate_timestamp`` produces).
VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")


def read_json_lines(path: Path) -> list[Any]:
    """Records appended one JSON document per line (by hooks and runners)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def read_json_files(
    paths: Iterable[Path], root: Path, *, version: str = "<version>"
) -> dict[str, Any]:
    """``paths`` (JSON files under ``root``): relative path -> parsed JSON.

    A version directory is shown as ``version``, so two runs with different run
    ids compare equal when they wrote the same data.
    """
    outputs: dict[str, Any] = {}
    for path in paths:
        parts = [
            version if VERSION_RE.match(part) else part
            for part in path.relative_to(root).parts
        ]
        outputs["/".join(parts)] = json.loads(path.read_text())
    return outputs


def version_names(paths: Iterable[Path], root: Path) -> set[str]:
    """The names of the version directories on the way from ``root`` to ``paths``."""
    return {
        part
        for path in paths
        for part in path.relative_to(root).parts
        if VERSION_RE.match(part)
    }
