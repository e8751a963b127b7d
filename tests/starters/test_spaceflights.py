"""Kedro's own spaceflights-pandas starter, unchanged, on the batch engines.

The project is made by ``kedro new`` from the copy of the starter in
``../shared/kedro-starters`` (offline), run once with plain ``kedro run`` and once
job by job (local processes, the SLURM cluster, the AWS Batch sandbox), and
every output compared. Nothing of the starter is edited, not even
``settings.py``: the runner's import installs the patch.

Needs the starter's own requirements (kedro-datasets' pandas, plotly and
matplotlib datasets, scikit-learn, seaborn): CI's ``starters`` nox session
installs them; elsewhere the tests are skipped, saying what is missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import pytest

from kedro_pipelinename.sandbox.session import running_sandbox
from tests.support.cli import kedro_cli, pipelines_option
from tests.support.slurm import SlurmCluster, slurm_cluster

STARTER = Path(__file__).resolve().parents[3] / "shared" / "kedro-starters"
NEEDED = ("kedro_datasets", "pandas", "sklearn", "plotly", "matplotlib", "openpyxl")
MISSING = [name for name in NEEDED if importlib.util.find_spec(name) is None]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING) or not (STARTER / "spaceflights-pandas").is_dir(),
        reason=(
            f"the starter's requirements are not installed ({', '.join(MISSING)}) "
            f"or {STARTER} is missing: nox -s starters"
        ),
    ),
]


def _project(parent: Path) -> Path:
    config = parent / "config.yml"
    config.write_text(
        f"output_dir: {parent}\n"
        "project_name: Spaceflights\n"
        "repo_name: spaceflights\n"
        "python_package: spaceflights\n"
    )
    kedro_cli(
        parent,
        "new",
        f"--starter={STARTER / 'spaceflights-pandas'}",
        f"--config={config}",
    )
    return parent / "spaceflights"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("starter"))


def _outputs(project: Path) -> dict[str, str]:
    """Every file under data/ but the raw inputs: path (version folders as
    ``<version>``) -> content hash."""
    data = project / "data"
    found = {}
    for path in sorted(data.rglob("*")):
        relative = path.relative_to(data)
        if (
            not path.is_file()
            or relative.parts[0] == "01_raw"
            or path.name == ".gitkeep"
        ):
            continue
        parts = list(relative.parts)
        if len(parts) >= 3 and path.parent.parent.name == path.name:  # versioned
            parts[-2] = "<version>"
        found["/".join(parts)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _versions(project: Path) -> set[str]:
    return {
        path.parent.name
        for path in (project / "data").rglob("*")
        if path.is_file() and path.parent.parent.name == path.name
    }


@pytest.mark.parametrize("grouping", ["namespace", "none"])
def test_the_starter_runs_unchanged_job_by_job_with_a_plain_runs_outputs(
    made: Path, tmp_path: Path, grouping: str
) -> None:
    plain = shutil.copytree(made, tmp_path / "plain")
    batch = shutil.copytree(made, tmp_path / "batch")

    kedro_cli(plain, "run")
    result = kedro_cli(
        batch,
        "run",
        "--runner",
        "kedro_pipelinename.batch.LocalBatchRunner",
        env={"KEDRO_BATCH_GROUPING": grouping, "COLUMNS": "1000"},
    )

    output = result.stdout + result.stderr
    # split_data_node and the two model nodes share X_train, y_train, X_test,
    # y_test in memory: one job; pre-flight refused the plan before.
    assert "Pre-flight" not in output
    assert _outputs(batch) == _outputs(plain)
    assert len(_versions(batch)) == 1  # every versioned output: one save version


@pytest.mark.slurm
def test_the_starter_runs_unchanged_on_the_slurm_cluster(
    made: Path, tmp_path: Path, slurm_cluster: SlurmCluster
) -> None:
    plain = shutil.copytree(made, tmp_path / "plain")
    batch = shutil.copytree(made, tmp_path / "batch")

    kedro_cli(plain, "run")
    kedro_cli(
        batch,
        "run",
        "--runner",
        "kedro_pipelinename.batch.SlurmBatchRunner",
        env={"COLUMNS": "1000", "KEDRO_BATCH_POLL_INTERVAL": "0.2"},
    )

    assert _outputs(batch) == _outputs(plain)
    assert len(_versions(batch)) == 1


def test_the_starter_runs_unchanged_on_the_aws_batch_sandbox(
    made: Path, tmp_path: Path
) -> None:
    plain = shutil.copytree(made, tmp_path / "plain")
    batch = shutil.copytree(made, tmp_path / "batch")

    kedro_cli(plain, "run")
    # The starter has no aws_batch: block; the variables name the queue and
    # definition the sandbox creates (docs/sandbox.md).
    with running_sandbox(
        batch, job_queue="spaceflights", job_definition="spaceflights:1"
    ) as sandbox:
        result = kedro_cli(
            batch,
            "run",
            "--runner",
            "kedro_pipelinename.batch.AWSBatchRunner",
            env={
                **sandbox.environment(),
                "KEDRO_BATCH_JOB_QUEUE": "spaceflights",
                "KEDRO_BATCH_JOB_DEFINITION": "spaceflights:1",
                "KEDRO_BATCH_POLL_INTERVAL": "0.2",
                "KEDRO_BATCH_MAX_POLL_INTERVAL": "1",
                "COLUMNS": "1000",
            },
            timeout=300,
        )

    assert "0 failed" in result.stdout + result.stderr
    assert _outputs(batch) == _outputs(plain)
    assert len(_versions(batch)) == 1


def test_one_registered_pipeline_runs_job_by_job_too(
    made: Path, tmp_path: Path
) -> None:
    plain = shutil.copytree(made, tmp_path / "plain")
    batch = shutil.copytree(made, tmp_path / "batch")
    for project in (plain, batch):
        kedro_cli(project, "run", *pipelines_option("data_processing"))

    kedro_cli(plain, "run", *pipelines_option("data_science"))
    kedro_cli(
        batch,
        "run",
        *pipelines_option("data_science"),
        "--runner",
        "kedro_pipelinename.batch.LocalBatchRunner",
    )

    assert _outputs(batch) == _outputs(plain)


__all__ = ["slurm_cluster"]  # the fixture, for this module's SLURM case
