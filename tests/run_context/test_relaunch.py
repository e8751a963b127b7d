"""End to end: runs split into ``kedro run`` processes behave as one run.

Every test runs the real ``kedro`` CLI of this interpreter in subprocesses, on the
``rcproj`` project of ``conftest.py``.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CLI_TIMEOUT_SECONDS, cli_env, run_command
from tests.support.rcproj import (
    PARAMS_OPTION,
    RUNTIME_PARAMS,
    kedro,
    kedro_env,
    load_version,
    node_runs,
    read_outputs,
    versions_of,
)

pytestmark = pytest.mark.slow

RUN_A = "2030-01-01T00.00.00.000Z"
RUN_B = "2030-01-02T00.00.00.000Z"  # later than RUN_A: Kedro's "latest"
RUN_ID = "KEDRO_PIPELINENAME_RUN_ID"


def test_relaunched_jobs_produce_the_outputs_of_one_plain_run(
    project: Path, plain_run_outputs: dict[str, Any]
) -> None:
    kedro(
        project,
        "run",
        "--env=staging",
        PARAMS_OPTION,
        "--runner=rcproj.runner.JobRunner",
    )

    assert read_outputs(project) == plain_run_outputs
    records = node_runs(project)
    assert [record["node"] for record in records] == [
        "clean",
        "fit",
        "score",
        "rep.summarise",
    ]
    # One process per node, all in the driver's run: one run id, one version.
    assert len({record["pid"] for record in records}) == len(records)
    (run_id,) = {record["context"]["run_id"] for record in records}
    for dataset in ("cleaned", "model", "metrics"):
        assert versions_of(project, dataset) == [run_id]
    for record in records:
        context = record["context"]
        assert context["pipeline_names"] == ["__default__"]
        assert context["env"] == "staging"
        assert context["runtime_params"] == RUNTIME_PARAMS
        assert context["node_names"] == [record["node"]]


def test_concurrent_runs_each_load_the_versions_they_saved(project: Path) -> None:
    # Runs A and B train with different labels (B's version is the later one,
    # Kedro's "latest"); then both scoring jobs run at the same time. Each must
    # score its own run's model: A's job must not read B's "latest" model.
    kedro(
        project,
        "run",
        "--nodes=clean,fit",
        "--params=model.label=a",
        env={RUN_ID: RUN_A},
    )
    kedro(
        project,
        "run",
        "--nodes=clean,fit",
        "--params=model.label=b",
        env={RUN_ID: RUN_B},
    )
    jobs = [
        subprocess.Popen(
            [sys.executable, "-m", "kedro", "run", "--nodes=score"],
            cwd=project,
            env=cli_env(kedro_env(**{RUN_ID: run_id})),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for run_id in (RUN_A, RUN_B)
    ]
    errors = [job.communicate(timeout=CLI_TIMEOUT_SECONDS)[1] for job in jobs]

    assert [job.returncode for job in jobs] == [0, 0], errors
    assert versions_of(project, "model") == [RUN_A, RUN_B]
    assert versions_of(project, "metrics") == [RUN_A, RUN_B]
    assert load_version(project, "metrics", RUN_A)["model_label"] == "a"
    assert load_version(project, "metrics", RUN_B)["model_label"] == "b"
    scoring_runs = [r["context"]["run_id"] for r in node_runs(project)[4:]]
    assert sorted(scoring_runs) == [RUN_A, RUN_B]


def test_a_retried_job_keeps_what_its_first_attempt_saved(project: Path) -> None:
    kedro(project, "run", "--nodes=clean,fit", env={"RC_ATTEMPT": "1", RUN_ID: RUN_A})
    first_model = load_version(project, "model", RUN_A)

    retry = kedro(
        project, "run", "--nodes=clean,fit", env={"RC_ATTEMPT": "2", RUN_ID: RUN_A}
    )

    assert retry.returncode == 0
    assert load_version(project, "model", RUN_A) == first_model
    assert first_model["attempt"] == "1"
    assert versions_of(project, "model") == [RUN_A]
    assert f"Not saving 'model': it was already saved at version {RUN_A}" in (
        retry.stderr
    )


def _resume_line(log: str) -> str:
    marker = "To resume this run with its pipelines, env, params and run id, run:"
    lines = log.splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith(marker))
    return lines[index + 1].strip()


def test_the_printed_resume_command_finishes_the_failed_run(
    project: Path, plain_run_outputs: dict[str, Any]
) -> None:
    failed = kedro(
        project,
        "run",
        "--env=staging",
        PARAMS_OPTION,
        check=False,
        env={"RC_FAIL_NODE": "score"},
    )
    assert failed.returncode != 0
    line = _resume_line(failed.stderr)
    (run_id,) = versions_of(project, "model")

    assert shlex.split(line)[:3] == [f"{RUN_ID}={run_id}", "kedro", "run"]
    assert "--from-nodes=score" in shlex.split(line)
    # Run exactly as printed, by a shell, with the failure gone.
    run_command(["bash", "-c", line], cwd=project, env=kedro_env())

    assert read_outputs(project) == plain_run_outputs
    assert versions_of(project, "metrics") == [run_id]
    assert [record["node"] for record in node_runs(project)] == [
        "clean",
        "fit",
        "score",
        "score",
        "rep.summarise",
    ]


def test_a_bad_run_id_variable_fails_the_run_naming_it(project: Path) -> None:
    result = kedro(project, "run", check=False, env={RUN_ID: "yesterday"})

    assert result.returncode != 0
    assert f"The environment variable {RUN_ID} is 'yesterday'" in (
        result.stdout + result.stderr
    )
    assert versions_of(project, "cleaned") == []
