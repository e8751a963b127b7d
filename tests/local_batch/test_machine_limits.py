"""The local engine runs no more jobs at once than the machine holds (issue 22):
``max_parallel`` capped by CPUs, memory and the open-file limit with a warning,
and a machine that is full anyway gives one clear error and leaves no process."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from kedro_pipelinename.batch import BatchRunner
from kedro_pipelinename.engines.local.processes import machine_parallelism
from kedro_pipelinename.engines.local.runner import LocalBatchRunner
from tests.support.batch_project import PROJECT_DATASETS
from tests.support.cli import run_command
from tests.support.projects import write_project

RUNNER = "kedro_pipelinename.batch.LocalBatchRunner"


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"cpus": 2, "available_memory": 8000, "open_files": 1024}, (2, "2 CPUs")),
        (
            {"cpus": 64, "available_memory": 1100, "open_files": 1024},
            (10, "1100 MB of memory available"),
        ),
        (
            {"cpus": 64, "available_memory": 80000, "open_files": 128},
            (21, "an open-file limit of 128 (ulimit -n)"),
        ),
        ({"cpus": 64, "available_memory": 10, "open_files": 1024}, (1, "10 MB")),
    ],
)
def test_max_parallel_is_capped_by_the_scarcest_resource(
    resources: dict[str, int], expected: tuple[int, str]
) -> None:
    used, why = machine_parallelism(1000, job_memory=100, **resources)

    assert (used, str(why).startswith(expected[1])) == (expected[0], True)


def test_a_max_parallel_the_machine_holds_is_kept() -> None:
    used = machine_parallelism(
        2, job_memory=100, cpus=2, available_memory=8000, open_files=1024
    )

    assert used == (2, None)


def test_the_runner_warns_once_with_what_was_asked_and_what_is_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        settings = LocalBatchRunner(max_parallel=100_000).resolve_settings({}).settings

    assert settings.max_parallel is not None and settings.max_parallel < 100_000
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith(
        f"max_parallel=100000 asked; running at most {settings.max_parallel} job(s)"
    )


def test_the_generic_runner_on_the_local_engine_is_capped_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The cap belongs to the engine, not to LocalBatchRunner: `BatchRunner` with
    # `engine: local` runs the same processes on the same machine.
    with caplog.at_level(logging.WARNING):
        resolved = BatchRunner(engine="local", max_parallel=100_000).resolve_settings(
            {}
        )

    assert resolved.engine.spec.name == "local"
    assert resolved.settings.max_parallel is not None
    assert resolved.settings.max_parallel < 100_000
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "max_parallel=100000 asked"
    ]


WIDE_REGISTRY = """
from kedro.pipeline import Pipeline, node

from proj.nodes import copy


def register_pipelines():
    wide = Pipeline(
        [node(copy, "params:seed", f"out_{i}", name=f"n{i}") for i in range(150)]
    )
    return {"__default__": wide, "wide": wide}
"""


@pytest.mark.slow
def test_a_wide_run_under_a_low_open_file_limit_finishes(tmp_path: Path) -> None:
    # 150 independent jobs, max_parallel=1000, ulimit -n 128: before the cap the
    # driver started them all at once and died with "Too many open files".
    project = write_project(
        tmp_path / "proj",
        modules={"nodes": "def copy(x):\n    return x\n", "datasets": PROJECT_DATASETS},
        registry=WIDE_REGISTRY,
        catalog=(
            '"{name}":\n  type: proj.datasets.JSONFile\n  filepath: data/{name}.json\n'
        ),
        parameters=(
            "seed: 1\nbatch:\n  grouping: none\n  max_parallel: 1000\n"
            # Each job a cheap process that succeeds: what is measured is the
            # driver, not Kedro's start-up.
            '  executable: "true"\n'
        ),
    )
    script = f"ulimit -n 128 && exec {sys.executable} -m kedro run --runner={RUNNER}"

    result = run_command(
        ["bash", "-c", script],
        cwd=project,
        env={"COLUMNS": "1000"},
        check=False,
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "max_parallel=1000 asked; running at most" in output
    assert "Too many open files" not in output


FULL_MACHINE = """
import os, sys, time
from pathlib import Path
from kedro_pipelinename.batch.engine import Submission
from kedro_pipelinename.batch.errors import BatchError
from kedro_pipelinename.engines.local import LocalBatchEngine, LocalBatchSettings
from kedro_pipelinename.batch.plan import PlannedJob

root = Path(sys.argv[1])
engine = LocalBatchEngine(
    LocalBatchSettings(log_dir=str(root / "logs")), run_id="r", project_path=root
)
started = []
try:
    for index in range(200):
        job = PlannedJob(name=f"j{index}", group="g", namespace=None, nodes=["n"],
                         tags=[], depends_on=[], command=["sleep", "60"], env={})
        engine.submit(Submission(job=job))
        started.append(engine.process_group(job.name))
except BatchError as error:
    print("ERROR:", error)
finally:
    engine.cancel([f"j{index}" for index in range(len(started))], "test over")
    engine.close()
print("GROUPS:", " ".join(map(str, started)))
"""


def test_exhausting_file_descriptors_is_one_clear_error_and_leaves_no_job(
    tmp_path: Path,
) -> None:
    script = tmp_path / "full.py"
    script.write_text(FULL_MACHINE)

    result = subprocess.run(
        [
            "bash",
            "-c",
            'ulimit -n 48 && exec "$0" "$1" "$2"',
            sys.executable,
            str(script),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "Traceback" not in result.stderr, result.stderr
    error = next(
        line for line in result.stdout.splitlines() if line.startswith("ERROR")
    )
    assert "could not start: Too many open files" in error
    assert "Lower the batch setting max_parallel" in error
    groups = next(
        line for line in result.stdout.splitlines() if line.startswith("GROUPS")
    )
    alive = [
        group
        for group in map(int, groups.split()[1:])
        if subprocess.run(["pgrep", "-g", str(group)], capture_output=True).returncode
        == 0
    ]
    assert alive == []
