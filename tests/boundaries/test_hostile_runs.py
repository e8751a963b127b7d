"""Hostile and huge values through ``kedro run`` with a batch runner: each is
refused in pre-flight, naming it, before any job starts (issue 22)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.batch_project import PROJECT_DATASETS
from tests.support.cli import kedro_cli, pipelines_option
from tests.support.projects import write_project

pytestmark = pytest.mark.slow

RUNNER = "kedro_pipelinename.batch.LocalBatchRunner"
DEADLINE = 120

NODES = """
def copy(value):
    return value
"""

#: One pipeline ``train`` whose namespace comes from ``NAMESPACE`` (as a factory
#: of client pipelines takes client ids from data) and has ``COUNT`` nodes.
REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from proj.nodes import copy

NAMESPACE = {namespace!r}
COUNT = {count}
LENGTH = {length}


def register_pipelines():
    nodes = [
        node(copy, "params:seed" if i == 0 else f"d{{i - 1}}", f"d{{i}}",
             name=f"n{{i}}_" + "x" * LENGTH)
        for i in range(COUNT)
    ]
    train = pipeline(nodes, namespace=NAMESPACE, parameters={{"seed"}})
    return {{"__default__": train, "train": train}}
"""

CATALOG = """
"{namespace}.{name}":
  type: proj.datasets.JSONFile
  filepath: data/{namespace}/{name}.json
"""


def _project(
    root: Path, namespace: str, *, count: int = 2, length: int = 1, parameters: str = ""
) -> Path:
    project = write_project(
        root,
        modules={"nodes": NODES, "datasets": PROJECT_DATASETS},
        registry=REGISTRY.format(namespace=namespace, count=count, length=length),
        catalog=CATALOG,
        parameters="seed: 1\n" + parameters,
    )
    return project


def _run(project: Path) -> str:
    result = kedro_cli(
        project,
        "run",
        *pipelines_option("train"),
        f"--runner={RUNNER}",
        env={"COLUMNS": "1000"},
        check=False,
        timeout=DEADLINE,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_a_namespace_with_a_newline_is_refused_naming_pipeline_and_namespace(
    tmp_path: Path,
) -> None:
    namespace = "nl\ntouch injected\n#"
    project = _project(tmp_path / "proj", namespace)
    marker = project / "injected"  # jobs run in the project directory

    output = _run(project)

    expected = f"Namespace {namespace!r} from pipeline 'train'"
    # Rich wraps the error at the terminal's width: compare words.
    assert "".join(expected.split()) in "".join(output.split())
    assert "control character '\\n'" in output
    assert not (project / "logs" / "local_batch").exists()
    assert not marker.exists()


def test_a_nul_in_extra_env_is_refused_naming_the_setting(tmp_path: Path) -> None:
    parameters = 'batch:\n  extra_env:\n    API_TOKEN: "a\\0b"\n'
    project = _project(tmp_path / "proj", "client", parameters=parameters)

    output = _run(project)

    assert "the batch setting 'extra_env'" in output
    assert "API_TOKEN" in output
    assert "NUL" in output
    assert "nothing was submitted" in output
    assert not (project / "logs" / "local_batch").exists()


def test_a_job_whose_node_list_is_too_long_for_one_argument_is_refused(
    tmp_path: Path,
) -> None:
    # 500 names of ~310 bytes: --nodes=... is over Linux's 128 KiB per argument.
    project = _project(tmp_path / "proj", "client", count=500, length=300)

    output = _run(project)

    assert "131072 bytes (MAX_ARG_STRLEN)" in output
    assert "grouping: none" in output
    assert "nothing was submitted" in output
    assert not (project / "logs" / "local_batch").exists()


def test_a_job_whose_environment_is_over_arg_max_is_refused(tmp_path: Path) -> None:
    # 24 variables of 100 KB: each fits one argument, together over ARG_MAX.
    extra_env = {f"BIG_{index}": "v" * 100_000 for index in range(24)}
    parameters = "batch:\n  extra_env: " + json.dumps(extra_env) + "\n"
    project = _project(tmp_path / "proj", "client", parameters=parameters)

    output = _run(project)

    assert "(ARG_MAX" in output
    assert "Split it" in output
    assert "nothing was submitted" in output
    assert not (project / "logs" / "local_batch").exists()
