"""The local engine's supervisor: its own memory (RSS) per running job.

Run: ``python -m tests.benchmarks.bench_supervisor [--jobs 20]``. Not part of
the test run: it prints numbers.

Each local job's main process is ``supervise.py`` (``engines/local/supervise.py``),
which runs the job's command and records its exit code; while the job runs,
the supervisor's memory is what the engine costs on top of the job's own
process. This starts ``--jobs`` supervisors exactly as ``LocalBatchEngine``
does (``supervisor_argv``), each around ``sleep 30`` (a job that holds no
memory of its own), reads each supervisor's ``VmRSS`` from ``/proc`` once all
run, and prints the mean and the largest, beside the baseline measured in the
same run: a bare ``python -c`` that only sleeps (the smallest interpreter).
Target: <= 15 MB per running job.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kedro_pipelinename.engines.local.processes import supervisor_argv


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _measure(argvs: list[list[str]]) -> list[int]:
    processes = [subprocess.Popen(argv) for argv in argvs]
    try:
        time.sleep(1.5)  # every supervisor has started its job and waits
        return [_rss_kib(process.pid) for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    jobs = parser.parse_args().jobs
    with tempfile.TemporaryDirectory() as temporary:
        supervised = [
            supervisor_argv(Path(temporary) / f"job{index}.exit", ["sleep", "30"])
            for index in range(jobs)
        ]
        baseline = [
            [sys.executable, "-c", "import time; time.sleep(30)"] for _ in range(jobs)
        ]
        supervisors = _measure(supervised)
        bare = _measure(baseline)
    mean, largest = statistics.mean(supervisors) / 1024, max(supervisors) / 1024
    bare_mean = statistics.mean(bare) / 1024
    print(f"supervisor RSS per running job: mean {mean:.1f} MB, max {largest:.1f} MB")
    print(f"bare python -c sleep (baseline): mean {bare_mean:.1f} MB")
    print(f"ratio supervisor / bare interpreter: {mean / bare_mean:.2f}")
    print(f"target <= 15 MB: {'met' if largest <= 15 else 'NOT met'}")


if __name__ == "__main__":
    main()
