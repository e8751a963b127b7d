"""Batch runner settings never go through dataset factories.

A catch-all ``"{name}"`` factory in ``catalog.yml`` (common since Kedro 0.19) claims
every name the catalog is asked for, ``params:aws_batch`` included; the runners
read their settings from the run's parameters as the config loader gives them,
so a project with such a factory runs, with its settings block or without one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kedro_pipelinename.demo.project import DemoProject
from tests.support.cli import kedro_cli, pipelines_option
from tests.support.demo import CLIENT_1_TRAIN_OUTPUTS, read_outputs

pytestmark = pytest.mark.slow

CATCH_ALL = """
# A catch-all factory: every name no other entry or pattern claims.
"{name}":
  type: client_models.datasets.JSONFileDataset
  filepath: data/catch_all/{name}.json
"""

#: Every test process is bounded (seconds).
DEADLINE = 120


def _add_catch_all(project: DemoProject, *, settings_block: bool) -> None:
    catalog = project.path / "conf" / "base" / "catalog.yml"
    catalog.write_text(catalog.read_text() + CATCH_ALL)
    if not settings_block:
        parameters = project.path / "conf" / "base" / "parameters.yml"
        text = parameters.read_text()
        without = re.sub(r"(?m)^batch:\n(?:  .*\n)+", "", text)
        assert without != text, "the demo's parameters have no batch block"
        parameters.write_text(without)


def _job_logs(project: DemoProject) -> list[Path]:
    return sorted((project.path / "logs" / "local_batch").glob("*/*.log"))


@pytest.mark.parametrize("settings_block", [True, False], ids=["block", "no-block"])
def test_local_batch_runner_runs_with_a_catch_all_factory(
    demo_project: DemoProject, settings_block: bool
) -> None:
    _add_catch_all(demo_project, settings_block=settings_block)

    kedro_cli(
        demo_project.path,
        "run",
        *pipelines_option("client_1_train"),
        "--runner=kedro_pipelinename.batch.LocalBatchRunner",
        timeout=DEADLINE,
    )

    assert read_outputs(demo_project) == CLIENT_1_TRAIN_OUTPUTS
    # The block asks for one job per node; without it, the default groups the
    # namespace's nodes into one job.
    assert len(_job_logs(demo_project)) == (4 if settings_block else 1)
    assert not (demo_project.data_dir / "catch_all").exists()


@pytest.mark.parametrize("settings_block", [True, False], ids=["block", "no-block"])
def test_aws_batch_dry_run_works_with_a_catch_all_factory(
    demo_project: DemoProject, settings_block: bool, tmp_path: Path
) -> None:
    _add_catch_all(demo_project, settings_block=settings_block)
    plan_file = tmp_path / "plan.json"

    kedro_cli(
        demo_project.path,
        "run",
        *pipelines_option("client_1_train"),
        "--runner=kedro_pipelinename.batch.AWSBatchRunner",
        env={
            "KEDRO_BATCH_DRY_RUN": "true",
            "KEDRO_BATCH_PLAN_FILE": str(plan_file),
            "KEDRO_BATCH_JOB_QUEUE": "queue",
            "KEDRO_BATCH_JOB_DEFINITION": "definition",
            # Nothing listens on port 9: any AWS call would fail the run.
            "KEDRO_BATCH_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        timeout=DEADLINE,
    )

    plan = json.loads(plan_file.read_text())
    assert len(plan["jobs"]) == (4 if settings_block else 1)
    assert plan["pipeline_names"] == ["client_1_train"]
