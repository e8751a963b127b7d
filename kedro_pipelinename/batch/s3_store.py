"""Run records on S3: ``record_uri: s3://bucket/prefix`` (``stores.py``).

For teams whose drivers run on different machines. A run's objects are
``<prefix>/<run id>/run.json`` (the record), ``lease`` and ``cancel``, as in
``logs/batch``. The lease uses S3's conditional writes, so of two drivers
exactly one owns a run:

- **Acquire**: ``put_object(Key=lease, Body=holder, IfNoneMatch="*")``; a
  ``412 PreconditionFailed`` (or ``409 ConditionalRequestConflict`` when two
  such writes race) means someone holds it: the lease is read
  (``get_object``, keeping its ``ETag``) and its holder judged as on disk
  (``lease.Holder.alive``: by pid on the same host, by heartbeat age against
  its timeout elsewhere). A live holder is refused; a gone one is taken over
  with ``put_object(Key=lease, Body=holder, IfMatch=<etag read>)``: of two
  drivers taking over, one wins, the other gets 412 and tries again.
- **Renew**: ``put_object(Key=lease, Body=holder, IfMatch=<etag of our last
  write>)``; a 412 means the lease was taken over: the driver stops writing the
  record.
- **Release**: the lease is deleted if it is still ours (its ``ETag``).

Conditional writes need a botocore whose ``PutObject`` takes ``IfNoneMatch``
and ``IfMatch``: ``check_conditional_writes`` refuses an older one before
anything is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Final

from attrs import define, field

from ..names.logs import logger_for
from ..run.run_id import InvalidRunIdError, check_safe_run_id
from .lease import (
    _TRIES,
    Holder,
    LeaseHeld,
    held_by,
    log_takeover,
    my_holder,
    raced,
)
from .record_model import RecordError, RunRecord, now
from .record_store import (
    CANCEL_FILE,
    RECORD_FILE,
    RecordList,
    record_from_text,
    record_text,
)

logger = logger_for(__name__)

LEASE_KEY: Final = "lease"
#: The PutObject parameters the lease needs.
CONDITIONAL_PARAMETERS: Final = ("IfNoneMatch", "IfMatch")
#: What S3 answers to a conditional write that lost.
_LOST: Final = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412"})
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def unreachable(location: str, error: Exception) -> RecordError:
    """An S3 error (no bucket, no credentials, no network) as one line."""
    return RecordError(
        f"The run records at {location} cannot be reached: {error}; check the "
        f"bucket, the AWS credentials and region, or the 'record_uri' setting."
    )


def missing_conditional_parameters(put_object_members: Any) -> list[str]:
    """The conditional-write parameters a ``PutObject`` input shape lacks."""
    return [name for name in CONDITIONAL_PARAMETERS if name not in put_object_members]


def check_conditional_writes(put_object_members: Any = None) -> None:
    """Refuse an S3 store when botocore cannot make conditional writes.

    Args:
        put_object_members: The members of S3 ``PutObject``'s input (default:
            the installed botocore's model).

    Raises:
        RecordError: One line naming the botocore and the fix.
    """
    import botocore
    import botocore.session

    if put_object_members is None:
        model = botocore.session.get_session().get_service_model("s3")
        put_object_members = model.operation_model("PutObject").input_shape.members
    missing = missing_conditional_parameters(put_object_members)
    if missing:
        raise RecordError(
            f"Batch setting 'record_uri' is an s3:// URI, but the installed botocore "
            f"{botocore.__version__} cannot make S3 conditional writes (its "
            f"PutObject has no {' or '.join(missing)}), which the run's lease needs; "
            f"upgrade it (`pip install -U boto3 botocore`) or unset record_uri to "
            f"keep the records in logs/batch."
        )


@define(frozen=True)
class S3Store:
    """The records under ``s3://<bucket>/<prefix>`` (the module doc).

    Example:
        >>> store = S3Store.from_uri("s3://team-runs/kedro")
        >>> store.list_records().records
    """

    bucket: str
    prefix: str
    client: Any = field(eq=False, repr=False)

    @classmethod
    def from_uri(cls, uri: str, client: Any = None) -> S3Store:
        """The store of ``uri`` (``s3://bucket[/prefix]``).

        Raises:
            RecordError: For a URI without a bucket, or a botocore that cannot
                make conditional writes.
        """
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise RecordError(
                f"Batch setting 'record_uri' must name a bucket "
                f"(s3://bucket/prefix); got {uri!r}."
            )
        check_conditional_writes()
        if client is None:
            import boto3

            client = boto3.client("s3")
        return cls(bucket, prefix.strip("/"), client)

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, run_id: str, name: str) -> str:
        """The key of a run's object ``name``; ``run_id`` is checked first.

        Raises:
            RecordError: For a run id that is no key segment (``..``, ``/``).
        """
        try:
            check_safe_run_id(run_id, source="The run id")
        except InvalidRunIdError as error:
            raise RecordError(str(error)) from error
        return "/".join(part for part in (self.prefix, run_id, name) if part)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> tuple[str, str] | None:
        """The text and ETag of ``key``, or ``None`` when there is none."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as error:
            if _code(error) in _MISSING:
                return None
            raise unreachable(self.uri(key), error) from error
        return response["Body"].read().decode(), str(response["ETag"])

    def put(self, key: str, text: str, **condition: str) -> str:
        """Write ``key``; its new ETag. ``condition``: ``IfNoneMatch``/``IfMatch``."""
        response = self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=text.encode(),
            ContentType="application/json",
            **condition,
        )
        return str(response["ETag"])

    # --- records ----------------------------------------------------------------

    def write_record(self, record: RunRecord) -> None:
        key = self.key(record.run_id, RECORD_FILE)
        try:
            self.put(key, record_text(record))
        except Exception as error:
            raise unreachable(self.uri(key), error) from error

    def has_record(self, run_id: str) -> bool:
        return self.get(self.key(run_id, RECORD_FILE)) is not None

    def _read(self, key: str, run_id: str) -> RunRecord | None:
        found = self.get(key)
        if found is None:
            return None
        return record_from_text(found[0], self.uri(key), run_id)

    def list_records(self) -> RecordList:
        records: list[RunRecord] = []
        skipped: list[str] = []
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            pages = list(
                self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=start
                )
            )
        except Exception as error:
            raise unreachable(self.location, error) from error
        for page in pages:
            for item in page.get("Contents", []):
                run_id, _, name = str(item["Key"])[len(start) :].partition("/")
                if name != RECORD_FILE:
                    continue
                try:
                    record = self._read(self.key(run_id, RECORD_FILE), run_id)
                except RecordError as error:
                    skipped.append(str(error))
                    continue
                if record is not None:
                    records.append(record)
        records.sort(key=lambda record: (record.started, record.run_id), reverse=True)
        return RecordList(records=records, skipped=skipped)

    def load_record(self, run_id: str | None = None) -> RunRecord:
        if run_id is None:
            records = self.list_records().records
            if not records:
                raise RecordError(
                    f"No batch runs are recorded in {self.location}; start one with "
                    f"`kedro run --runner kedro_pipelinename.batch.BatchRunner`."
                )
            return records[0]
        record = self._read(self.key(run_id, RECORD_FILE), run_id)
        if record is not None:
            return record
        newest = [record.run_id for record in self.list_records().records[:5]]
        known = f"the newest: {', '.join(newest)}" if newest else "none is recorded"
        raise RecordError(
            f"No batch run {run_id!r} in {self.location} ({known}); see "
            f"`kedro batch runs`."
        )

    # --- cancel requests ----------------------------------------------------------

    def request_cancel(self, run_id: str, reason: str) -> str:
        key = self.key(run_id, CANCEL_FILE)
        try:
            self.put(key, reason + "\n")
        except Exception as error:
            raise unreachable(self.uri(key), error) from error
        return self.uri(key)

    def cancel_reason(self, run_id: str) -> str | None:
        try:
            found = self.get(self.key(run_id, CANCEL_FILE))
        except Exception:  # an unreachable S3 must not stop the driver's round
            logger.warning("Could not read the cancel request of run %s", run_id)
            return None
        return None if found is None else found[0].strip()

    def clear_cancel(self, run_id: str) -> None:
        key = self.key(run_id, CANCEL_FILE)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as error:
            raise unreachable(self.uri(key), error) from error

    # --- the lease ----------------------------------------------------------------

    def lease(self, run_id: str, *, timeout: float, purpose: str) -> S3Lease:
        return S3Lease(self, run_id, timeout=timeout, purpose=purpose)

    def read_holder(self, run_id: str) -> Holder | None:
        found = self.get(self.key(run_id, LEASE_KEY))
        return None if found is None else Holder.parse(found[0])


