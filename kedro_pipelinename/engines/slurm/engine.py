"""The SLURM engine: every job of the plan a SLURM batch job.

The whole DAG is submitted up front: one ``sbatch`` per job, naming its
unfinished parents in ``--dependency=afterok:<ids>``, so SLURM starts a job the
moment its parents succeeded and cancels it (``--kill-on-invalid-dep=yes``)
the moment one failed, whatever the driver does. What it keeps to:

- **One squeue per poll round** for all of the run's unfinished jobs
  (``squeue --states=all --jobs=<ids>``, 1,000 ids per call), never a call
  per job. A job SLURM no longer shows (``MinJobAge`` after it ended) is asked
  of ``sacct`` where accounting answers, else read from its exit file (see
  ``script.py``); with neither, it failed: it is never assumed successful.
- **Found again by run id.** Every job's comment is ``kedro-pipelinename
  run=<run id> pipelines=<names> job=<name>``, and every submission leaves
  ``<job>.<id>.job`` in the run's log directory. ``find_jobs`` reads both (the
  comment finds a job whose record a killed driver never wrote; the records
  find jobs SLURM forgot), keeping the jobs whose output is in this run's log
  directory: the same run id in another project is another run.
- **Uniform fan-outs as job arrays** (``submit_array``): one ``sbatch
  --array=0-<N-1>`` with the script of a plain job; task *i* finds its job from
  ``SLURM_ARRAY_TASK_ID``, waits on whole arrays or jobs with ``afterok`` and on
  task *i* of a paired array with ``aftercorr``. Each task is a job of its own
  for ``poll``, ``cancel`` and ``find_jobs``: ``<array id>_<i>``, with its own
  output and exit file (``find_jobs`` names it ``<array name>[i]``). The cluster's
  ``MaxArraySize`` (``scontrol show config``) bounds an array.
- **No SLURM settings needed**: the default partition and resources, the
  commands on ``PATH``. Settings that are given are checked before anything is
  submitted: their form by ``SlurmBatchSettings``, and what only the cluster
  knows (a partition, account or QOS that does not exist) by ``sbatch
  --test-only``, once per distinct set of resources of the plan.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, Final

from ...batch.kit import (
    ArrayIds,
    ArraySubmission,
    BatchSettingsError,
    EngineBase,
    EngineRun,
    EngineSpec,
    JobNameRule,
    JobPlan,
    JobState,
    JobStatus,
    PlannedJob,
    Submission,
    array_child_name,
    logger_for,
    path_component,
    plan_text,
    where_to_set,
)
from .commands import (
    BLOCKS,
    QueueRow,
    SlurmCommands,
    array_of,
    id_order,
    is_job_id,
    task_id,
    task_index,
)
from .script import (
    JobFiles,
    array_data,
    array_key,
    array_sbatch_arguments,
    batch_script,
    job_comment,
    job_data,
    merged_resources,
    name_in_comment,
    sbatch_arguments,
    write_private,
)
from .settings import RESOURCE_OPTIONS, SlurmBatchSettings

logger = logger_for(__name__)

#: SLURM has no documented limit on ``afterok`` ids; 100 keeps each job's
#: dependency test in slurmctld (and the argv) small. A larger fan-in waits in
#: the driver until enough parents succeeded.
MAX_DEPENDENCIES: Final = 100
#: The parameters block of the engine's own settings.
PARAMETERS_BLOCK: Final = "slurm_batch"
#: SLURM's reason for a job whose parents are unfinished, and for one cancelled
#: because a parent failed.
_WAITS_FOR_PARENTS: Final = "Dependency"
_PARENT_FAILED: Final = "DependencyNeverSatisfied"
#: States of a job whose processes may still run (after scancel: until they end).
_ENDING: Final = frozenset(
    {"CONFIGURING", "RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "SUSPENDED"}
)
#: ``sbatch`` processes the driver runs at once: slurmctld serves each RPC in a
#: thread of its own, and each sbatch spends most of its ~10 ms starting up and
#: waiting for the controller; 8 keep a 2-core machine busy without flooding
#: the controller (the ``submit_concurrency`` setting may lower it).
SUBMIT_CONCURRENCY: Final = 8
#: Seconds between two looks while cancelled jobs end.
SETTLE_INTERVAL: Final = 0.2

#: What the SLURM engine declares (see ``engine.py`` of the batch core).
SPEC: Final = EngineSpec(
    name="slurm",
    settings=SlurmBatchSettings,
    max_parents=MAX_DEPENDENCIES,
    # Names become file names (<job>.<id>.out): letters, digits, '-', '_'.
    # SLURM allows longer names; squeue's default columns show 8 characters.
    job_names=JobNameRule(max_length=128, characters="A-Za-z0-9_-"),
    statuses={
        # A PENDING job waiting for its parents is reported as pending (see
        # _status); any other PENDING job waits for resources.
        "PENDING": JobStatus.QUEUED,
        "REQUEUED": JobStatus.QUEUED,
        "REQUEUE_HOLD": JobStatus.QUEUED,
        "REQUEUE_FED": JobStatus.QUEUED,
        "RESV_DEL_HOLD": JobStatus.QUEUED,
        "CONFIGURING": JobStatus.STARTING,
        "RUNNING": JobStatus.RUNNING,
        "COMPLETING": JobStatus.RUNNING,
        "SUSPENDED": JobStatus.RUNNING,
        "STOPPED": JobStatus.RUNNING,
        "SIGNALING": JobStatus.RUNNING,
        "RESIZING": JobStatus.RUNNING,
        "STAGE_OUT": JobStatus.RUNNING,
        "COMPLETED": JobStatus.SUCCEEDED,
        "FAILED": JobStatus.FAILED,
        "CANCELLED": JobStatus.FAILED,
        "TIMEOUT": JobStatus.FAILED,
        "NODE_FAIL": JobStatus.FAILED,
        "PREEMPTED": JobStatus.FAILED,
        "BOOT_FAIL": JobStatus.FAILED,
        "DEADLINE": JobStatus.FAILED,
        "OUT_OF_MEMORY": JobStatus.FAILED,
        "SPECIAL_EXIT": JobStatus.FAILED,
        "REVOKED": JobStatus.FAILED,
    },
    parameters_block=PARAMETERS_BLOCK,
    submit_concurrency=SUBMIT_CONCURRENCY,
    array_index_variable="SLURM_ARRAY_TASK_ID",
    setting_defaults={
        # The driver's interpreter: on a cluster the project and its virtualenv
        # are on a file system every node shares, and sbatch passes the
        # driver's environment (PATH, ...) on to the job.
        # (The local engine's default too; not imported: engines import only
        # the core, docs/architecture.md.)
        "executable": shlex.join([sys.executable, "-m", "kedro"]),
        # SLURM's main scheduler starts jobs once a second at best.
        "poll_interval": 1.0,
        "max_poll_interval": 5.0,
    },
)


def _status(row: QueueRow) -> JobStatus:
    if row.state == "PENDING" and row.reason == _WAITS_FOR_PARENTS:
        return JobStatus.PENDING
    return SPEC.status(row.state)


def _recorded_exit(path: Path) -> int | None:
    """The exit code the job script wrote, or ``None`` if it wrote none."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _tail(path: Path, lines: int) -> list[str]:
    try:
        with path.open(errors="replace") as output:
            return list(
                deque((line.rstrip() for line in output if line.strip()), lines)
            )
    except OSError:
        return []


