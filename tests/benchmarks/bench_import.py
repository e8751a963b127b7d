"""What ``import kedro_pipelinename`` in settings.py adds to a Kedro process's start.

Run: ``python -m tests.benchmarks.bench_import [--repeats N]``.

Each sample is a fresh interpreter that times (CPU time, inside the process) either
``import kedro.framework.session`` (baseline: what every ``kedro`` command imports
anyway) or ``import kedro.framework.session, kedro_pipelinename`` (which also
installs the patch). Samples alternate in ABBA order; the script prints the medians
and their ratio. Target: ratio <= 1.05, and no boto3 / botocore imported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

TARGET = 1.05
TIMEOUT_SECONDS = 60

PROBE = """
import json, sys, time
start = time.process_time()
import kedro.framework.session
{extra}
elapsed = time.process_time() - start
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
print(json.dumps({{"seconds": elapsed, "heavy": heavy}}))
"""

SIDES = {
    "baseline": PROBE.format(extra=""),
    "with kedro_pipelinename": PROBE.format(extra="import kedro_pipelinename"),
}


#: Bytecode goes to a temp dir (``PYTHONPYCACHEPREFIX``) for both sides, written by
#: the warm-up: as after ``pip install``, nothing is compiled while measuring, even
#: where ``PYTHONDONTWRITEBYTECODE`` is set, and the source tree is not written to.
PYCACHE = tempfile.mkdtemp(prefix="bench-import-pycache-")


def probe_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KEDRO_PIPELINENAME_DISABLE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    return env


def sample(code: str) -> dict[str, object]:
    env = probe_env()
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=TIMEOUT_SECONDS,
    )
    parsed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def breakdown() -> list[tuple[str, float]]:
    """Modules the package import adds, with their own import time (``-X importtime``).

    Shows which module of ours (or which dependency) the extra time goes to.
    """
    timings: dict[str, dict[str, float]] = {}
    for side, code in (
        ("baseline", "import kedro.framework.session"),
        ("patched", "import kedro.framework.session, kedro_pipelinename"),
    ):
        env = probe_env()
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=TIMEOUT_SECONDS,
        )
        timings[side] = {}
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _, module = line.removeprefix("import time:").split("|")
            timings[side][module.strip()] = int(self_us) / 1e3
    added = {
        module: ms
        for module, ms in timings["patched"].items()
        if module not in timings["baseline"]
    }
    return sorted(added.items(), key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args(argv)

    seconds: dict[str, list[float]] = {side: [] for side in SIDES}
    heavy: set[str] = set()
    sides = list(SIDES)
    # One warm-up pair (fills the OS page cache), then ABBA order.
    for repeat in range(args.repeats + 1):
        for side in sides if repeat % 2 else reversed(sides):
            measured = sample(SIDES[side])
            if repeat:
                seconds[side].append(float(measured["seconds"]))  # type: ignore[arg-type]
            heavy.update(measured["heavy"])  # type: ignore[arg-type]

    baseline = statistics.median(seconds["baseline"])
    patched = statistics.median(seconds["with kedro_pipelinename"])
    ratio = patched / baseline
    print(f"median of {args.repeats} fresh interpreters each (CPU time of the import)")
    print(
        f"import kedro.framework.session                     {baseline * 1e3:8.1f} ms"
    )
    print(f"import kedro.framework.session, kedro_pipelinename {patched * 1e3:8.1f} ms")
    print(f"ratio {ratio:.3f} (target <= {TARGET}): ", end="")
    print("OK" if ratio <= TARGET else "ABOVE TARGET")
    print(f"boto3/botocore imported: {sorted(heavy) or 'none'}")
    print("modules the import adds (own import time, one -X importtime run):")
    for module, ms in breakdown()[:12]:
        print(f"  {ms:7.2f} ms  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