class S3Lease:
    """This process's lease on one run of an ``S3Store`` (the module doc)."""

    def __init__(
        self, store: S3Store, run_id: str, *, timeout: float, purpose: str
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._key = store.key(run_id, LEASE_KEY)
        self._timeout = timeout
        self._purpose = purpose
        self._since = now()
        self._etag: str | None = None

    @property
    def holding(self) -> bool:
        return self._etag is not None

    def _mine(self) -> str:
        return my_holder(self._since, self._timeout).to_json()

    def acquire(self) -> None:
        """Take the lease.

        Raises:
            LeaseHeld: A live holder has it (naming it), or too many lost races.
        """
        # Bounded: each try wins, meets a live holder, or lost a race.
        for _ in range(_TRIES):
            try:
                self._etag = self._store.put(self._key, self._mine(), IfNoneMatch="*")
                return
            except Exception as error:
                if _code(error) not in _LOST:
                    raise unreachable(self._store.uri(self._key), error) from error
            found = self._store.get(self._key)
            if found is None:
                continue  # released meanwhile: try again
            text, etag = found
            holder = Holder.parse(text)
            if holder is not None and holder.is_me():
                self._etag = etag
                return
            if holder is not None and holder.alive():
                raise held_by(self._run_id, holder, self._purpose)
            try:
                self._etag = self._store.put(self._key, self._mine(), IfMatch=etag)
            except Exception as error:
                if _code(error) not in _LOST and _code(error) not in _MISSING:
                    raise unreachable(self._store.uri(self._key), error) from error
                continue  # another driver took it over first
            log_takeover(self._run_id, holder)
            return
        raise raced(self._run_id)

    def renew(self) -> None:
        """Write a new heartbeat if the lease is still the one we wrote."""
        if self._etag is None:
            return
        try:
            self._etag = self._store.put(self._key, self._mine(), IfMatch=self._etag)
        except Exception as error:
            if _code(error) not in _LOST and _code(error) not in _MISSING:
                logger.warning("Could not renew the lease of run %s", self._run_id)
                return
            holder = self._store.read_holder(self._run_id)
            logger.error(
                "Run %s: the lease was taken from this driver (%s).",
                self._run_id,
                holder.describe() if holder else "its object is gone",
            )
            self._etag = None

    def release(self) -> None:
        """Give the lease up (only if it is still the one we wrote)."""
        etag, self._etag = self._etag, None
        if etag is None:
            return
        with contextlib.suppress(Exception):
            found = self._store.get(self._key)
            if found is not None and found[1] == etag:
                self._store.client.delete_object(
                    Bucket=self._store.bucket, Key=self._key
                )

    @contextlib.contextmanager
    def held(self) -> Iterator[S3Lease]:
        """Acquire in the block, release after."""
        self.acquire()
        try:
            yield self
        finally:
            self.release()


__all__ = ["LeaseHeld", "S3Lease", "S3Store", "check_conditional_writes"]
