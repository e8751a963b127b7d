"""SLURM's commands as the engine calls them: ``sbatch``, ``squeue``, ``scancel``,
``sacct`` and ``scontrol``, each a bounded subprocess with an argv (never a shell).

``squeue --states=all`` shows pending, running and finished jobs alike, until
``MinJobAge`` (default 300 s) after they ended; ``sacct`` answers only where
accounting storage is enabled, so every reader here copes without it.

A job id is SLURM's (``1234``) or, for a task of a job array, ``<array job
id>_<index>`` (``1234_5``): the id ``squeue --array``, ``sacct``, ``scancel``
and ``--dependency`` take and show for that one task.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from attrs import define

from ...batch.kit import (
    BatchError,
    BatchSettingsError,
    EngineUnavailable,
    chunks,
    logger_for,
    where_to_set,
)

logger = logger_for(__name__)

#: Where the engine's settings can be given, for messages.
BLOCKS: Final = ("slurm_batch", "batch")
#: Every command is bounded (seconds): a hung controller fails the run, loudly.
COMMAND_TIMEOUT: Final = 60
#: The commands the engine needs (``sacct`` and ``scontrol`` are optional).
REQUIRED: Final = ("sbatch", "squeue", "scancel")
OPTIONAL: Final = ("sacct", "scontrol")
#: ``squeue -O`` fields, each ended by the separator; the comment goes last, so
#: that whatever it holds cannot shift the other fields.
SEPARATOR: Final = "\x1f"
#: ``JobArrayID`` is ``1234`` for a job and ``1234_5`` for a task of an array
#: (``JobID`` would be the task's own number, which no other command shows).
SQUEUE_FIELDS: Final = (
    "JobArrayID",
    "State",
    "Reason",
    "exit_code",
    "NodeList",
    "StdOut",
    "StdErr",
    "Name",
    "Comment",
)
#: ``squeue --jobs`` with at most this many ids per call (the argv stays short).
MAX_IDS_PER_CALL: Final = 1000
#: What SLURM says of a job id it does not have (any more).
_UNKNOWN_JOB: Final = "Invalid job id specified"
#: A job id, or a task of an array job (``<array job id>_<index>``).
_JOB_ID: Final = re.compile(r"\d+(_\d+)?")
#: ``scontrol show config``'s line of the largest array index + 1.
_MAX_ARRAY_SIZE: Final = re.compile(r"^MaxArraySize\s*=\s*(\d+)\s*$", re.MULTILINE)


def is_job_id(text: str) -> bool:
    """Whether ``text`` is a SLURM job id or an array task's (``1234_5``)."""
    return _JOB_ID.fullmatch(text) is not None


def task_id(array_id: str, index: int) -> str:
    """The id of task ``index`` of array job ``array_id``: ``<array_id>_<index>``."""
    return f"{array_id}_{index}"


def task_index(job_id: str) -> int | None:
    """The index of an array task's id (``1234_5`` -> 5); ``None`` for a job."""
    _, separator, index = job_id.partition("_")
    return int(index) if separator and index.isdigit() else None


def array_of(job_id: str) -> str | None:
    """The array job id of an array task's id (``1234_5`` -> ``1234``); ``None``
    for a job."""
    return job_id.partition("_")[0] if task_index(job_id) is not None else None


def id_order(job_id: str) -> tuple[int, int]:
    """Sorts ids by submission: the job (or array) id, then the task index."""
    base, _, index = job_id.partition("_")
    return (int(base) if base.isdigit() else -1, int(index) if index.isdigit() else -1)


def parse_max_array_size(text: str) -> int | None:
    """``MaxArraySize`` of ``scontrol show config``'s output, or ``None``."""
    found = _MAX_ARRAY_SIZE.search(text)
    return int(found.group(1)) if found else None


@define(frozen=True, kw_only=True)
class QueueRow:
    """One job as ``squeue`` or ``sacct`` shows it.

    Attributes:
        job_id: SLURM's job id.
        state: Its base state (``PENDING``, ``COMPLETED``, ``CANCELLED``, ...).
        reason: SLURM's reason (``Dependency``, ``NonZeroExitCode``, ...).
        exit_code: The batch script's exit code, or ``-N`` when signal ``N``
            killed it; ``None`` before it ended.
        nodes: The nodes it ran on.
        stdout: Its output file (``squeue`` only).
        stderr: Its error file (``squeue`` only).
        name: Its job name.
        comment: Its comment (``squeue`` only).
    """

    job_id: str
    state: str
    reason: str | None = None
    exit_code: int | None = None
    nodes: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    name: str | None = None
    comment: str | None = None


