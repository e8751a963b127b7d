"""Where run records live, and how they are written and read.

``logs/batch/<run id>/`` holds ``run.json`` (the record), ``lease`` (its owner,
``lease.py``) and ``cancel`` (a request to stop). Run directories are created
0700 and files 0600 whatever the umask: a record may name the run's variables.
Every file is written by ``atomic_write`` (a temporary file in the same
directory, then ``os.replace``): a reader sees the old or the new one, whole, and
a driver killed with ``kill -9`` leaves no half-written record.

Run ids are checked (``run_id.check_safe_run_id``) before they become a path:
nothing is read or written outside ``logs/batch``.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Final

from attrs import define

from ..run.run_id import InvalidRunIdError, check_safe_run_id
from .record_model import RecordError, RunRecord, now, parse_record, record_data

#: Where the records of a project's runs are, relative to the project.
RECORDS_DIR: Final = Path("logs") / "batch"
RECORD_FILE: Final = "run.json"
CANCEL_FILE: Final = "cancel"
#: Modes of run directories and of the files in them.
DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600


def records_dir(project_path: Path) -> Path:
    """The directory of the project's run records."""
    return Path(project_path) / RECORDS_DIR


def run_dir(project_path: Path, run_id: str, *, source: str = "The run id") -> Path:
    """The directory of one run's record.

    Raises:
        RecordError: For a run id that is no directory name (``..``, ``/``).
    """
    try:
        check_safe_run_id(run_id, source=source)
    except InvalidRunIdError as error:
        raise RecordError(str(error)) from error
    return records_dir(project_path) / run_id


def make_run_dir(project_path: Path, run_id: str) -> Path:
    """``run_dir``, created 0700 (and its parents) if it is not there."""
    directory = run_dir(project_path, run_id)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, DIRECTORY_MODE)
    return directory


def atomic_write(
    path: Path, content: str | bytes, *, exclusive: bool = False, mode: int = FILE_MODE
) -> None:
    """Write ``content`` to ``path`` as a whole: a reader sees the old file or the
    new one, never part of one, and a writer killed midway leaves no new file.

    The one way files are replaced in the core and the engines (records, leases,
    the local engine's job files, SLURM's job data); only the local engine's
    supervisor, which cannot import the package, writes its own.

    Args:
        path: The file; its directory must exist.
        content: Its new content (text is written as UTF-8).
        exclusive: Fail with ``FileExistsError`` when ``path`` exists: the
            file is linked in place (``link(2)`` is atomic on local file
            systems and NFS), so of two racing writers exactly one wins.
        mode: Its permissions, whatever the umask (default 0600: records and
            job files may name the run's variables).
    """
    # Unique per writer: two processes (or threads) never share a temporary file.
    writer = f"{os.getpid()}.{threading.get_ident()}"
    temporary = path.with_name(f".{path.name}.{writer}.tmp")
    data = content.encode() if isinstance(content, str) else content
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)  # O_CREAT's mode is masked by the umask
        if exclusive:
            os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_record(project_path: Path, record: RunRecord) -> None:
    """Write ``record`` atomically (see the module doc)."""
    directory = make_run_dir(project_path, record.run_id)
    atomic_write(directory / RECORD_FILE, record_text(record))


def read_record(path: Path) -> RunRecord:
    """The record in ``path``.

    Raises:
        RecordError: One line naming ``path`` and what is wrong with it.
    """
    try:
        text = path.read_text()
    except OSError as error:
        raise RecordError(
            f"The run record {path} cannot be read: {error.strerror}."
        ) from error
    return record_from_text(text, str(path), path.parent.name)


def record_from_text(text: str, where: str, run_id: str) -> RunRecord:
    """The record in ``text``, read from ``where`` as the record of ``run_id``.

    Raises:
        RecordError: One line naming ``where`` and what is wrong with it.
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        what = "empty" if not text.strip() else f"not JSON ({error})"
        raise RecordError(f"The run record {where} is {what}.") from error
    try:
        record = parse_record(data)
    except RecordError as error:
        raise RecordError(f"The run record {where} is damaged: {error}.") from error
    if record.run_id != run_id:
        raise RecordError(
            f"The run record {where} is damaged: it is of run {record.run_id!r}, "
            f"not of {run_id!r}."
        )
    return record


def record_text(record: RunRecord) -> str:
    """``record`` as written: stamped ``updated`` now, indented JSON."""
    record.updated = now()
    return json.dumps(record_data(record), indent=2) + "\n"


@define(frozen=True)
class RecordList:
    """Every record of a project: the readable ones, newest first, and why
    each other one was skipped."""

    records: list[RunRecord]
    skipped: list[str]


def list_records(project_path: Path) -> RecordList:
    """Every record of the project (see ``RecordList``)."""
    records: list[RunRecord] = []
    skipped: list[str] = []
    for path in sorted(records_dir(project_path).glob(f"*/{RECORD_FILE}")):
        try:
            records.append(read_record(path))
        except RecordError as error:
            skipped.append(str(error))
    # Run ids are UTC timestamps: newest first is descending.
    records.sort(key=lambda record: (record.started, record.run_id), reverse=True)
    return RecordList(records=records, skipped=skipped)


def load_record(project_path: Path, run_id: str | None = None) -> RunRecord:
    """The record of ``run_id``, or of the newest run.

    Raises:
        RecordError: For an unsafe run id, a damaged record, or, when there is
            no such record, saying which runs there are.
    """
    if run_id is None:
        records = list_records(project_path).records
        if not records:
            raise RecordError(
                f"No batch runs are recorded in {records_dir(project_path)}; start "
                f"one with `kedro run --runner kedro_pipelinename.batch.BatchRunner`."
            )
        return records[0]
    path = run_dir(project_path, run_id) / RECORD_FILE
    if path.is_file():
        return read_record(path)
    newest = [record.run_id for record in list_records(project_path).records[:5]]
    known = f"the newest: {', '.join(newest)}" if newest else "none is recorded"
    raise RecordError(
        f"No batch run {run_id!r} in {records_dir(project_path)} ({known}); see "
        f"`kedro batch runs`."
    )


def request_cancel(project_path: Path, run_id: str, reason: str) -> Path:
    """Ask the run's driver to stop (it looks once per poll round)."""
    path = make_run_dir(project_path, run_id) / CANCEL_FILE
    atomic_write(path, reason + "\n")
    return path


def cancel_reason(project_path: Path, run_id: str) -> str | None:
    """Why the run was asked to stop, or ``None``."""
    try:
        return (run_dir(project_path, run_id) / CANCEL_FILE).read_text().strip()
    except OSError:
        return None
