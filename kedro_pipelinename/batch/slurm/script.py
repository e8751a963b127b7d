"""One job's batch script and ``sbatch`` options.

The script is a real file under the run's log directory (never ``--wrap``):
the preamble, ``cd`` to the project, the job's environment, its ``kedro run``
command, then the exit code into ``<job>.<job id>.exit``. Every value that
comes from the plan or the settings is quoted with ``shlex``; only the
preamble is shell on purpose (``module load``, ``source venv/bin/activate``).

The exit file is what tells how a job ended once SLURM forgot it (finished
jobs leave ``squeue`` ``MinJobAge`` seconds after they ended, and small
clusters have no ``sacct``): no exit file means it never got to record one
(cancelled, killed, its node failed), which is a failure.

The options go to ``sbatch`` as argv (no shell) and win over ``#SBATCH``
lines; the user's ``extra_directives`` are the script's ``#SBATCH`` lines.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Final

from ..engine import Submission
from ..plan import PlannedJob
from .settings import RESOURCE_OPTIONS, SlurmBatchSettings

#: The comment every job of a run carries: how a later driver finds them.
COMMENT_PREFIX: Final = "kedro-pipelinename"


def run_comment(run_id: str) -> str:
    """The part of the comment that names the run (``run=<run id>``)."""
    return f"{COMMENT_PREFIX} run={run_id}"


def job_comment(run_id: str, pipelines: tuple[str, ...], job: PlannedJob) -> str:
    """``kedro-pipelinename run=<run id> pipelines=<a,b> job=<name>``."""
    return f"{run_comment(run_id)} pipelines={','.join(pipelines)} job={job.name}"


def name_in_comment(comment: str | None, run_id: str) -> str | None:
    """The job name a comment of run ``run_id`` records, else ``None``."""
    if not comment:
        return None
    words = comment.split(" ")
    if " ".join(words[:2]) != run_comment(run_id):
        return None
    for word in words[2:]:
        if word.startswith("job="):
            return word[len("job=") :]
    return None


def merged_resources(job: PlannedJob, settings: SlurmBatchSettings) -> dict[str, Any]:
    """The defaults, then the job's namespace's, then each of its tags' (sorted):
    ``PlannedJob.layered``."""
    return job.layered(
        settings.resources(), settings.resources_by_namespace, settings.resources_by_tag
    )


def _pattern_safe(path: Path) -> str:
    """``path`` for sbatch's ``--output``, where ``%`` starts a pattern."""
    return str(path).replace("%", "%%")


class JobFiles:
    """Where one job's files are, under the run's log directory."""

    def __init__(self, log_dir: Path, name: str) -> None:
        self.log_dir = log_dir
        self.name = name

    @property
    def script(self) -> Path:
        return self.log_dir / f"{self.name}.sbatch"

    def output(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.out"

    def error(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.err"

    def exit_file(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.exit"

    def record(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.job"


def batch_script(
    job: PlannedJob,
    *,
    run_id: str,
    project_path: Path,
    files: JobFiles,
    settings: SlurmBatchSettings,
) -> str:
    """The text of ``job``'s batch script (see the module doc)."""
    exit_prefix = shlex.quote(str(files.log_dir / f"{job.name}."))
    lines = [
        "#!/bin/bash",
        f"# Job {job.name} of Kedro run {run_id}, written by kedro-pipelinename.",
        f"# Nodes: {', '.join(job.nodes)}",
        *(f"#SBATCH {directive}" for directive in settings.extra_directives),
        *settings.script_preamble,
        f"cd {shlex.quote(str(project_path))} || exit 1",
        *(
            f"export {name}={shlex.quote(value)}"
            for name, value in sorted(job.env.items())
        ),
        shlex.join(job.command),
        "code=$?",
        # Written whole, then renamed: a reader never sees half a number.
        f'exit_file={exit_prefix}"$SLURM_JOB_ID".exit',
        'printf \'%s\\n\' "$code" > "$exit_file.tmp" && mv -f "$exit_file.tmp" '
        '"$exit_file"',
        'exit "$code"',
        "",
    ]
    return "\n".join(lines)


def sbatch_arguments(
    submission: Submission,
    *,
    comment: str,
    project_path: Path,
    files: JobFiles,
    settings: SlurmBatchSettings,
) -> list[str]:
    """``sbatch``'s options for one job, then its script."""
    job = submission.job
    arguments = [
        f"--job-name={job.name}",
        f"--comment={comment}",
        f"--chdir={project_path}",
        f"--output={_pattern_safe(files.log_dir / job.name)}.%j.out",
        f"--error={_pattern_safe(files.log_dir / job.name)}.%j.err",
        # A parent that failed makes the dependency unsatisfiable: SLURM cancels
        # the job at once instead of leaving it PENDING (DependencyNeverSatisfied).
        "--kill-on-invalid-dep=yes",
    ]
    if submission.depends_on:
        arguments.append(f"--dependency=afterok:{':'.join(submission.depends_on)}")
    for name, value in sorted(merged_resources(job, settings).items()):
        arguments.append(f"{RESOURCE_OPTIONS[name]}={value}")
    arguments.append(str(files.script))
    return arguments
