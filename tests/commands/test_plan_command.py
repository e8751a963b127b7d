"""``kedro batch plan`` through the real CLI: formats, pictures, pre-flight, docs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import write_demo_project
from tests.support.batch_project import MEMORY_CATALOG
from tests.support.cli import pipelines_flag
from tests.support.commands_project import (
    batch,
    json_of,
    run_ids,
    write_commands_project,
)

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs" / "commands.md"
#: The demo's scenario, as docs/commands.md shows it.
DEMO_PLAN = ("plan", f"{pipelines_flag()}=client_1_train", "--format=mermaid")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_commands_project(tmp_path_factory.mktemp("plan") / "proj")


def test_plan_json_is_the_plan_a_run_would_submit(project: Path) -> None:
    plan = json_of(
        batch(
            project,
            "plan",
            f"{pipelines_flag()}=train",
            "--params=smoothing=3.0",
            "--engine=aws",
            "--format=json",
        ).stdout
    )

    assert (plan["engine"], plan["pipeline_names"], plan["grouping"]) == (
        "aws",
        ["train"],
        "namespace",
    )
    # The run record's job schema (record_model.py): every field of a job.
    assert {tuple(job) for job in plan["jobs"]} == {
        ("name", "group", "namespace", "nodes", "tags", "depends_on", "command", "env")
    }
    assert [(job["name"], job["nodes"], job["depends_on"]) for job in plan["jobs"]] == [
        ("kedro-client_1", ["client_1.prepare", "client_1.fit"], []),
        ("kedro-client_2", ["client_2.prepare", "client_2.fit"], []),
        ("kedro-report", ["report"], ["kedro-client_1", "kedro-client_2"]),
    ]
    assert "--params=smoothing=3.0" in plan["jobs"][0]["command"]
    assert {job["env"]["KEDRO_PIPELINENAME_RUN_ID"] for job in plan["jobs"]} == {
        plan["run_id"]
    }
    assert run_ids(project) == []  # nothing ran


def test_plan_text_dot_and_picture(project: Path, tmp_path: Path) -> None:
    text = batch(project, "plan", f"{pipelines_flag()}=train").stdout
    dot_file = tmp_path / "jobs.dot"
    batch(
        project,
        "plan",
        f"{pipelines_flag()}=train",
        "--format=dot",
        f"--output={dot_file}",
    )

    assert re.search(
        r"kedro-report\s+report\s+kedro-client_1, kedro-client_2\s+\S+ -m kedro run",
        text,
    ), text
    assert "3 job(s) of train on local, grouping namespace; nothing was submitted" in (
        text
    )
    dot = dot_file.read_text()
    assert dot.startswith("digraph jobs {")
    assert '"kedro-client_1" -> "kedro-report";' in dot
    assert '"kedro-client_2" -> "kedro-report";' in dot
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed: no picture")
    svg = tmp_path / "jobs.svg"
    batch(project, "plan", f"{pipelines_flag()}=train", f"--output={svg}")
    # Graphviz writes "-" as &#45; in SVG text.
    assert "<svg" in svg.read_text() and "kedro&#45;report</text>" in svg.read_text()


def test_plan_lists_every_preflight_problem_and_exits_non_zero(tmp_path: Path) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "conf" / "base" / "catalog.yml").write_text(MEMORY_CATALOG)

    # With group_in_memory (the default) the in-memory metrics' nodes would
    # share one job: off, they are datasets between jobs, which pre-flight refuses.
    result = batch(
        project,
        "plan",
        f"{pipelines_flag()}=train",
        env={"KEDRO_BATCH_GROUP_IN_MEMORY": "false"},
        check=False,
    )

    assert result.returncode != 0
    for client in ("client_1", "client_2"):
        assert f"Dataset '{client}.metrics'" in result.stderr
    assert "nothing was submitted" in result.stderr


def test_the_docs_show_the_demo_job_graph_the_command_draws(tmp_path: Path) -> None:
    demo = write_demo_project(tmp_path / "client-models")

    mermaid = batch(demo.path, *DEMO_PLAN).stdout

    block = re.search(r"```mermaid\n(flowchart.*?)```", DOCS.read_text(), re.S)
    assert block, f"no mermaid flowchart in {DOCS}"
    assert mermaid[mermaid.index("flowchart") :] == block.group(1)
