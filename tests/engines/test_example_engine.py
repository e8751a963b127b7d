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

import pytest

from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from support.cli import kedro_cli, pipelines_option
from support.demo import CLIENT_1_TRAIN_OUTPUTS, read_outputs

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-an-engine.md"


def example_engine_code() -> str:
    """The first Python block after the example's heading."""
    text = DOC.read_text()
    section = text[text.index("## An example engine") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "docs/writing-an-engine.md has no example engine"
    return match.group(1)


def test_the_page_says_how_long_the_example_is() -> None:
    lines = len(example_engine_code().splitlines())

    assert f"## An example engine: {lines} lines" in DOC.read_text()


def _install_plugin(site: Path) -> None:
    site.mkdir()
    (site / "my_engines.py").write_text(example_engine_code())
    info = site / "my_engines-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: my-engines\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[kedro_pipelinename.batch_engines]\ninline = my_engines:InlineEngine\n"
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


def test_a_misspelt_plugin_engine_is_refused_with_the_installed_ones(
    tmp_path: Path,
) -> None:
    project, output, code = _run_demo(tmp_path, "inlin")

    assert code != 0
    assert "No batch engine 'inlin' (from the environment variable " in output
    assert "Did you mean 'inline'? Installed: aws, inline, local, slurm." in output
    assert project.output_files() == []
