"""The run's lease: one driver at a time owns a run and writes its record.

The lease is ``logs/batch/<run id>/lease``, a JSON file with the holder's
``host``, ``pid``, process ``start`` time, ``since`` (when it took the lease),
``heartbeat`` (when it last renewed it) and ``timeout`` (seconds after the last
heartbeat at which it may be taken over from another host).

- **Acquire**: the file is written beside it and ``link(2)``-ed into place, which
  fails when the lease exists (atomic on local file systems and on NFS, where
  ``O_EXCL`` was not always): of two racing drivers exactly one wins.
- **Renew**: the holder rewrites the heartbeat once per poll round.
- **Held by someone else**: the holder is *live* when it is on this host and its
  pid runs with the same start time, or on another host and its heartbeat is
  younger than its ``timeout`` (``3 * max_poll_interval + 60`` seconds: a
  holder renews at least once per round, and a round waits at most
  ``max_poll_interval``). A live holder makes ``acquire`` raise ``LeaseHeld``
  at once; a gone one (pid dead or reused, heartbeat too old) is taken over:
  the stale file is renamed aside (``rename(2)`` is atomic: of two drivers
  taking over, one renames it, the other finds it gone and tries again) and the
  takeover is logged.
- **Release**: the holder removes the file when its driver ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Final

from attrs import define

from ..names.logs import logger_for
from .errors import BatchError
from .pids import is_running, process_start
from .record_model import now, parse_time
from .record_store import atomic_write, make_run_dir, run_dir

logger = logger_for(__name__)

LEASE_FILE: Final = "lease"
#: Tries to take a lease that others race for (each try either wins, finds a
#: live holder, or lost a race that someone else won).
_TRIES: Final = 20


def lease_timeout(max_poll_interval: float) -> float:
    """Seconds without a heartbeat after which another host may take the lease."""
    return 3 * max_poll_interval + 60


class LeaseHeld(BatchError):
    """Another live driver holds the run's lease."""


@define(frozen=True, kw_only=True)
class Holder:
    """Who holds a lease.

    Attributes:
        host: The holder's host name.
        pid: Its process id.
        start: Its process's start time (``pids.process_start``).
        since: When it took the lease.
        heartbeat: When it last renewed it.
        timeout: Seconds after ``heartbeat`` at which it may be taken over
            from another host.
    """

    host: str
    pid: int
    start: str | None
    since: str
    heartbeat: str
    timeout: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "host": self.host,
                "pid": self.pid,
                "start": self.start,
                "since": self.since,
                "heartbeat": self.heartbeat,
                "timeout": self.timeout,
            }
        )

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder in a lease file, or ``None`` for a damaged one."""
        try:
            data = json.loads(text)
            holder = cls(
                host=str(data["host"]),
                pid=int(data["pid"]),
                start=None if data.get("start") is None else str(data["start"]),
                since=str(data["since"]),
                heartbeat=str(data["heartbeat"]),
                timeout=float(data["timeout"]),
            )
            parse_time(holder.heartbeat)
        except (ValueError, KeyError, TypeError):
            return None
        return holder

    def is_me(self) -> bool:
        """Whether this process holds it."""
        pid = os.getpid()
        return (
            self.host == socket.gethostname()
            and self.pid == pid
            and self.start == process_start(pid)
        )

    def alive(self) -> bool:
        """Whether the holder still runs (see the module doc)."""
        if self.host == socket.gethostname():
            return is_running(self.pid, self.start)
        age = datetime.now(timezone.utc) - parse_time(self.heartbeat)
        return age.total_seconds() < self.timeout

    def describe(self) -> str:
        """ "pid 12 on host h since ..., last heartbeat ..."."""
        return (
            f"pid {self.pid} on {self.host} since {self.since}, last heartbeat "
            f"{self.heartbeat}"
        )


def held_by(run_id: str, holder: Holder, purpose: str) -> LeaseHeld:
    """The refusal of ``purpose`` because ``holder`` drives ``run_id``."""
    return LeaseHeld(
        f"Run {run_id} is held by another driver ({holder.describe()}); {purpose} "
        f"did not start and changed nothing. Follow it with `kedro batch status "
        f"{run_id} --watch`, or stop it with `kedro batch cancel {run_id}`."
    )


def raced(run_id: str) -> LeaseHeld:
    """The refusal after ``_TRIES`` lost races."""
    return LeaseHeld(
        f"Could not take the lease of run {run_id} in {_TRIES} tries: other drivers "
        f"race for it; try again."
    )


def log_takeover(run_id: str, holder: Holder | None) -> None:
    """Log that this process took ``run_id``'s lease from a gone ``holder``."""
    logger.warning(
        "Took over the lease of run %s from %s: %s.",
        run_id,
        holder.describe() if holder else "a damaged lease file",
        "its heartbeat is too old"
        if holder is not None and holder.host != socket.gethostname()
        else "that process is gone",
    )


