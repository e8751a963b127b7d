"""A real one-node SLURM cluster for the tests: munged, slurmctld and slurmd.

``slurm_cluster`` (session scope) starts one cluster per test process, on free
ports and with every file under a temp dir, so two pytest processes on one
machine (xdist workers, another suite run) never share or stop each other's
daemons:

1. installs ``slurmctld slurmd slurm-client munge`` with ``apt-get`` when
   ``slurmctld`` is absent (non-interactive);
2. writes ``slurm.conf``: the node from ``slurmd -C``'s first line, one default
   partition, ``proctrack/linuxproc``, ``task/none``, ``select/cons_tres``, no
   accounting (``sacct`` fails, as on many small clusters), a long
   ``MinJobAge``, ``SlurmUser=root``;
3. starts ``munged`` as the ``munge`` user on a socket of its own (the key is
   ``/etc/munge/munge.key``, made with ``mungekey`` when absent), then
   ``slurmctld -c`` and ``slurmd`` with that configuration (``SLURM_CONF``);
4. waits, bounded, until ``sinfo`` shows the node idle.

At teardown it cancels every job of its cluster, waits (bounded) for them to
leave, and stops exactly the daemons it started, by their pid files; job
processes (``slurmstepd`` and what it runs) outlive a stopped ``slurmd``, so
the jobs are cancelled first and any step daemon of this cluster left over is
killed (found with psutil: it runs in this cluster's directory).

When the cluster cannot start, the tests that need it are skipped with the
reason, except under CI (``CI`` set), where that is an error: CI must run them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from attrs import define

from .processes import eventually_dead
from .waiting import poll_until

#: The packages that make a one-node cluster (Debian bookworm: SLURM 22.05).
PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
#: Finished jobs stay visible to squeue/scontrol this long (seconds): longer
#: than any test session, so tests see their jobs' final states.
MIN_JOB_AGE = 3600
#: Bounds (seconds) of the waits for the daemons.
START_TIMEOUT = 60
STOP_TIMEOUT = 30
APT_TIMEOUT = 600
#: The environment variable every SLURM command reads its configuration from.
SLURM_CONF = "SLURM_CONF"


class ClusterUnavailable(RuntimeError):
    """The cluster could not start; the message says why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: Where Debian puts the daemons and root's tools (runuser, dpkg's helpers). A
#: CI shell's PATH may lack the sbin directories (a fresh CI machine's does), and
#: dpkg refuses to run without them.
SYSTEM_DIRS = (
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
)


def _with_system_path(env: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ if env is None else env)
    dirs = env.get("PATH", "").split(os.pathsep) if env.get("PATH") else []
    env["PATH"] = os.pathsep.join([*dirs, *(d for d in SYSTEM_DIRS if d not in dirs)])
    return env


