"""``kedro batch child``: what every child of an array job runs, in a real
project through the real ``kedro`` CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kedro_pipelinename.batch.arrays import ArraySpec, fingerprint
from tests.support.batch_project import write_batch_project
from tests.support.cli import kedro_cli, pipelines_option

TEMPLATE = ("prepare", "fit")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_batch_project(tmp_path_factory.mktemp("child"))


def _child(project: Path, spec: ArraySpec, env: dict[str, str]) -> tuple[int, str]:
    run = [sys.executable, "-m", "kedro", "run", *pipelines_option("train")]
    result = kedro_cli(
        project,
        "batch",
        "child",
        f"--array={spec.to_argument()}",
        "--index-from=TEST_ARRAY_INDEX",
        "--",
        *run,
        env=env,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def _spec(namespaces: list[str]) -> ArraySpec:
    run_length = 4 + len(pipelines_option("train"))
    return ArraySpec(
        pipelines=("train",),
        template=TEMPLATE,
        offset=0,
        count=len(namespaces),
        nodes_at=run_length,
        fingerprint=fingerprint(("train",), TEMPLATE, namespaces),
    )


def test_a_child_runs_the_nodes_of_its_own_namespace_only(project: Path) -> None:
    spec = _spec(["client_1", "client_2"])

    code, output = _child(project, spec, {"TEST_ARRAY_INDEX": "1"})

    assert code == 0, output
    assert "Child 1 of the array runs client_2.prepare, client_2.fit." in output
    assert (project / "data" / "client_2" / "metrics.json").exists()
    assert not (project / "data" / "client_1" / "metrics.json").exists()


def test_a_child_of_a_changed_project_refuses_to_run(project: Path) -> None:
    # Planned with a third client the project here does not have.
    spec = _spec(["client_0", "client_1", "client_2"])

    code, output = _child(project, spec, {"TEST_ARRAY_INDEX": "0"})

    assert code == 1
    assert spec.fingerprint in output
    assert "The image or the project changed" in " ".join(output.split())
    assert not (project / "data" / "client_1" / "metrics.json").exists()


def test_a_child_without_its_index_says_what_sets_it(project: Path) -> None:
    code, output = _child(project, _spec(["client_1", "client_2"]), {})

    assert code == 1
    assert "TEST_ARRAY_INDEX is not set" in " ".join(output.split())
