"""``python -m kedro_pipelinename.demo [PATH] [--engine slurm|aws]``: the scenario,
job by job, locally (or as SLURM jobs on the cluster ``sbatch`` reaches, or as
AWS Batch jobs on the sandbox it starts on 127.0.0.1, docs/sandbox.md).

1. Writes the scenario project (``kedro_pipelinename.demo.project``) into ``PATH``,
   or a new temp dir.
2. Runs ``kedro run --pipelines client_1_train --runner
   kedro_pipelinename.batch.LocalBatchRunner`` there with the stock Kedro CLI of
   this interpreter: the runner prints the job plan, then progress (live on a
   terminal), one ``kedro run --pipelines client_1_train --nodes ...`` process
   per node, two at a time (the project's ``aws_batch:`` parameters).
3. Prints where the outputs and job logs are, and which process ran each node.

Works from any working directory; the exit code is the run's.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .project import DemoProject, write_demo_project

#: The pipeline the demo runs (``client_2_train`` is the same factory's twin).
DEMO_PIPELINE = "client_1_train"
RUNNER = "kedro_pipelinename.batch.LocalBatchRunner"
#: The runner and log directory of each engine the demo can run on.
RUNNERS = {
    "local": (RUNNER, "local_batch"),
    "slurm": ("kedro_pipelinename.batch.SlurmBatchRunner", "slurm_batch"),
    "aws": ("kedro_pipelinename.batch.AWSBatchRunner", "aws_batch"),
}
#: The queue and job definition of the project's ``aws_batch:`` block.
AWS_QUEUE = "client-models"
AWS_DEFINITION = "client-models:1"
#: The demo's run is stopped here at the latest (it takes seconds).
RUN_TIMEOUT_SECONDS = 300
#: How long a stopped driver gets to terminate its jobs (their grace is 5 s).
STOP_TIMEOUT_SECONDS = 30


def demo_command(pipeline: str = DEMO_PIPELINE, runner: str = RUNNER) -> list[str]:
    """The ``kedro run`` argv of the demo, for the installed Kedro's CLI.

    Args:
        pipeline: The registered pipeline to run.
        runner: The runner's import path.

    Returns:
        ``[python, -m, kedro, run, --pipelines=<pipeline>, --runner=...]``, with
        ``--pipeline`` on Kedro versions whose ``kedro run`` has no ``--pipelines``
        (before 1.2).

    Example:
        >>> demo_command()[-1]
        '--runner=kedro_pipelinename.batch.LocalBatchRunner'
    """
    from ..relaunch.selection import pipelines_arguments

    return [
        sys.executable,
        "-m",
        "kedro",
        "run",
        *pipelines_arguments((pipeline,)),
        f"--runner={runner}",
    ]


def _print(text: str = "") -> None:
    print(text, flush=True)


def _report(project: DemoProject, started: float, logs: str = "local_batch") -> None:
    outputs = [
        path for path in project.output_files() if path.stat().st_mtime >= started
    ]
    _print()
    _print(f"Outputs of {DEMO_PIPELINE} ({len(outputs)} file(s)):")
    for path in outputs:
        content = json.dumps(json.loads(path.read_text()))
        _print(f"  {path}" + (f"  {content}" if len(content) <= 60 else ""))
    records = []
    if project.node_runs_log.exists():
        records = [
            json.loads(line)
            for line in project.node_runs_log.read_text().splitlines()
            if line.strip()
        ]
    if records:
        run_ids = sorted({str(record["run_id"]) for record in records})
        processes = len({record["pid"] for record in records})
        _print()
        _print(
            f"{len(records)} node(s) ran in {processes} process(es), under run id "
            f"{', '.join(run_ids)}:"
        )
        for record in records:
            _print(
                f"  {record['node']:<20} pid {record['pid']:<8} "
                f"pipeline {record['pipeline']}"
            )
        for run_id in run_ids:
            log_dir = project.path / "logs" / logs / run_id
            if log_dir.is_dir():
                _print()
                _print(f"Job logs: {log_dir}")
    _print(f"Node records: {project.node_runs_log}")


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> int:
    """Run the driver (in ``env``, default this process's environment); on
    Ctrl-C or timeout, let it terminate its jobs first."""
    process = subprocess.Popen(command, cwd=cwd, env=env or os.environ.copy())
    try:
        return process.wait(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _print(f"The run did not finish within {RUN_TIMEOUT_SECONDS} s; stopping it.")
        process.send_signal(signal.SIGINT)
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the driver as well (same process group).
        _print("Interrupted: waiting for the driver to terminate its jobs.")
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Write the scenario project, run it job by job, and say where the outputs are.

    Args:
        argv: The command-line arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit code of the ``kedro run``.

    Example:
        >>> main(["/tmp/client-models"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(
        prog="python -m kedro_pipelinename.demo",
        description=(
            "Write the feature request's scenario project and run client_1_train "
            "job by job with LocalBatchRunner (--engine slurm: SlurmBatchRunner)."
        ),
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        help=(
            "Where to write the project, kept after the run (default: a temp dir, "
            "removed after the run unless --keep)."
        ),
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep the temp project (when no PATH is given).",
    )
    parser.add_argument(
        "--engine",
        choices=sorted(RUNNERS),
        default="local",
        help=(
            "Where the jobs run: local processes, SLURM (sbatch on PATH), or the "
            "AWS Batch sandbox (the [sandbox] extra)."
        ),
    )
    arguments = parser.parse_args(argv)
    runner, logs = RUNNERS[arguments.engine]
    temporary = arguments.path is None
    path = arguments.path or Path(tempfile.mkdtemp(prefix="kedro-pipelinename-demo-"))
    try:
        return _demo(path, runner, logs, parser, aws=arguments.engine == "aws")
    finally:
        if temporary and not arguments.keep:
            shutil.rmtree(path, ignore_errors=True)
            _print(
                f"\nRemoved the temp project {path} (give a PATH or --keep to keep it)."
            )


def _demo(
    path: Path,
    runner: str,
    logs: str,
    parser: argparse.ArgumentParser,
    *,
    aws: bool = False,
) -> int:
    try:
        project = write_demo_project(path)
    except ValueError as error:
        parser.error(str(error))  # exits with code 2
    # A re-run in the same PATH reports only its own records.
    project.node_runs_log.unlink(missing_ok=True)
    command = demo_command(runner=runner)
    _print(f"Demo project: {project.path}")
    _print(
        "  client_1_train, client_2_train: create_pipeline(namespace), namespaced; "
        "evaluation (= __default__): node names overlap the training ones"
    )
    _print('  catalog: one "{namespace}.{name}" factory of JSON files in data/')
    _print()
    _print(f"$ cd {shlex.quote(str(project.path))} && {shlex.join(command)}")
    _print()
    started = time.time()
    if aws:
        returncode = _run_on_sandbox(command, project, parser)
    else:
        returncode = _run(command, project.path)
    _report(project, started - 1, logs)  # mtime resolution: keep outputs of this run
    if returncode != 0:
        _print(f"The run failed (exit code {returncode}); see above.")
    return returncode


def _run_on_sandbox(
    command: list[str], project: DemoProject, parser: argparse.ArgumentParser
) -> int:
    """Start the AWS Batch sandbox in this process, run ``command`` against it,
    stop it (and every job it started)."""
    from ..sandbox.server import INSTALL_HINT, missing_modules
    from ..sandbox.session import running_sandbox

    missing = missing_modules()
    if missing:
        parser.error(
            f"--engine aws needs {', '.join(missing)} (the sandbox extra): "
            f"{INSTALL_HINT}"
        )
    with running_sandbox(
        project.path, job_queue=AWS_QUEUE, job_definition=AWS_DEFINITION
    ) as sandbox:
        _print(
            f"AWS Batch sandbox on {sandbox.resources.endpoint}: queue {AWS_QUEUE}, "
            f"job definition {AWS_DEFINITION}; each job runs as a local process "
            f"in the project. The run gets:"
        )
        _print("  " + "\n  ".join(sandbox.shell_lines()))
        _print()
        env = {**os.environ, **sandbox.environment()}
        # A profile or session token would replace the sandbox's credentials.
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        return _run(command, project.path, env)


if __name__ == "__main__":
    sys.exit(main())