def _run(
    argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=_with_system_path(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@contextlib.contextmanager
def _machine_lock() -> Iterator[None]:
    """One process of the machine at a time (xdist workers start clusters at
    once): apt-get and dpkg take their own lock and fail, not wait, when it is
    taken; the munge key must be made once."""
    with open(os.path.join(tempfile.gettempdir(), "kp-slurm-setup.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def install_packages() -> None:
    """``apt-get install`` the SLURM and munge packages when slurmctld is absent."""
    if shutil.which("slurmctld", path=os.pathsep.join(SYSTEM_DIRS)):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ClusterUnavailable(
            "slurmctld is not installed, and apt-get cannot install it here "
            f"(needs root and apt-get): apt-get install {' '.join(PACKAGES)}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES],
    ):
        result = _run(argv, env=env, timeout=APT_TIMEOUT)
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"{' '.join(argv)} failed ({result.returncode}): "
                f"{result.stderr[-1000:]}"
            )


def _node_line() -> str:
    """``slurmd -C``'s first line: this machine as a SLURM node."""
    result = _run(["/usr/sbin/slurmd", "-C"])
    line = result.stdout.splitlines()[0] if result.stdout else ""
    if result.returncode != 0 or not line.startswith("NodeName="):
        raise ClusterUnavailable(f"slurmd -C failed: {result.stderr[-500:]}")
    return line


def _node_name(node_line: str) -> str:
    return node_line.split()[0].split("=", 1)[1]


@define
class SlurmCluster:
    """A started cluster: its directory, configuration and node.

    Attributes:
        root: The temp dir holding every file of the cluster.
        conf: Its ``slurm.conf`` (set ``SLURM_CONF`` to it for the clients).
        node: The node's name.
        cpus: The node's CPUs (two 1-CPU jobs run at once on 2 cores).
    """

    root: Path
    conf: Path
    node: str
    cpus: int

    @property
    def env(self) -> dict[str, str]:
        """The environment of a process that uses this cluster."""
        return {**os.environ, SLURM_CONF: str(self.conf)}

    def command(self, *argv: str, timeout: float = 30) -> str:
        """Run a SLURM client command on this cluster; its stdout.

        Raises:
            AssertionError: With its output, when it fails.
        """
        result = _run(list(argv), env=self.env, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: {result.stderr}")
        return result.stdout

    def queued(self, comment_part: str = "") -> list[tuple[str, str]]:
        """``(job id, state)`` of the jobs in ``squeue`` (pending or running)
        whose comment contains ``comment_part``."""
        out = self.command("squeue", "-h", "-o", "%i|%T|%k")
        rows = [line.split("|", 2) for line in out.splitlines() if line.strip()]
        return [(row[0], row[1]) for row in rows if comment_part in row[2]]

    def cancel_all(self) -> None:
        """``scancel`` every job of this cluster (the tests' jobs only)."""
        _run(["scancel", "--full", "--user", str(os.geteuid())], env=self.env)


def _munge_key() -> Path:
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        if shutil.which("mungekey", path=os.pathsep.join(SYSTEM_DIRS)):
            _run(["mungekey", "--create", f"--keyfile={key}"])
        else:
            key.write_bytes(os.urandom(1024))
        shutil.chown(key, "munge", "munge")
        key.chmod(0o400)
    return key


def _write_conf(root: Path, node_line: str, munge_socket: Path) -> Path:
    node = _node_name(node_line)
    for directory in ("state", "spool"):
        (root / directory).mkdir()
    conf = root / "slurm.conf"
    conf.write_text(
        "\n".join(
            [
                f"ClusterName=kp{os.getpid()}",
                f"SlurmctldHost={socket.gethostname()}",
                f"SlurmctldPort={_free_port()}",
                f"SlurmdPort={_free_port()}",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                "CredType=cred/munge",
                f"AuthInfo=socket={munge_socket}",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_CPU",
                "SchedulerType=sched/backfill",
                "SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000",
                "AccountingStorageType=accounting_storage/none",
                "JobAcctGatherType=jobacct_gather/none",
                "JobCompType=jobcomp/none",
                "MpiDefault=none",
                "ReturnToService=2",
                f"MinJobAge={MIN_JOB_AGE}",
                # Cancelled jobs get SIGKILL this soon after SIGTERM (seconds).
                "KillWait=5",
                f"StateSaveLocation={root / 'state'}",
                f"SlurmdSpoolDir={root / 'spool'}",
                f"SlurmctldPidFile={root / 'slurmctld.pid'}",
                f"SlurmdPidFile={root / 'slurmd.pid'}",
                f"SlurmctldLogFile={root / 'slurmctld.log'}",
                f"SlurmdLogFile={root / 'slurmd.log'}",
                node_line + " State=UNKNOWN",
                f"PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE "
                "State=UP",
                "",
            ]
        )
    )
    return conf


def _start_munged(root: Path) -> Path:
    """``munged`` as the munge user on a socket in ``root/munge``; its socket."""
    Path("/run/munge").mkdir(mode=0o755, exist_ok=True)
    directory = root / "munge"
    directory.mkdir(mode=0o700)
    shutil.chown(directory, "munge", "munge")
    munge_socket = directory / "munge.socket"
    argv = [
        "/usr/sbin/munged",
        f"--socket={munge_socket}",
        f"--pid-file={directory / 'munged.pid'}",
        f"--log-file={directory / 'munged.log'}",
        f"--seed-file={directory / 'munged.seed'}",
        f"--key-file={_munge_key()}",
        # The temp dir's parents belong to root and are world-searchable (/tmp is
        # sticky and world-writable), which munged refuses without --force.
        "--force",
    ]
    result = _run(["runuser", "-u", "munge", "--", *argv])
    if result.returncode != 0:
        raise ClusterUnavailable(f"munged did not start: {result.stderr[-500:]}")
    _wait_for(lambda: munge_socket.exists(), "munged's socket", directory)
    return munge_socket


def _wait_for(ready: Callable[[], bool], what: str, logs: Path) -> None:
    if poll_until(ready, timeout=START_TIMEOUT, interval=0.1):
        return
    tails = []
    for log in sorted(logs.glob("*.log")):
        with contextlib.suppress(OSError):
            tails.append(f"--- {log}\n" + "\n".join(log.read_text().splitlines()[-15:]))
    raise ClusterUnavailable(
        f"{what} not ready within {START_TIMEOUT} s\n" + "\n".join(tails)
    )


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop(pid_file: Path) -> None:
    """SIGTERM the daemon whose pid ``pid_file`` holds; SIGKILL it if it stays."""
    pid = _pid(pid_file)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if eventually_dead(pid, timeout=STOP_TIMEOUT):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _step_daemons(root: Path) -> list[int]:
    """Pids of this cluster's ``slurmstepd`` processes: their command line names
    the job, and they run in this cluster's directory and write its
    ``slurmd.log``."""
    pids = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if not command or not command[0].startswith("slurmstepd"):
            continue
        try:
            paths = [process.cwd(), *(opened.path for opened in process.open_files())]
        except psutil.Error:
            continue
        if any(Path(path).is_relative_to(root) for path in paths):
            pids.append(process.pid)
    return pids


def start_cluster(root: Path) -> SlurmCluster:
    """Start munged, slurmctld and slurmd under ``root``; wait for an idle node.

    Raises:
        ClusterUnavailable: Saying which step failed, with the daemons' logs.
    """
    with _machine_lock():
        install_packages()
        _munge_key()
    node_line = _node_line()
    munge_socket = _start_munged(root)
    conf = _write_conf(root, node_line, munge_socket)
    env = {**os.environ, SLURM_CONF: str(conf)}
    for argv in (["/usr/sbin/slurmctld", "-c"], ["/usr/sbin/slurmd"]):
        result = _run([*argv, "-f", str(conf)], env=env)
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"{' '.join(argv)} did not start: {result.stderr[-500:]}"
            )
    node = _node_name(node_line)

    def idle() -> bool:
        result = _run(["sinfo", "-h", "-n", node, "-o", "%T"], env=env, timeout=10)
        return result.returncode == 0 and result.stdout.strip() == "idle"

    _wait_for(idle, f"node {node} (sinfo)", root)
    cpus = int(node_line.split("CPUs=")[1].split()[0])
    return SlurmCluster(root=root, conf=conf, node=node, cpus=cpus)


def stop_cluster(root: Path) -> None:
    """Cancel every job, then stop exactly the daemons started under ``root``."""
    conf = root / "slurm.conf"
    env = {**os.environ, SLURM_CONF: str(conf)}
    # A controller that hangs must not keep the daemons running: on to stopping.
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        if conf.exists() and _pid(root / "slurmctld.pid"):
            _run(["scancel", "--full", "--user", str(os.geteuid())], env=env)

            def no_job() -> bool:
                result = _run(["squeue", "-h", "-o", "%i"], env=env, timeout=10)
                return result.returncode != 0 or not result.stdout.strip()

            # Bounded: until squeue shows no job, or STOP_TIMEOUT seconds.
            poll_until(no_job, timeout=STOP_TIMEOUT, interval=0.2)
    _stop(root / "slurmd.pid")
    for pid in _step_daemons(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _stop(root / "slurmctld.pid")
    _stop(root / "munge" / "munged.pid")


@contextlib.contextmanager
def running_cluster() -> Iterator[SlurmCluster]:
    """A cluster for the block, stopped after it (also for the benchmark)."""
    # The pid in the name says whose cluster it is (several suites may run).
    root = Path(tempfile.mkdtemp(prefix=f"kp-slurm-{os.getpid()}-"))
    root.chmod(0o755)  # munged (the munge user) reaches its socket dir inside
    try:
        yield start_cluster(root)
    finally:
        stop_cluster(root)
        shutil.rmtree(root, ignore_errors=True)


class _Shared:
    """One cluster per process for every conftest that asks (refcounted)."""

    def __init__(self) -> None:
        self.users = 0
        self.cluster: SlurmCluster | None = None
        self.error: str | None = None
        self._stack = contextlib.ExitStack()

    def acquire(self) -> SlurmCluster | str:
        self.users += 1
        if self.cluster is None and self.error is None:
            try:
                self.cluster = self._stack.enter_context(running_cluster())
            except (ClusterUnavailable, OSError, subprocess.SubprocessError) as error:
                self.error = f"the SLURM test cluster could not start: {error}"
        return self.cluster or str(self.error)

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            self._stack.close()
            self.cluster = None


_SHARED = _Shared()


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """The session's SLURM cluster; ``SLURM_CONF`` points at it for the session.

    Skips when it cannot start, unless ``CI`` is set: then it is an error.
    """
    got = _SHARED.acquire()
    try:
        if isinstance(got, str):
            if os.environ.get("CI"):
                pytest.fail(f"{got} (CI is set: the SLURM tests must run)")
            pytest.skip(got)
        previous = os.environ.get(SLURM_CONF)
        os.environ[SLURM_CONF] = str(got.conf)
        try:
            yield got
        finally:
            if previous is None:
                os.environ.pop(SLURM_CONF, None)
            else:
                os.environ[SLURM_CONF] = previous
    finally:
        _SHARED.release()
