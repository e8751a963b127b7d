"""A job plan as text, JSON, a Mermaid flowchart, a Graphviz digraph or a picture.

Mermaid and dot show one box per job (its name and nodes) and one edge per
dependency, and nothing that changes from run to run (no run id): the picture of
the same pipeline is the same file, so a checked-in one can be compared.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ..batch.plan import JobPlan

FORMATS: Final = ("text", "json", "mermaid", "dot")
#: ``--output`` suffixes Graphviz renders (``dot -T<suffix>``).
PICTURES: Final = (".svg", ".png")


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` is not on ``PATH``."""


def columns(rows: Sequence[tuple[str, ...]]) -> str:
    """``rows`` as left-aligned columns (the first row is the header)."""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def as_text(plan: JobPlan, engine: str) -> str:
    """A table: job, nodes, parents and command, after a one-line summary."""
    header = (
        f"Run {plan.run_id}: {len(plan.jobs)} job(s) of "
        f"{', '.join(plan.pipeline_names)} on {engine}; nothing was submitted."
    )
    rows = [("JOB", "NODES", "DEPENDS ON", "COMMAND")]
    rows += [
        (
            job.name,
            ", ".join(job.nodes),
            ", ".join(job.depends_on) or "-",
            shlex.join(job.command),
        )
        for job in plan.jobs
    ]
    return f"{header}\n{columns(rows)}\n"


def as_json(plan: JobPlan, engine: str) -> str:
    """``{"run_id", "engine", "pipeline_names", "jobs": [...]}``, indented."""
    data = {
        "run_id": plan.run_id,
        "engine": engine,
        "pipeline_names": list(plan.pipeline_names),
        "jobs": [
            {
                "name": job.name,
                "nodes": list(job.nodes),
                "depends_on": list(job.depends_on),
                "command": list(job.command),
                "env": dict(job.env),
            }
            for job in plan.jobs
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def _mermaid_label(text: str) -> str:
    # Mermaid's entity codes: a quote would end the label.
    return text.replace('"', "#quot;")


def as_mermaid(plan: JobPlan) -> str:
    """A ``flowchart`` (renders on GitHub): a box per job, an arrow per parent."""
    ids = {job.name: f"job{index}" for index, job in enumerate(plan.jobs, 1)}
    lines = ["flowchart TD"]
    for job in plan.jobs:
        label = "<br/>".join([f"<b>{job.name}</b>", *job.nodes])
        lines.append(f'    {ids[job.name]}["{_mermaid_label(label)}"]')
    for job in plan.jobs:
        lines += [f"    {ids[parent]} --> {ids[job.name]}" for parent in job.depends_on]
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    return json.dumps(text)  # a double-quoted string with \" and \\ escaped


def as_dot(plan: JobPlan) -> str:
    """A Graphviz ``digraph``: a box per job, an edge per dependency."""
    lines = [
        "digraph jobs {",
        "    rankdir=TB;",
        '    node [shape=box, style="rounded", fontname="Helvetica"];',
    ]
    for job in plan.jobs:
        label = "\n".join([job.name, *job.nodes])
        lines.append(f"    {_dot_string(job.name)} [label={_dot_string(label)}];")
    for job in plan.jobs:
        lines += [
            f"    {_dot_string(parent)} -> {_dot_string(job.name)};"
            for parent in job.depends_on
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(plan: JobPlan, engine: str, output_format: str) -> str:
    """The plan in ``output_format`` (one of ``FORMATS``)."""
    if output_format == "json":
        return as_json(plan, engine)
    if output_format == "mermaid":
        return as_mermaid(plan)
    if output_format == "dot":
        return as_dot(plan)
    return as_text(plan, engine)


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