def _optional(text: str) -> str | None:
    text = text.strip()
    return None if text in ("", "(null)", "None", "N/A") else text


def _wait_status(raw: str) -> int | None:
    """``squeue``'s ``exit_code`` is a wait status: 768 is exit code 3, 9 is
    SIGKILL."""
    try:
        status = int(raw)
    except ValueError:
        return None
    signal_number = status & 0x7F
    return -signal_number if signal_number else status >> 8


def parse_squeue(text: str) -> list[QueueRow]:
    """The rows of ``squeue -h -O <SQUEUE_FIELDS, each ended by SEPARATOR>``."""
    rows = []
    for line in text.splitlines():
        values = line.split(SEPARATOR)
        if len(values) < len(SQUEUE_FIELDS):
            continue
        job_id, state, reason, exit_code, nodes, stdout, stderr, name = values[:8]
        rows.append(
            QueueRow(
                job_id=job_id.strip(),
                state=state.strip(),
                reason=_optional(reason),
                exit_code=_wait_status(exit_code)
                if state.strip() not in ("PENDING", "RUNNING", "CONFIGURING")
                else None,
                nodes=_optional(nodes),
                stdout=_optional(stdout),
                stderr=_optional(stderr),
                name=_optional(name),
                comment=_optional(SEPARATOR.join(values[8:])),
            )
        )
    return rows


def parse_sacct(text: str) -> list[QueueRow]:
    """The rows of ``sacct -n -P -X -o JobID,State,ExitCode,NodeList,Reason,
    JobName``."""
    rows = []
    for line in text.splitlines():
        values = line.split("|")
        if len(values) < 6:
            continue
        job_id, state, exit_code, nodes, reason, name = values[:6]
        code, _, signal_number = exit_code.partition(":")
        # sacct writes "CANCELLED by 0"; squeue's state is the first word.
        rows.append(
            QueueRow(
                job_id=job_id,
                state=state.split()[0] if state.strip() else "UNKNOWN",
                reason=_optional(reason),
                exit_code=(
                    -int(signal_number) if signal_number.strip("0") else int(code)
                )
                if code.isdigit() and signal_number.isdigit()
                else None,
                nodes=_optional(nodes),
                name=_optional(name),
            )
        )
    return rows


