"""``kedro batch plan --output graph.svg``: the job graph drawn by Graphviz.

The plan's formats (text, JSON, Mermaid, dot) are ``batch/plan_render.py``'s;
this draws its dot as a picture with Graphviz's own ``dot`` program.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Final

from ..batch.plan import JobPlan
from ..batch.plan_render import as_dot

#: ``--output`` suffixes Graphviz renders (``dot -T<suffix>``).
PICTURES: Final = (".svg", ".png")


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` is not on ``PATH``."""


def draw(plan: JobPlan, path: Path) -> None:
    """Render the job graph into ``path`` (``.svg`` or ``.png``) with Graphviz.

    Raises:
        GraphvizMissing: When ``dot`` is not on ``PATH``.
        subprocess.CalledProcessError: When ``dot`` failed.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(
            f"Graphviz's `dot` is not on PATH, so {path.name} cannot be drawn; "
            f"install Graphviz (apt-get install graphviz, brew install graphviz), "
            f"or write `--format dot` or `--format mermaid` instead."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [dot, f"-T{path.suffix[1:]}", "-o", str(path)],
        input=as_dot(plan).encode(),
        check=True,
        capture_output=True,
        timeout=60,
    )
