"""The example engine of ``docs/writing-an-engine.md``, installed as a plug-in.

The engine's code is read from the page itself, written as a module beside a
``dist-info`` whose ``entry_points.txt`` registers it, and run by the stock
``kedro run --runner kedro_pipelinename.batch.BatchRunner`` on the demo project:
a third-party engine needs nothing of this package but the entry point.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from kedro_pipelinename.batch.engine import EngineRun, engine_checks, engine_problem
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from support.cli import kedro_cli, pipelines_option
from support.demo import CLIENT_1_TRAIN_OUTPUTS, read_outputs

pytestmark = pytest.mark.slow

RUN_ID = "2026-12-01T10.00.00.000Z"
DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-an-engine.md"


def _example_blocks() -> list[str]:
    """The Python blocks after the example's heading."""
    text = DOC.read_text()
    section = text[text.index("## An example engine") :]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def example_engine_code() -> str:
    """The first Python block after the example's heading: the engine."""
    blocks = _example_blocks()
    assert blocks, "docs/writing-an-engine.md has no example engine"
    return blocks[0]


def _loaded(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(code, "my_engines.py", "exec"), namespace)
    return namespace


def _run_of(project: Path, *programs: str) -> EngineRun:
    """A run of one job per program, in ``project``."""
    jobs = [
        PlannedJob(
            name=f"kedro-{index}",
            group=str(index),
            namespace=None,
            nodes=(f"n{index}",),
            tags=(),
            depends_on=(),
            command=(program, "run"),
            env={},
        )
        for index, program in enumerate(programs)
    ]
    plan = JobPlan(run_id=RUN_ID, pipeline_names=("a",), grouping="none", jobs=jobs)
    return EngineRun(plan=plan, settings=BatchSettings(), project_path=project)


def test_the_page_says_how_long_the_example_is() -> None:
    lines = len(example_engine_code().splitlines())

    assert f"## An example engine: {lines} lines" in DOC.read_text()


#: An engine written before ``Engine.check`` existed: its ``open`` checks its
#: resources and raises (here: always), and it has no ``check``.
CHECKING_OPEN = """

class CheckingOpenEngine(InlineEngine):
    spec = EngineSpec(
        name="checking_open",
        job_names=JobNameRule(max_length=64),
        statuses={"ok": JobStatus.SUCCEEDED, "error": JobStatus.FAILED},
    )

    @classmethod
    def open(cls, run, settings):
        from kedro_pipelinename.batch import BatchSettingsError

        raise BatchSettingsError("engine", "The cluster 'nowhere' does not exist.")
"""


def _install_plugin(site: Path) -> None:
    site.mkdir()
    (site / "my_engines.py").write_text(example_engine_code() + CHECKING_OPEN)
    info = site / "my_engines-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: my-engines\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[kedro_pipelinename.batch_engines]\ninline = my_engines:InlineEngine\n"
        "checking_open = my_engines:CheckingOpenEngine\n"
    )


def _run_demo(tmp_path: Path, engine: str) -> tuple[DemoProject, str, int]:
    """``kedro run --runner ...BatchRunner`` on the demo with the plug-in
    installed and ``KEDRO_BATCH_ENGINE=engine``: the project, output, exit code."""
    project = write_demo_project(tmp_path / "client-models")
    site = tmp_path / "site"
    _install_plugin(site)
    result = kedro_cli(
        project.path,
        "run",
        *pipelines_option("client_1_train"),
        "--runner=kedro_pipelinename.batch.BatchRunner",
        env={
            "PYTHONPATH": str(site),
            "KEDRO_BATCH_ENGINE": engine,
            # The jobs' kedro: this interpreter's (the venv is not activated).
            "KEDRO_BATCH_EXECUTABLE": f"{sys.executable} -m kedro",
        },
        check=False,
    )
    return project, result.stdout + result.stderr, result.returncode


def test_a_plugin_engine_runs_a_named_pipeline_through_the_stock_cli(
    tmp_path: Path,
) -> None:
    project, output, code = _run_demo(tmp_path, "inline")

    assert code == 0, output
    # One job per node (the demo's `batch:` block says grouping: none).
    assert "inline processes: 4 job(s) planned." in output
    assert "0 running, 4 succeeded, 0 failed" in output
    assert read_outputs(project) == CLIENT_1_TRAIN_OUTPUTS


def test_kedro_batch_status_opens_a_plugin_engine(tmp_path: Path) -> None:
    project, output, code = _run_demo(tmp_path, "inline")

    status = kedro_cli(
        project.path,
        "batch",
        "status",
        env={"PYTHONPATH": str(tmp_path / "site")},
        check=False,
    )

    assert code == 0, output
    assert status.returncode == 0, status.stderr
    assert "inline processes" in status.stdout


def test_an_engine_without_check_has_no_separate_checks(tmp_path: Path) -> None:
    engine_class = _loaded(example_engine_code())["InlineEngine"]

    opened = engine_class.open(_run_of(tmp_path, "/nonexistent/kedro"), None)

    assert engine_problem(engine_class) is None
    assert engine_checks(opened) == []


def test_the_pages_check_lists_every_missing_program_at_once(tmp_path: Path) -> None:
    engine_class = _loaded(example_engine_code() + _example_blocks()[1])[
        "CheckedInlineEngine"
    ]
    run = _run_of(tmp_path, "/nonexistent/kedro", sys.executable, "no-such-kedro")

    opened = engine_class.open(run, None)  # checks nothing
    problems = [str(problem) for problem in engine_checks(opened)]

    assert engine_problem(engine_class) is None
    assert problems == [
        "No program '/nonexistent/kedro' on PATH.",
        "No program 'no-such-kedro' on PATH.",
    ]


def test_an_engine_whose_open_checks_still_stops_the_run_before_any_job(
    tmp_path: Path,
) -> None:
    project, output, code = _run_demo(tmp_path, "checking_open")

    assert code != 0
    assert "The cluster 'nowhere' does not exist." in output
    assert project.output_files() == []


def test_a_misspelt_plugin_engine_is_refused_with_the_installed_ones(
    tmp_path: Path,
) -> None:
    project, output, code = _run_demo(tmp_path, "inlin")

    assert code != 0
    assert "No batch engine 'inlin' (from the environment variable " in output
    assert (
        "Did you mean 'inline'? Installed: aws, checking_open, inline, local, slurm."
        in output
    )
    assert project.output_files() == []