class SlurmBatchEngine(EngineBase[SlurmBatchSettings]):
    """Submits, tracks and cancels the jobs of one run on a SLURM cluster.

    Args:
        settings: The SLURM settings.
        run: The run (its plan, shared settings and project directory).
        commands: Runs SLURM's commands; default from ``settings.bin_dir``.

    Example:
        >>> engine = SlurmBatchEngine.open(run, SlurmBatchSettings())  # doctest: +SKIP
        >>> job_id = engine.submit(Submission(job=planned_job))  # doctest: +SKIP
    """

    spec: ClassVar[EngineSpec] = SPEC
    # wait and close: EngineBase's (SLURM has no change notification, and every
    # call is a finished subprocess: nothing to release).

    def __init__(
        self,
        settings: SlurmBatchSettings,
        run: EngineRun,
        *,
        commands: SlurmCommands | None = None,
    ) -> None:
        self.settings = settings
        self.run_id = run.run_id
        self._plan = run.plan
        self._project_path = run.project_path.resolve()
        self._commands = commands or SlurmCommands(settings.bin_dir)
        log_dir = Path(settings.log_dir or "logs/slurm_batch")
        if not log_dir.is_absolute():
            log_dir = self._project_path / log_dir
        self.log_dir = log_dir / path_component(run.run_id, source="the run id")
        self.label = (
            f"SLURM partition {settings.partition}"
            if settings.partition
            else "SLURM (default partition)"
        )
        #: SLURM job id -> job name, of every job submitted or found (an array
        #: task's: the name of the member job it runs).
        self._names: dict[str, str] = {}
        #: SLURM job id -> the name its files go by, where it is not the job's
        #: name: an array task's files are its array's (``<array>.<id>_<i>.out``).
        self._file_names: dict[str, str] = {}
        #: The cluster's MaxArraySize, once read.
        self._max_array_size: int | None = None

    @classmethod
    def open(cls, run: EngineRun, settings: SlurmBatchSettings) -> SlurmBatchEngine:
        """An engine for ``run``; no SLURM command runs, no file is written (see
        ``check``)."""
        return cls(settings, run)

    def check(self) -> list[BatchSettingsError]:
        """The run's pre-flight (``problems`` of its plan); when it passes, the
        plan and where its scripts go are logged: the driver submits next."""
        problems = self.problems(self._plan)
        if not problems and self._plan.jobs:
            # Here, not in open: `kedro batch status` opens the engine too.
            logger.info("%s", plan_text(self._plan, self.spec.name).rstrip())
            logger.info(
                "Submitting %d job(s) to %s; scripts and outputs in %s",
                len(self._plan.jobs),
                self.label,
                self.log_dir,
            )
        return problems

    def verify(self, plan: JobPlan) -> None:
        """``problems(plan)``, raised.

        Raises:
            BatchSettingsError: Listing every set SLURM refused, with its message.
        """
        problems = self.problems(plan)
        if problems:
            raise BatchSettingsError.combine(problems)

    def problems(self, plan: JobPlan) -> list[BatchSettingsError]:
        """``sbatch --test-only`` once per distinct set of resources of ``plan``.

        Submits nothing; catches what only the cluster knows (a partition,
        account, QOS or gres it does not have) before the first job is
        submitted. One error per set SLURM refused, with its message.
        """
        sets: dict[tuple[tuple[str, str], ...], str] = {}
        for job in plan.jobs:
            resources = merged_resources(job, self.settings)
            key = tuple(sorted((name, str(value)) for name, value in resources.items()))
            if key and key not in sets:
                sets[key] = job.name
        if not sets:
            return []
        self.log_dir.mkdir(parents=True, exist_ok=True)
        probe = self.log_dir / "resources-probe.sbatch"
        probe.write_text("#!/bin/bash\ntrue\n")
        problems = []
        for key, example in sets.items():
            options = [f"{RESOURCE_OPTIONS[name]}={value}" for name, value in key]
            arguments = ["--test-only", *options, str(probe)]
            result = self._commands.run("sbatch", arguments)
            if result.returncode != 0:
                message = " ".join(
                    line.replace("sbatch: error: ", "").strip()
                    for line in result.stderr.splitlines()
                    if line.strip()
                )
                problems.append(
                    BatchSettingsError(
                        key[0][0],
                        f"SLURM refuses the resources {dict(key)} (of job {example} "
                        f"and any with the same): {message}. Check them with "
                        f"`sinfo` and `sacctmgr show assoc`. "
                        f"{where_to_set(key[0][0], BLOCKS)}",
                    )
                )
        probe.unlink(missing_ok=True)
        return problems

    # --- jobs ----------------------------------------------------------------------

    def submit(self, submission: Submission) -> str:
        """Write the job's script and ``sbatch`` it; its SLURM job id."""
        job = submission.job
        job_id, files = self._sbatch(
            job.name,
            lambda files: job_data(job, project_path=self._project_path, files=files),
            lambda comment, files: sbatch_arguments(
                submission,
                comment=comment,
                project_path=self._project_path,
                files=files,
                settings=self.settings,
            ),
        )
        self._names[job_id] = job.name
        files.record(job_id).write_text(
            json.dumps({"job_id": job_id, "name": job.name, "nodes": list(job.nodes)})
        )
        logger.info(
            "Job %s submitted as SLURM job %s (nodes: %s%s); output: %s",
            job.name,
            job_id,
            ", ".join(job.nodes),
            f"; after {', '.join(submission.depends_on)}"
            if submission.depends_on
            else "",
            files.output(job_id),
        )
        return job_id

    def _sbatch(
        self,
        name: str,
        data: Callable[[JobFiles], bytes],
        arguments: Callable[[str, JobFiles], list[str]],
    ) -> tuple[str, JobFiles]:
        """What a job and an array share: the data file, the script, the run's
        comment and one ``sbatch``; the SLURM job id and the files."""
        files = JobFiles(self.log_dir, name)
        write_private(files.data, data(files))
        write_private(files.script, batch_script(self.settings).encode(), mode=0o700)
        comment = job_comment(self.run_id, self._plan.pipeline_names, name)
        return self._commands.sbatch(arguments(comment, files)), files

    def max_array_size(self) -> int:
        """The cluster's ``MaxArraySize`` (``scontrol show config``, read once):
        how many tasks one array may have (default 1001: indexes 0 to 1000);
        ``0``, logged, when ``scontrol`` is missing: then no arrays."""
        if self._max_array_size is None:
            self._max_array_size = self._commands.max_array_size()
        return self._max_array_size

    def array_key(self, job: PlannedJob) -> tuple[object, ...]:
        """Members of one array share their resources (``script.array_key``)."""
        return array_key(job, self.settings)

    def submit_array(self, array: ArraySubmission) -> ArrayIds:
        """One ``sbatch --array=0-<N-1>`` for every member of ``array``; the
        array job's id and each task's (``<id>_<i>``).

        The script is a plain job's; its data file holds the array's command
        and environment, its resources are the first member's (the members
        share them). ``afterok`` on ``depends_on``, ``aftercorr`` on each of
        ``pairs_with``.

        Raises:
            BatchError: With sbatch's message, when it created no array.
        """
        array_id, files = self._sbatch(
            array.name,
            lambda files: array_data(
                array, project_path=self._project_path, files=files
            ),
            lambda comment, files: array_sbatch_arguments(
                array,
                comment=comment,
                project_path=self._project_path,
                files=files,
                settings=self.settings,
            ),
        )
        children = tuple(task_id(array_id, index) for index in range(len(array.jobs)))
        for child, job in zip(children, array.jobs, strict=True):
            self._file_names[child] = array.name
            self._names[child] = job.name
        files.record(array_id).write_text(
            json.dumps(
                {"job_id": array_id, "name": array.name, "array_size": len(children)}
            )
        )
        after = [
            *(f"all of {job_id}" for job_id in array.depends_on),
            *(f"task i of {job_id}" for job_id in array.pairs_with),
        ]
        logger.info(
            "Array %s of %d job(s) (%s, ...) submitted as SLURM job array %s%s; "
            "outputs: %s",
            array.name,
            len(children),
            array.jobs[0].name,
            array_id,
            f" (after {', '.join(after)})" if after else "",
            self.log_dir / f"{files.name}.{array_id}_<index>.out",
        )
        return ArrayIds(array_id=array_id, child_ids=children)

    def _files(self, job_id: str) -> JobFiles:
        return JobFiles(
            self.log_dir, self._file_names.get(job_id) or self._names[job_id]
        )

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """One ``squeue`` for every job; ``sacct`` or exit files for those it
        no longer shows. Ids this engine did not submit or find are omitted."""
        known = [job_id for job_id in job_ids if job_id in self._names]
        if not known:
            return {}
        rows = {row.job_id: row for row in self._commands.squeue(known)}
        vanished = [job_id for job_id in known if job_id not in rows]
        if vanished:
            rows.update({row.job_id: row for row in self._commands.sacct(vanished)})
        return {job_id: self._state(job_id, rows.get(job_id)) for job_id in known}

    def _state(self, job_id: str, row: QueueRow | None) -> JobState:
        files = self._files(job_id)
        location = f"{files.output(job_id)} (stderr: {files.error(job_id)})"
        recorded = _recorded_exit(files.exit_file(job_id))
        if row is None:
            # SLURM forgot the job (MinJobAge) and accounting has nothing.
            if recorded == 0:
                return self._job_state(
                    job_id, "COMPLETED", exit_code=0, log_location=location
                )
            reason = (
                f"SLURM no longer shows job {job_id}; its exit file says exit code "
                f"{recorded}"
                if recorded is not None
                else f"SLURM no longer shows job {job_id}, and it wrote no exit file "
                f"{files.exit_file(job_id)} (cancelled, killed, or its node failed)"
            )
            return self._failed(job_id, files, "FAILED", reason, recorded, location)
        status = _status(row)
        if row.state == "COMPLETING" and recorded is not None:
            # The script ended and recorded its code; SLURM is cleaning up.
            status = JobStatus.SUCCEEDED if recorded == 0 else JobStatus.FAILED
        if status is not JobStatus.FAILED:
            return self._job_state(
                job_id,
                row.state,
                status=status,
                reason=row.reason,
                exit_code=recorded if status is JobStatus.SUCCEEDED else None,
                log_location=location,
            )
        reason = f"SLURM job {job_id} {row.state}"
        if row.reason and row.reason != "None":
            reason += f" ({row.reason})"
        if row.nodes:
            reason += f" on {row.nodes}"
        exit_code = recorded if recorded is not None else (row.exit_code or None)
        return self._failed(
            job_id,
            files,
            row.state,
            reason,
            exit_code,
            location,
            caused_by_dependency=row.reason == _PARENT_FAILED,
        )

    def _failed(
        self,
        job_id: str,
        files: JobFiles,
        word: str,
        reason: str,
        exit_code: int | None,
        location: str,
        *,
        caused_by_dependency: bool = False,
    ) -> JobState:
        details = []
        for path in (files.error(job_id), files.output(job_id)):
            lines = _tail(path, self.settings.tail_lines)
            if lines:
                details.append(
                    f"last {len(lines)} line(s) of {path}:\n" + "\n".join(lines)
                )
        return self._job_state(
            job_id,
            word,
            status=JobStatus.FAILED,
            reason=reason,
            detail="\n".join(details) or None,
            exit_code=exit_code,
            log_location=location,
            caused_by_dependency=caused_by_dependency,
        )

    def _job_state(
        self,
        job_id: str,
        word: str,
        *,
        status: JobStatus | None = None,
        reason: str | None = None,
        detail: str | None = None,
        exit_code: int | None = None,
        log_location: str | None = None,
        caused_by_dependency: bool = False,
    ) -> JobState:
        return JobState(
            job_id=job_id,
            status=status or SPEC.status(word),
            engine_status=word,
            name=self._names[job_id],
            reason=reason,
            detail=detail,
            exit_code=exit_code,
            log_location=log_location,
            caused_by_dependency=caused_by_dependency,
            array_id=array_of(job_id),
        )

    def find_jobs(self) -> dict[str, JobState]:
        """This run's jobs, by job name (the newest, highest id, of each name).

        ``squeue`` of the user's jobs whose comment names this run and whose
        output is in this run's log directory, plus the submission records
        there (jobs SLURM forgot); then one ``poll`` of them all. Task *i* of
        an array job is listed as ``<array name>[i]`` (``array_child_name``;
        the driver knows which planned job that is), with the array's id.
        """
        found: dict[str, str] = {}
        for row in self._commands.squeue(user=str(os.getuid())):
            name = name_in_comment(row.comment, self.run_id)
            if (
                name
                and is_job_id(row.job_id)
                and row.stdout
                and Path(row.stdout).parent == self.log_dir
            ):
                found[row.job_id] = name
        for path in sorted(self.log_dir.glob("*.job")):
            try:
                record = json.loads(path.read_text())
                job_id, name = str(record["job_id"]), str(record["name"])
                size = int(record.get("array_size", 0))
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                logger.warning("Ignoring the unreadable job record %s.", path)
                continue
            if size:
                found.update({task_id(job_id, index): name for index in range(size)})
            else:
                found[job_id] = name
        keys: dict[str, str] = {}
        for job_id, name in found.items():
            index = task_index(job_id)
            if index is None:
                keys[job_id] = self._names[job_id] = name
                continue
            keys[job_id] = array_child_name(name, index)
            self._file_names[job_id] = name
            # An array this driver submitted: its member's name; else the key.
            self._names.setdefault(job_id, keys[job_id])
        states = self.poll(list(found))
        newest: dict[str, JobState] = {}
        for job_id in sorted(states, key=id_order):
            newest[keys[job_id]] = states[job_id]
        return newest

    def cancel(self, job_ids: Sequence[str], reason: str) -> None:
        """``scancel`` every job in one call (finished ones are fine): an array
        task's id (``<id>_<i>``) cancels that task, an array's id every task.

        Raises:
            BatchError: When scancel failed for a job that still runs.
        """
        ids = [job_id for job_id in job_ids if is_job_id(job_id)]
        if not ids:
            return
        logger.warning("Cancelling SLURM job(s) %s: %s", ", ".join(ids), reason)
        self._commands.scancel(ids)
        self._settle(ids)

    def _settle(self, job_ids: list[str]) -> None:
        """Wait, bounded by ``cancel_timeout``, until SLURM shows none of the
        cancelled jobs still ending: its answer then is CANCELLED, as the next
        driver will see it (``scancel`` returns before the job's processes got
        SIGTERM, and SLURM's KillWait later sends SIGKILL)."""
        deadline = time.monotonic() + self.settings.cancel_timeout
        # Bounded by the deadline; one squeue per round.
        while time.monotonic() < deadline:
            rows = self._commands.squeue(job_ids)
            if not any(row.state in _ENDING for row in rows):
                return
            time.sleep(SETTLE_INTERVAL)
        logger.warning(
            "SLURM job(s) %s were cancelled and are still ending after %g s.",
            ", ".join(job_ids),
            self.settings.cancel_timeout,
        )
