"""``python -m kedro_pipelinename.demo --engine aws``: the scenario on the sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import DemoProject
from tests.support.cli import run_command
from tests.support.demo import CLIENT_1_TRAIN_OUTPUTS, read_outputs

pytestmark = pytest.mark.slow


def test_the_demo_runs_on_the_sandbox_with_the_local_engines_outputs(
    tmp_path: Path,
) -> None:
    target = tmp_path / "demo"

    result = run_command(
        [
            sys.executable,
            "-m",
            "kedro_pipelinename.demo",
            str(target),
            "--engine",
            "aws",
        ],
        cwd=tmp_path,
        env={"COLUMNS": "1000"},
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert read_outputs(DemoProject(path=target.resolve())) == CLIENT_1_TRAIN_OUTPUTS
    assert "AWS Batch sandbox on http://127.0.0.1:" in output
    assert "--runner=kedro_pipelinename.batch.AWSBatchRunner" in output
    assert "4 node(s) ran in 4 process(es), under run id" in output
