"""One job's batch script and ``sbatch`` options.

The script is a real file under the run's log directory (never ``--wrap``):
the preamble, then a fixed body that reads the job's data file (its ``$1``,
``<job>.data``: the project directory, the job's environment and its ``kedro
run`` argv as NUL-separated fields), runs the command and writes its exit code
into ``<job>.<job id>.exit``. No value of the plan or the user is in the
script's text, so none can be read as shell, and no secret of the job's
environment is in a script: the data file is 0600 in a 0700 directory. Only
the preamble is shell on purpose (``module load``, ``source
venv/bin/activate``). The data file has no size limit, unlike a script
(SLURM's ``max_script_size``, 4 MB by default).

The exit file is what tells how a job ended once SLURM forgot it (finished
jobs leave ``squeue`` ``MinJobAge`` seconds after they ended, and small
clusters have no ``sacct``): no exit file means it never got to record one
(cancelled, killed, its node failed), which is a failure.

The options go to ``sbatch`` as argv (no shell) and win over ``#SBATCH``
lines; the user's ``extra_directives`` are the script's ``#SBATCH`` lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from ...batch.kit import (
    PlannedJob,
    Submission,
    atomic_write,
    job_script_data,
    path_component,
    script_line,
)
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
        self.name = path_component(name, source="the job's name")

    @property
    def script(self) -> Path:
        return self.log_dir / f"{self.name}.sbatch"

    @property
    def data(self) -> Path:
        """What the script reads: the job's directory, environment, command."""
        return self.log_dir / f"{self.name}.data"

    def output(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.out"

    def error(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.err"

    def exit_file(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.exit"

    def record(self, job_id: str) -> Path:
        return self.log_dir / f"{self.name}.{job_id}.job"


#: The script of every job: no value of the user or the plan is in its text.
#: Its data file (``job_data``) is read with ``read -r -d ''`` (bash 2.04+;
#: ``mapfile -d`` needs 4.4, which CentOS 7's bash 4.2 lacks): NUL-separated
#: fields that carry each value byte for byte. ``env`` sets the
#: job's variables and runs its argv: a shell loop of ``export`` would let a
#: variable of the job overwrite the script's own (``field``, ``code``).
_JOB_BODY: Final = r"""field=()
while IFS= read -r -d '' value; do field+=("$value"); done \
    < "$kedro_pipelinename_data" || exit 1
cd -- "${field[0]}" || exit 1
env -- "${field[@]:3:field[2]}" "${field[@]:3+field[2]}"
code=$?
# Written whole, then renamed: a reader never sees half a number.
exit_file=${field[1]}$SLURM_JOB_ID.exit
printf '%s\n' "$code" > "$exit_file.tmp" && mv -f -- "$exit_file.tmp" "$exit_file"
exit "$code"
"""


def batch_script(settings: SlurmBatchSettings) -> str:
    """The text of every job's batch script (see the module doc): the
    settings' ``#SBATCH`` lines and preamble, then ``_JOB_BODY``, which reads
    the job's directory, environment and command from its data file."""
    lines = [
        "#!/bin/bash",
        "# A job of a Kedro run, written by kedro-pipelinename. Its directory,",
        "# environment and command are in the data file given as $1 (0600).",
        *(
            f"#SBATCH {script_line(directive, source='extra_directives')}"
            for directive in settings.extra_directives
        ),
        # Before the preamble, which may change the positional parameters.
        "kedro_pipelinename_data=$1",
        *(
            script_line(line, source="script_preamble")
            for line in settings.script_preamble
        ),
    ]
    return "\n".join(lines) + "\n" + _JOB_BODY


def job_data(job: PlannedJob, *, project_path: Path, files: JobFiles) -> bytes:
    """The data file of ``job``'s script: its directory, exit-file prefix,
    environment and command (``boundaries.job_script_data``).

    Raises:
        BoundaryError: For a value no argv or environment can carry.
    """
    return job_script_data(
        directory=str(project_path),
        exit_prefix=str(files.log_dir / f"{job.name}."),
        argv=job.command,
        env=job.env,
    )


def write_private(path: Path, content: bytes, *, mode: int = 0o600) -> None:
    """Write ``content`` to ``path``, readable by its owner only (``mode``,
    whatever the umask), in a directory made 0700: a job's data file holds its
    environment, which may hold secrets."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    atomic_write(path, content, mode=mode)


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
    # The script's one argument: its data file (sbatch passes it as $1).
    arguments.extend([str(files.script), str(files.data)])
    return arguments
