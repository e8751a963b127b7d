"""A job plan as text, JSON, a Mermaid flowchart or a Graphviz digraph: the one
place a plan is rendered (``kedro batch plan``, a dry run, the engines' logs).

The JSON document has one schema, ``plan_data``: ``{"run_id", "engine",
"pipeline_names", "grouping", "jobs": [job_data(job), ...]}``. The run record
(``record_model.py``, format 2) stores the same: its top-level ``run_id``,
``engine``, ``pipeline_names`` and ``grouping``, and ``job_data`` of each job
under ``jobs[].job``.

Mermaid and dot show one box per job (its name and nodes) and one edge per
dependency, and nothing that changes from run to run (no run id): the picture of
the same pipeline is the same file, so a checked-in one can be compared.
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Final

from .plan import JobPlan, PlannedJob
from .tables import Block, Sheet, plain_text

#: What ``render`` writes.
FORMATS: Final = ("text", "json", "mermaid", "dot")


def job_data(job: PlannedJob) -> dict[str, Any]:
    """One job as JSON data: what the plan document and the run record hold."""
    return {
        "name": job.name,
        "group": job.group,
        "namespace": job.namespace,
        "nodes": list(job.nodes),
        "tags": list(job.tags),
        "depends_on": list(job.depends_on),
        "command": list(job.command),
        "env": dict(job.env),
    }


def plan_data(plan: JobPlan, engine: str) -> dict[str, Any]:
    """The plan as JSON data, for the engine called ``engine``."""
    return {
        "run_id": plan.run_id,
        "engine": engine,
        "pipeline_names": list(plan.pipeline_names),
        "grouping": plan.grouping,
        "jobs": [job_data(job) for job in plan.jobs],
    }


def as_json(plan: JobPlan, engine: str) -> str:
    """``plan_data`` as indented JSON with a final newline."""
    return json.dumps(plan_data(plan, engine), indent=2) + "\n"


def _environment(env: dict[str, str]) -> str:
    return " ".join(shlex.quote(f"{name}={value}") for name, value in env.items())


def plan_blocks(plan: JobPlan, engine: str, note: str = "") -> list[Block]:
    """The plan as a summary line and a table: job, nodes, parents, command.

    The environment is one line when every job has the same (a plan of
    ``plan_jobs`` always does), else a column.
    """
    summary = (
        f"Plan of run {plan.run_id}: {len(plan.jobs)} job(s) of "
        f"{', '.join(plan.pipeline_names)} on {engine}, grouping "
        f"{plan.grouping}{note}"
    )
    envs = [dict(job.env) for job in plan.jobs]
    shared = all(env == envs[0] for env in envs)
    headers = ["JOB", "NODES", "DEPENDS ON", "COMMAND"]
    rows = [
        [
            job.name,
            ", ".join(job.nodes),
            ", ".join(job.depends_on) or "-",
            shlex.join(job.command),
        ]
        for job in plan.jobs
    ]
    if not shared:
        headers.append("ENV")
        for row, env in zip(rows, envs, strict=True):
            row.append(_environment(env) or "-")
    blocks: list[Block] = [summary]
    if shared and envs and envs[0]:
        blocks.append(f"Environment of every job: {_environment(envs[0])}")
    blocks.append(Sheet(headers, rows))
    return blocks


def as_text(plan: JobPlan, engine: str, note: str = "") -> str:
    """``plan_blocks`` as plain text (files, pipes, logs)."""
    return plain_text(plan_blocks(plan, engine, note))


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


def render(plan: JobPlan, engine: str, output_format: str, note: str = "") -> str:
    """The plan in ``output_format`` (one of ``FORMATS``); ``note`` ends the
    text's summary line."""
    if output_format == "json":
        return as_json(plan, engine)
    if output_format == "mermaid":
        return as_mermaid(plan)
    if output_format == "dot":
        return as_dot(plan)
    if output_format == "text":
        return as_text(plan, engine, note)
    raise ValueError(f"{output_format!r} is none of {', '.join(FORMATS)}")
