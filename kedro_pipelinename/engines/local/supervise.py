"""Runs one local job's command and records how it ended: the job's main process.

Run as a file (``python -I -S .../supervise.py EXIT_FILE -- ARGV...``: no
``site``, no user paths, the smallest interpreter), never imported
by the job: it imports nothing of this package or of Kedro, so a job starts as
fast as its command alone. The exit code reaches ``EXIT_FILE`` even when the
driver that started the job is gone (killed), which is how a later driver of
the same run knows the job finished (``LocalBatchEngine.find_jobs``).

Ctrl-C and SIGTERM reach the job's whole process group: the command gets them
and ends as it would alone; this process waits for it, records the code, and
ends the same way (by the same signal, when the command was killed by one).
"""

import os
import signal
import sys


def _record(path: str, returncode: int) -> None:
    # The kit's atomic_write, by hand: this process runs under `python -I -S`
    # and imports nothing of the package (see the module doc), and the exit
    # file is the one file it writes.
    temporary = f"{path}.tmp"
    with open(temporary, "w") as handle:
        handle.write(f'{{"exit_code": {returncode}}}')
    os.replace(temporary, path)


def main(argv: list[str]) -> int:
    """Run ``argv[2:]``, write its exit code to ``argv[0]``; return the code."""
    exit_file, command = argv[0], argv[2:]
    # A Python-level handler (not SIG_IGN): the command's exec resets it to the
    # default, while this process keeps waiting for the command.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: None)
    # posix_spawnp and waitpid, not subprocess (whose imports alone cost
    # ~2 MB in every running job's supervisor: tests/benchmarks/bench_supervisor.py).
    pid = os.posix_spawnp(command[0], command, os.environ)
    returncode = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    _record(exit_file, returncode)
    if returncode < 0:
        signal.signal(-returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -returncode)
    return returncode if returncode >= 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