def my_holder(since: str, timeout: float) -> Holder:
    """This process as a lease's holder, with a heartbeat now."""
    pid = os.getpid()
    return Holder(
        host=socket.gethostname(),
        pid=pid,
        start=process_start(pid),
        since=since,
        heartbeat=now(),
        timeout=timeout,
    )


def lease_path(project_path: Path, run_id: str) -> Path:
    """The lease file of a run."""
    return run_dir(project_path, run_id) / LEASE_FILE


def read_holder(project_path: Path, run_id: str) -> Holder | None:
    """Who holds the run's lease (live or not), or ``None``."""
    try:
        text = lease_path(project_path, run_id).read_text()
    except OSError:
        return None
    return Holder.parse(text)


class Lease:
    """This process's lease on one run (see the module doc).

    Args:
        project_path: The project directory.
        run_id: The run.
        timeout: ``lease_timeout(max_poll_interval)``.
        purpose: What takes it, for the refusal ("the driver", "kedro batch
            cancel").

    Example:
        >>> with Lease(project, run_id, timeout=150.0).held():
        ...     ...  # run the driver; renew() once per round
    """

    def __init__(
        self, project_path: Path, run_id: str, *, timeout: float, purpose: str
    ) -> None:
        self._project_path = Path(project_path)
        self._run_id = run_id
        self._timeout = timeout
        self._purpose = purpose
        self._since = now()
        self._holding = False

    @property
    def path(self) -> Path:
        return lease_path(self._project_path, self._run_id)

    @property
    def holding(self) -> bool:
        """Whether this process holds the lease (it may have lost it: a driver
        stalled past ``timeout`` is taken over from another host)."""
        return self._holding

    def _mine(self) -> Holder:
        return my_holder(self._since, self._timeout)

    def acquire(self) -> None:
        """Take the lease.

        Raises:
            LeaseHeld: A live holder has it: naming host, pid, since and last
                heartbeat, and what to do.
        """
        make_run_dir(self._project_path, self._run_id)
        path = self.path
        # Bounded: each try wins, meets a live holder, or lost a race.
        for _ in range(_TRIES):
            try:
                atomic_write(path, self._mine().to_json(), exclusive=True)
            except FileExistsError:
                pass
            else:
                self._holding = True
                return
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue  # released meanwhile: try again
            holder = Holder.parse(text)
            if holder is not None and holder.is_me():
                self._holding = True
                return
            if holder is not None and holder.alive():
                raise held_by(self._run_id, holder, self._purpose)
            self._take_over(path, text, holder)
        raise raced(self._run_id)

    def _take_over(self, path: Path, text: str, holder: Holder | None) -> None:
        aside = path.with_name(f".{LEASE_FILE}.stale.{os.getpid()}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return  # another driver took it over first
        try:
            if aside.read_text() != text:
                # Between reading and renaming, another driver took the stale
                # lease over and wrote its own: put it back (our next try then
                # meets it live).
                with contextlib.suppress(FileExistsError):
                    os.link(aside, path)
                return
        finally:
            aside.unlink(missing_ok=True)
        log_takeover(self._run_id, holder)

    def renew(self) -> None:
        """Write a new heartbeat, if this process still holds the lease."""
        if not self._holding:
            return
        holder = read_holder(self._project_path, self._run_id)
        if holder is None or not holder.is_me():
            logger.error(
                "Run %s: the lease was taken from this driver (%s).",
                self._run_id,
                holder.describe() if holder else "its file is gone",
            )
            self._holding = False
            return
        try:
            atomic_write(self.path, self._mine().to_json())
        except OSError:
            logger.warning("Could not renew the lease of run %s", self._run_id)

    def release(self) -> None:
        """Give the lease up (only if this process still holds it)."""
        if not self._holding:
            return
        self._holding = False
        holder = read_holder(self._project_path, self._run_id)
        if holder is not None and holder.is_me():
            self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def held(self) -> Iterator[Lease]:
        """Acquire in the block, release after."""
        self.acquire()
        try:
            yield self
        finally:
            self.release()