class SlurmCommands:
    """Runs SLURM's commands from ``bin_dir`` or ``PATH``.

    Args:
        bin_dir: The directory of the commands; ``None``: ``PATH``.

    Raises:
        BatchSettingsError: When a required command is not found, naming where
            it was looked for and the ``bin_dir`` setting.

    Example:
        >>> SlurmCommands(None).squeue(["42"])  # doctest: +SKIP
        [QueueRow(job_id='42', state='RUNNING', ...)]
    """

    def __init__(self, bin_dir: str | None) -> None:
        self._bin_dir = bin_dir
        self._paths: dict[str, str] = {}
        missing = []
        for name in (*REQUIRED, *OPTIONAL):
            found = shutil.which(name, path=bin_dir) if bin_dir else shutil.which(name)
            if found:
                self._paths[name] = found
            elif name in REQUIRED:
                missing.append(name)
        if missing:
            where = f"in {bin_dir}" if bin_dir else "on PATH"
            raise BatchSettingsError(
                "bin_dir",
                f"The SLURM command(s) {', '.join(missing)} are not {where}. "
                f"Install the SLURM client, or give their directory: "
                f"{where_to_set('bin_dir', BLOCKS)}",
            )
        #: ``False`` once ``sacct`` failed (no accounting storage): not asked again.
        self.sacct_answers = "sacct" in self._paths

    def run(
        self, name: str, arguments: Sequence[str]
    ) -> subprocess.CompletedProcess[str]:
        """Run SLURM command ``name`` with ``arguments``; bounded, no shell."""
        argv = [self._paths[name], *arguments]
        try:
            return subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            # The driver rides out an outage of the controller (EngineUnavailable).
            raise EngineUnavailable(
                f"`{' '.join(argv)}` did not answer within {COMMAND_TIMEOUT} s; is "
                f"slurmctld reachable (`scontrol ping`)?"
            ) from None

    def sbatch(self, arguments: Sequence[str]) -> str:
        """Submit with ``sbatch --parsable``; the new job's id.

        Raises:
            BatchError: With sbatch's message, when it created no job.
        """
        result = self.run("sbatch", ["--parsable", *arguments])
        job_id = result.stdout.strip().split(";")[0]
        if result.returncode != 0 or not job_id.isdigit():
            raise BatchError(
                f"sbatch refused the job (exit code {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return job_id

    def squeue(
        self, job_ids: Sequence[str] | None = None, user: str | None = None
    ) -> list[QueueRow]:
        """What ``squeue --states=all`` shows of ``job_ids`` (or of ``user``'s
        jobs): one call per ``MAX_IDS_PER_CALL`` ids.

        One row per array task (``--array``; else a pending array is one row,
        ``1234_[0-99]``); an array's id gives a row for each of its tasks."""
        arguments = [
            "--array",
            "--states=all",
            "--noheader",
            "--Format=" + ",".join(f"{field}:{SEPARATOR}" for field in SQUEUE_FIELDS),
        ]
        if job_ids is None:
            return self._squeue([*arguments, f"--user={user}"] if user else arguments)
        rows: list[QueueRow] = []
        for chunk in chunks(job_ids, MAX_IDS_PER_CALL):
            rows.extend(self._squeue([*arguments, f"--jobs={','.join(chunk)}"]))
        return rows

    def _squeue(self, arguments: list[str]) -> list[QueueRow]:
        result = self.run("squeue", arguments)
        if result.returncode != 0:
            # One id only, and SLURM forgot it: no row, as for several ids.
            if _UNKNOWN_JOB in result.stderr:
                return []
            # "Unable to contact slurm controller": the driver asks again later.
            raise EngineUnavailable(f"squeue failed: {result.stderr.strip()}")
        return parse_squeue(result.stdout)

    def sacct(self, job_ids: Sequence[str]) -> list[QueueRow]:
        """What accounting knows of ``job_ids``; ``[]`` where it has none."""
        if not self.sacct_answers or not job_ids:
            return []
        result = self.run(
            "sacct",
            [
                "--noheader",
                "--parsable2",
                "--allocations",
                "--format=JobID,State,ExitCode,NodeList,Reason,JobName",
                f"--jobs={','.join(job_ids)}",
            ],
        )
        if result.returncode != 0:
            # "Slurm accounting storage is disabled": exit files tell instead.
            logger.info(
                "sacct does not answer (%s); finished jobs are read from their "
                "exit files.",
                result.stderr.strip(),
            )
            self.sacct_answers = False
            return []
        return parse_sacct(result.stdout)

    def max_array_size(self) -> int:
        """The cluster's ``MaxArraySize`` (``scontrol show config``): an array
        may have indexes 0 to ``MaxArraySize - 1`` (default 1001). ``0`` (no
        arrays here), with the reason logged, when ``scontrol`` is missing or
        does not say.

        Raises:
            EngineUnavailable: When the controller does not answer.
        """
        if "scontrol" not in self._paths:
            logger.warning(
                "scontrol is not %s, so the cluster's MaxArraySize is unknown; "
                "every job is submitted on its own (no job arrays).",
                f"in {self._bin_dir} (bin_dir)" if self._bin_dir else "on PATH",
            )
            return 0
        result = self.run("scontrol", ["show", "config"])
        if result.returncode != 0:
            # "Unable to contact slurm controller": as squeue, asked again later.
            raise EngineUnavailable(
                f"`scontrol show config` failed: {result.stderr.strip()[-500:]}"
            )
        size = parse_max_array_size(result.stdout)
        if size is None:
            logger.warning(
                "`scontrol show config` does not give MaxArraySize; every job is "
                "submitted on its own (no job arrays)."
            )
            return 0
        return size

    def scancel(self, job_ids: Sequence[str]) -> None:
        """``scancel`` the jobs; jobs already finished or forgotten are fine.

        Raises:
            BatchError: When scancel failed for another reason.
        """
        if not job_ids:
            return
        result = self.run("scancel", list(job_ids))
        errors = [
            line
            for line in result.stderr.splitlines()
            if line.strip()
            and "already completing or completed" not in line
            and _UNKNOWN_JOB not in line
        ]
        if result.returncode != 0 and errors:
            raise BatchError(
                f"scancel {' '.join(job_ids)} failed: {'; '.join(errors)}; cancel "
                f"them with `scancel <id>`."
            )


def log_dir_of(stdout: str | None) -> Path | None:
    """The directory of a job's output file (where its run's files are)."""
    return Path(stdout).parent if stdout else None
