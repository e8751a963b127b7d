"""The example engine of ``docs/writing-an-engine.md``, installed as a plug-in.

The page shows ``examples/kedro-batch-example-engine``'s engine module whole,
with its true size; the package is installed through its entry point and run
by the stock ``kedro run --runner kedro_pipelinename.batch.BatchRunner`` on the
demo project: a third-party engine needs nothing of this package but the entry
point. (The contract suite runs it in ``test_example_package.py``.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from kedro_pipelinename.batch.engine import (
    EngineRun,
    EngineSpec,
    JobState,
    JobStatus,
    engine_checks,
    engine_problem,
)
from kedro_pipelinename.batch.naming import JobNameRule
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.demo.project import DemoProject, write_demo_project
from tests.engines.example_package import EXAMPLE, install_example, site_of
from tests.support.cli import kedro_cli, pipelines_option
from tests.support.demo import CLIENT_1_TRAIN_OUTPUTS, read_outputs
from tests.support.modules import module_from_file

pytestmark = pytest.mark.slow

RUN_ID = "2026-12-01T10.00.00.000Z"
ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "writing-an-engine.md"
ENGINE_FILE = EXAMPLE / "src" / "kedro_batch_example_engine" / "engine.py"


def _example_block() -> str:
    """The first Python block after the example's heading."""
    text = DOC.read_text()
    section = text[text.index("## An example engine") :]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks, "docs/writing-an-engine.md has no example engine"
    return str(blocks[0])


def _example_module() -> ModuleType:
    return module_from_file("example_engine", ENGINE_FILE)


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


def test_the_page_shows_the_example_engine_file_whole() -> None:
    assert _example_block() == ENGINE_FILE.read_text()


def test_the_pages_numbers_are_what_its_commands_print() -> None:
    relative = ENGINE_FILE.relative_to(ROOT)
    lines = subprocess.run(
        ["wc", "-l", str(relative)], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()[0]
    methods = subprocess.run(
        ["grep", "-c", "^    def ", str(relative)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    text = DOC.read_text()

    assert f"{lines} lines (`wc -l {relative}`)" in text
    assert f"{methods} methods (`grep -c '^    def ' {relative}`)" in text


#: An engine written before ``Engine.check`` existed: its ``open`` checks its
#: resources and raises (here: always).
CHECKING_OPEN = """
from kedro_batch_example_engine import ExampleEngine
from kedro_pipelinename.batch import (
    BatchSettingsError, EngineSpec, JobNameRule, JobStatus,
)


class CheckingOpenEngine(ExampleEngine):
    spec = EngineSpec(
        name="checking_open",
        job_names=JobNameRule(max_length=64),
        statuses={"succeeded": JobStatus.SUCCEEDED, "failed": JobStatus.FAILED},
    )

    @classmethod
    def open(cls, run, settings):
        raise BatchSettingsError("engine", "The cluster 'nowhere' does not exist.")
"""


def _installed(tmp_path: Path) -> Mapping[str, str]:
    """The example package, and ``checking_open``, installed for a subprocess."""
    _, env = install_example(
        tmp_path, extra_engines={"checking_open": "checking_open:CheckingOpenEngine"}
    )
    (site_of(env) / "checking_open.py").write_text(CHECKING_OPEN)
    return env


def _run_demo(tmp_path: Path, engine: str) -> tuple[DemoProject, str, int, Any]:
    """``kedro run --runner ...BatchRunner`` on the demo with the plug-ins
    installed and ``KEDRO_BATCH_ENGINE=engine``: project, output, exit code, env."""
    project = write_demo_project(tmp_path / "client-models")
    env = _installed(tmp_path)
    result = kedro_cli(
        project.path,
        "run",
        *pipelines_option("client_1_train"),
        "--runner=kedro_pipelinename.batch.BatchRunner",
        env={
            **env,
            "KEDRO_BATCH_ENGINE": engine,
            # The jobs' kedro: this interpreter's (the venv is not activated).
            "KEDRO_BATCH_EXECUTABLE": f"{sys.executable} -m kedro",
        },
        check=False,
    )
    return project, result.stdout + result.stderr, result.returncode, env


def test_a_plugin_engine_runs_a_named_pipeline_through_the_stock_cli(
    tmp_path: Path,
) -> None:
    project, output, code, _ = _run_demo(tmp_path, "example")

    assert code == 0, output
    # One job per node (the demo's `batch:` block says grouping: none).
    assert "example background processes: 4 job(s) planned." in output
    assert "0 running, 4 succeeded, 0 failed" in output
    assert read_outputs(project) == CLIENT_1_TRAIN_OUTPUTS


def test_kedro_batch_status_opens_a_plugin_engine(tmp_path: Path) -> None:
    project, output, code, env = _run_demo(tmp_path, "example")

    status = kedro_cli(project.path, "batch", "status", env=env, check=False)

    assert code == 0, output
    assert status.returncode == 0, status.stderr
    assert "example background processes" in status.stdout


class DuckTypedEngine:
    """An engine that does not subclass ``EngineBase`` and has no ``check``."""

    spec: ClassVar[EngineSpec] = EngineSpec(
        name="duck",
        job_names=JobNameRule(max_length=64),
        statuses={"done": JobStatus.SUCCEEDED},
    )
    label = "duck"

    @classmethod
    def open(cls, run: EngineRun, settings: object) -> DuckTypedEngine:
        return cls()

    def submit(self, submission: object) -> str:
        return "1"

    def poll(self, job_ids: Sequence[str]) -> Mapping[str, JobState]:
        return {}

    def cancel(self, job_ids: Sequence[str], reason: str) -> None: ...
    def find_jobs(self) -> Mapping[str, JobState]:
        return {}

    def wait(self, seconds: float) -> None: ...
    def close(self) -> None: ...


def test_a_duck_typed_engine_without_check_is_an_engine_with_no_checks(
    tmp_path: Path,
) -> None:
    opened = DuckTypedEngine.open(_run_of(tmp_path, "/nonexistent/kedro"), None)

    assert engine_problem(DuckTypedEngine) is None
    assert engine_checks(opened) == []


def test_the_examples_check_lists_every_missing_program_at_once(
    tmp_path: Path,
) -> None:
    module = _example_module()
    run = _run_of(tmp_path, "/nonexistent/kedro", sys.executable, "no-such-kedro")

    opened = module.ExampleEngine.open(run, module.ExampleSettings())  # no checks
    problems = [str(problem) for problem in engine_checks(opened)]

    assert engine_problem(module.ExampleEngine) is None
    assert problems == [
        "No program '/nonexistent/kedro' on PATH.",
        "No program 'no-such-kedro' on PATH.",
    ]


def test_an_engine_whose_open_checks_still_stops_the_run_before_any_job(
    tmp_path: Path,
) -> None:
    project, output, code, _ = _run_demo(tmp_path, "checking_open")

    assert code != 0
    assert "The cluster 'nowhere' does not exist." in output
    assert project.output_files() == []


def test_a_misspelt_plugin_engine_is_refused_with_the_installed_ones(
    tmp_path: Path,
) -> None:
    project, output, code, _ = _run_demo(tmp_path, "exampel")

    assert code != 0
    assert "No batch engine 'exampel' (from the environment variable " in output
    assert (
        "Did you mean 'example'? Installed: aws, checking_open, example, local, "
        "slurm." in output
    )
    assert project.output_files() == []
