"""Where a project's run records live: the store interface and its two stores.

``LocalStore`` is the project's ``logs/batch`` (``record_store.py``, the
default); ``S3Store`` (``s3_store.py``) is ``record_uri: s3://bucket/prefix``,
for drivers on several machines. The driver, ``RunRecorder``, cancelling and
every ``kedro batch`` command go through ``RecordStore``: the record's writes
and reads, cancel requests and the run's lease.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Protocol

from attrs import define

from .lease import Holder, Lease, read_holder
from .record_model import RecordError, RunRecord
from .record_store import (
    CANCEL_FILE,
    RECORD_FILE,
    RecordList,
    cancel_reason,
    list_records,
    load_record,
    records_dir,
    request_cancel,
    run_dir,
    write_record,
)


class RunLease(Protocol):
    """A driver's lease on one run, whatever the store (``lease.py``)."""

    @property
    def holding(self) -> bool: ...

    def acquire(self) -> None: ...

    def renew(self) -> None: ...

    def release(self) -> None: ...

    def held(self) -> contextlib.AbstractContextManager[Any]: ...


class RecordStore(Protocol):
    """Where run records, leases and cancel requests live.

    ``LocalStore`` (the project's ``logs/batch``, the default) and
    ``S3Store`` (``record_uri: s3://bucket/prefix``) implement it;
    the driver, ``RunRecorder``, cancelling and every ``kedro batch`` command
    go through it.
    """

    @property
    def location(self) -> str:
        """Where the records are, for messages (a directory or an ``s3://`` URI)."""

    def write_record(self, record: RunRecord) -> None: ...

    def has_record(self, run_id: str) -> bool: ...

    def list_records(self) -> RecordList: ...

    def load_record(self, run_id: str | None = None) -> RunRecord: ...

    def request_cancel(self, run_id: str, reason: str) -> str: ...

    def cancel_reason(self, run_id: str) -> str | None: ...

    def clear_cancel(self, run_id: str) -> None: ...

    def lease(self, run_id: str, *, timeout: float, purpose: str) -> RunLease: ...

    def read_holder(self, run_id: str) -> Holder | None: ...


@define(frozen=True)
class LocalStore:
    """The records in the project's ``logs/batch`` (the module doc)."""

    project_path: Path

    @property
    def location(self) -> str:
        return str(records_dir(self.project_path))

    def write_record(self, record: RunRecord) -> None:
        write_record(self.project_path, record)

    def has_record(self, run_id: str) -> bool:
        return (run_dir(self.project_path, run_id) / RECORD_FILE).exists()

    def list_records(self) -> RecordList:
        return list_records(self.project_path)

    def load_record(self, run_id: str | None = None) -> RunRecord:
        return load_record(self.project_path, run_id)

    def request_cancel(self, run_id: str, reason: str) -> str:
        return str(request_cancel(self.project_path, run_id, reason))

    def cancel_reason(self, run_id: str) -> str | None:
        return cancel_reason(self.project_path, run_id)

    def clear_cancel(self, run_id: str) -> None:
        (run_dir(self.project_path, run_id) / CANCEL_FILE).unlink(missing_ok=True)

    def lease(self, run_id: str, *, timeout: float, purpose: str) -> RunLease:
        return Lease(self.project_path, run_id, timeout=timeout, purpose=purpose)

    def read_holder(self, run_id: str) -> Holder | None:
        return read_holder(self.project_path, run_id)


def as_store(where: Path | str | RecordStore) -> RecordStore:
    """``where`` as a store: a project directory is its ``LocalStore``."""
    if isinstance(where, (str, os.PathLike)):
        return LocalStore(Path(where))
    return where


def open_store(project_path: Path, record_uri: str | None) -> RecordStore:
    """The store the ``record_uri`` setting names (``None``: ``logs/batch``).

    Raises:
        RecordError: For a URI no store takes, or an S3 store this botocore
            cannot lock (``s3_store.py``).
    """
    if record_uri is None:
        return LocalStore(Path(project_path))
    if record_uri.startswith("s3://"):
        from .s3_store import S3Store

        return S3Store.from_uri(record_uri)
    raise RecordError(
        f"Batch setting 'record_uri' must be an s3://bucket/prefix URI (or unset "
        f"for {records_dir(Path(project_path))}); got {record_uri!r}."
    )


def live_holder(where: Path | RecordStore, run_id: str) -> Holder | None:
    """The run's live lease holder, or ``None`` (``where``: a project
    directory, or the store of its records)."""
    holder = (
        read_holder(Path(where), run_id)
        if isinstance(where, (str, os.PathLike))
        else where.read_holder(run_id)
    )
    return holder if holder is not None and holder.alive() else None
