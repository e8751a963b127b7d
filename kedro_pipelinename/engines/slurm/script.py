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

A job array (``sbatch --array=0-<N-1>``) runs the same script with the array's
data file and a second argument, ``array``: each task then names its files
``<array name>.<array job id>_<index>.*`` (``%A_%a``), the id ``squeue``,
``scancel`` and ``sacct`` show for the task, so every child has its own output
and exit file.

The options go to ``sbatch`` as argv (no shell) and win over ``#SBATCH``
lines; the user's ``extra_directives`` are the script's ``#SBATCH`` lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from ...batch.kit import (
    ArraySubmission,
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
#: The script's second argument for the tasks of an array job.
ARRAY_ARGUMENT: Final = "array"


def run_comment(run_id: str) -> str:
    """The part of the comment that names the run (``run=<run id>``)."""
    return f"{COMMENT_PREFIX} run={run_id}"


def job_comment(run_id: str, pipelines: tuple[str, ...], name: str) -> str:
    """``kedro-pipelinename run=<run id> pipelines=<a,b> job=<name>`` (an
    array's name, for every task of an array job)."""
    return f"{run_comment(run_id)} pipelines={','.join(pipelines)} job={name}"


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


def array_key(job: PlannedJob, settings: SlurmBatchSettings) -> tuple[object, ...]:
    """What the members of one job array must share here: their resources (one
    ``sbatch`` sets them for every task)."""
    return tuple(
        sorted(
            (kind, str(value))
            for kind, value in merged_resources(job, settings).items()
        )
    )


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
# A task of an array is known as <array job id>_<index> (its SLURM_JOB_ID is a
# number no other command shows); a job by its id.
if [ "$kedro_pipelinename_array" = array ]; then
    job_key=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
else
    job_key=$SLURM_JOB_ID
fi
# Written whole, then renamed: a reader never sees half a number.
exit_file=${field[1]}$job_key.exit
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
        "kedro_pipelinename_array=${2-}",
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


def array_data(array: ArraySubmission, *, project_path: Path, files: JobFiles) -> bytes:
    """The data file every task of ``array`` reads: as ``job_data``, with the
    array's command and environment.

    Raises:
        BoundaryError: For a value no argv or environment can carry.
    """
    return job_script_data(
        directory=str(project_path),
        exit_prefix=str(files.log_dir / f"{array.name}."),
        argv=array.command,
        env=array.env,
    )


def write_private(path: Path, content: bytes, *, mode: int = 0o600) -> None:
    """Write ``content`` to ``path``, readable by its owner only (``mode``,
    whatever the umask), in a directory made 0700: a job's data file holds its
    environment, which may hold secrets."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    atomic_write(path, content, mode=mode)


def _common_arguments(
    name: str,
    *,
    comment: str,
    project_path: Path,
    files: JobFiles,
    output_id: str,
) -> list[str]:
    """The options every job and array gets; ``output_id`` is sbatch's pattern of
    the id in file names (``%j``; ``%A_%a`` for an array's tasks)."""
    return [
        f"--job-name={name}",
        f"--comment={comment}",
        f"--chdir={project_path}",
        f"--output={_pattern_safe(files.log_dir / name)}.{output_id}.out",
        f"--error={_pattern_safe(files.log_dir / name)}.{output_id}.err",
        # A parent that failed makes the dependency unsatisfiable: SLURM cancels
        # the job at once instead of leaving it PENDING (DependencyNeverSatisfied).
        "--kill-on-invalid-dep=yes",
    ]


def _resource_arguments(job: PlannedJob, settings: SlurmBatchSettings) -> list[str]:
    return [
        f"{RESOURCE_OPTIONS[name]}={value}"
        for name, value in sorted(merged_resources(job, settings).items())
    ]


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
    arguments = _common_arguments(
        job.name,
        comment=comment,
        project_path=project_path,
        files=files,
        output_id="%j",
    )
    if submission.depends_on:
        arguments.append(f"--dependency=afterok:{':'.join(submission.depends_on)}")
    arguments.extend(_resource_arguments(job, settings))
    # The script's one argument: its data file (sbatch passes it as $1).
    arguments.extend([str(files.script), str(files.data)])
    return arguments


def array_sbatch_arguments(
    array: ArraySubmission,
    *,
    comment: str,
    project_path: Path,
    files: JobFiles,
    settings: SlurmBatchSettings,
) -> list[str]:
    """``sbatch``'s options for a job array of ``len(array.jobs)`` tasks, then
    its script.

    The resources are those of ``array.jobs[0]``: the members of an array are
    the same job for different namespaces, with the same resources.
    ``depends_on`` becomes ``afterok`` (on an array's id: all of its tasks),
    ``pairs_with`` one ``aftercorr`` each (task *i* after task *i*), joined by
    ``,`` (all must hold).
    """
    if not array.jobs:
        raise ValueError(f"The array {array.name} has no jobs.")
    arguments = _common_arguments(
        array.name,
        comment=comment,
        project_path=project_path,
        files=files,
        output_id="%A_%a",
    )
    arguments.append(f"--array=0-{len(array.jobs) - 1}")
    dependencies = [f"aftercorr:{array_id}" for array_id in array.pairs_with]
    if array.depends_on:
        dependencies.insert(0, f"afterok:{':'.join(array.depends_on)}")
    if dependencies:
        arguments.append(f"--dependency={','.join(dependencies)}")
    arguments.extend(_resource_arguments(array.jobs[0], settings))
    # $1: the data file; $2: each task names its files <array id>_<index>.
    arguments.extend([str(files.script), str(files.data), ARRAY_ARGUMENT])
    return arguments
