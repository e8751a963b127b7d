"""Kedro's own end-to-end features (behave), stock and patched: what fails only patched.

Kedro's ``features/*.feature`` create a project from its test starter, then run
``kedro run``, ``kedro ipython``, ``kedro package`` and load the context in
subprocesses: the paths a user takes. This runs the chosen features twice with
one installed Kedro, in a scratch copy of the ``features/`` tree:

- **stock**: the test starter as Kedro ships it, ``KEDRO_PIPELINENAME_DISABLE=1``;
- **patched**: the test starter's ``settings.py`` ends with
  ``import kedro_pipelinename``, the one line the README asks users to add, so
  every project the features create runs patched, as a user's would.

Kedro's ``BEHAVE_LOCAL_ENV=1`` makes the features use the current environment
(the interpreter given by ``--python`` and its ``kedro``) instead of creating a
venv and installing Kedro from a source checkout, which this machine has not.
Packages the features install (the test plugin, the packaged project) are
uninstalled after each behave run, so every run starts from the same
environment. Given an environment per side (``--stock-python``,
``--patched-python``, the same packages in both), the two sides run at the same
time: a behave run keeps one CPU busy, so this halves the wall time on two.

Prints one line (scenarios passed stock and patched, scenarios failing only
patched), writes JSON with ``--report``, and exits 1 when a scenario passes
stock and fails patched (2 when a side reported nothing)::

    python .ci/kedro_behave.py --label 1.7.0 --tests ../shared/kedro-tests/main-d58a0b1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: The features that touch what the patch changes (``package.feature`` runs
#: offline but for the package registry, which CI may reach).
DEFAULT_FEATURES = (
    "run.feature",
    "load_context.feature",
    "ipython.feature",
    "package.feature",
)

#: The line the README asks users to add to ``settings.py``.
SETTINGS_LINE = "\nimport kedro_pipelinename  # noqa: E402,F401\n"

#: Steps that change the environment for every later scenario (Kedro's CI gives
#: each run a fresh venv): their scenarios run alone, last, then it is restored.
DESTRUCTIVE_STEPS = ("I uninstall the rich module",)

#: One behave run of four features takes about two minutes here.
BEHAVE_TIMEOUT_S = 1800


def scenario_outcomes(junit_dir: Path) -> dict[str, str]:
    """``feature :: scenario -> passed | failed | skipped`` from behave's JUnit."""
    result: dict[str, str] = {}
    for report in sorted(junit_dir.glob("*.xml")):
        for case in ET.parse(report).getroot().iter("testcase"):
            scenario = f"{case.get('classname')}::{case.get('name')}"
            tags = {child.tag for child in case}
            if tags & {"failure", "error"}:
                result[scenario] = "failed"
            elif "skipped" in tags:
                result[scenario] = "skipped"
            else:
                result[scenario] = "passed"
    return result


def installed(python: str) -> dict[str, str]:
    """``name -> version`` of the distributions in ``python``'s environment."""
    listing = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pairs = (line.split("==", 1) for line in listing.splitlines() if "==" in line)
    return {name.lower(): version for name, version in pairs}


def restore(python: str, before: dict[str, str], env: dict[str, str]) -> None:
    """Put ``python``'s environment back as ``before`` found it.

    The features install packages (the test plugin, the packaged project) and
    one scenario uninstalls ``rich``; what they left must not decide how the
    next scenarios or the other side run.
    """
    now = installed(python)
    added = sorted(set(now) - set(before))
    if added:
        subprocess.run(
            [python, "-m", "pip", "uninstall", "-y", "-q", *added],
            check=False,
            capture_output=True,
            env=env,
        )
    gone = sorted(f"{n}=={v}" for n, v in before.items() if now.get(n) != v)
    if gone:
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--no-deps", *gone],
            check=True,
            capture_output=True,
            env=env,
        )


def scenario_lines(feature: Path) -> tuple[list[int], list[int]]:
    """The lines of ``feature``'s scenarios: (the others, those that change the env).

    A scenario whose steps uninstall a package (``DESTRUCTIVE_STEPS``) runs
    alone, after the others, and the environment is restored after it.
    """
    keep: list[int] = []
    alone: list[int] = []
    current: int | None = None
    destructive = False
    for number, line in enumerate(feature.read_text().splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(("Scenario:", "Scenario Outline:")):
            if current is not None:
                (alone if destructive else keep).append(current)
            current, destructive = number, False
        elif current is not None and any(s in stripped for s in DESTRUCTIVE_STEPS):
            destructive = True
    if current is not None:
        (alone if destructive else keep).append(current)
    return keep, alone


def prepare(scratch: Path, suite: Path, python: str, *, patched: bool) -> None:
    """Copy ``suite``'s features, and the template file they read, to ``scratch``."""
    shutil.copytree(suite / "features", scratch / "features")
    # environment.py reads the project template's requirements.txt from a Kedro
    # source checkout (kedro/templates/...); the installed Kedro ships the same.
    templates = subprocess.run(
        [
            python,
            "-c",
            "import kedro, pathlib; "
            "print(pathlib.Path(kedro.__file__).parent / 'templates')",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # No __init__.py: a namespace folder never shadows the installed kedro.
    shutil.copytree(templates, scratch / "kedro" / "templates")
    if patched:
        settings = list((scratch / "features").glob("**/test_starter/**/settings.py"))
        if not settings:
            raise SystemExit(f"kedro_behave.py: no test starter settings.py in {suite}")
        for path in settings:
            path.write_text(path.read_text() + SETTINGS_LINE)


def run_side(
    scratch: Path,
    python: str,
    features: list[str],
    env: dict[str, str],
    before: dict[str, str],
) -> dict[str, str]:
    """Run ``features`` in ``scratch``: the scenarios that change the env last."""
    together: list[str] = []
    alone: list[str] = []
    for name in features:
        keep, separate = scenario_lines(scratch / "features" / name)
        together += [f"features/{name}:{line}" for line in keep]
        alone += [f"features/{name}:{line}" for line in separate]
    result: dict[str, str] = {}
    for index, targets in enumerate([together, *[[one] for one in alone]]):
        junit = scratch / f"junit-{index}"
        argv = [
            python,
            "-m",
            "behave",
            "--no-capture",
            "--junit",
            f"--junit-directory={junit}",
            *targets,
        ]
        with (scratch / "behave.log").open("a") as log:
            subprocess.run(
                argv,
                cwd=scratch,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=BEHAVE_TIMEOUT_S,
                check=False,
            )
        restore(python, before, env)
        for scenario, outcome in scenario_outcomes(junit).items():
            # behave reports the scenarios a ``file:line`` run did not select
            # as skipped: they keep the outcome of the run that selected them.
            if outcome != "skipped" or scenario not in result:
                result[scenario] = outcome
    return result


def side_env(python: str) -> dict[str, str]:
    """The environment the features run in, with ``python``'s ``kedro``/``pip``."""
    bin_dir = str(Path(python).parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KEDRO_PIPELINENAME_", "BEHAVE_", "VIRTUAL_ENV"))
    }
    # The features' steps call ``kedro``/``pip`` of this environment (found
    # with ``which`` under BEHAVE_LOCAL_ENV); they point pip at an empty
    # pip.conf, so the system CA bundle is passed as PIP_CERT where one exists.
    env.update(
        BEHAVE_LOCAL_ENV="1",
        PATH=os.pathsep.join([bin_dir, env.get("PATH", "")]),
        VIRTUAL_ENV=str(Path(bin_dir).parent),
        # kedro-telemetry would ask for consent and send data: no network here.
        DO_NOT_TRACK="1",
        KEDRO_DISABLE_TELEMETRY="1",
    )
    system_ca = Path("/etc/ssl/certs/ca-certificates.crt")
    if system_ca.is_file() and "PIP_CERT" not in env:
        env["PIP_CERT"] = str(system_ca)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--label", required=True, help="the Kedro under test")
    parser.add_argument("--tests", required=True, type=Path, help="holds features/")
    parser.add_argument(
        "--python", default=sys.executable, help="both sides' interpreter"
    )
    parser.add_argument(
        "--stock-python",
        help="the stock side's interpreter (default --python); when it differs "
        "from the patched side's, the two sides run at the same time",
    )
    parser.add_argument("--patched-python", help="the patched side's (see above)")
    parser.add_argument("--features", nargs="+", default=list(DEFAULT_FEATURES))
    parser.add_argument("--report", type=Path, help="write the outcomes as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dirs")
    args = parser.parse_args(argv)

    started = time.monotonic()
    features = [f for f in args.features if (args.tests / "features" / f).is_file()]
    pythons = {
        "stock": args.stock_python or args.python,
        "patched": args.patched_python or args.python,
    }
    scratches = {
        side: Path(tempfile.mkdtemp(prefix=f"kedro-behave-{args.label}-{side}-"))
        for side in pythons
    }

    def one_side(side: str) -> dict[str, str]:
        python = pythons[side]
        before = installed(python)
        prepare(scratches[side], args.tests, python, patched=side == "patched")
        env = side_env(python)
        if side == "stock":
            env["KEDRO_PIPELINENAME_DISABLE"] = "1"
        return run_side(scratches[side], python, features, env, before)

    # A behave run is one scenario at a time, one ``kedro`` subprocess at a
    # time: one CPU. With an environment each (the features install and
    # uninstall packages in theirs), the two sides share the machine's two.
    apart = pythons["stock"] != pythons["patched"]
    with ThreadPoolExecutor(max_workers=2 if apart else 1) as pool:
        results = dict(zip(pythons, pool.map(one_side, pythons), strict=True))
    stock, patched = results["stock"], results["patched"]
    if not stock or not patched:
        print(
            f"kedro {args.label} behave: no comparison, a run reported nothing; "
            f"see {', '.join(f'{s}/behave.log' for s in scratches.values())}"
        )
        return 2
    only_patched = sorted(
        s for s, o in stock.items() if o == "passed" and patched.get(s) != "passed"
    )

    def passed(result: dict[str, str]) -> int:
        return sum(outcome == "passed" for outcome in result.values())

    report = {
        "label": args.label,
        "suite": args.tests.name,
        "features": features,
        "scenarios": len(stock),
        "stock_passed": passed(stock),
        "patched_passed": passed(patched),
        "stock_failed": sorted(s for s, o in stock.items() if o == "failed"),
        "failing_only_patched": only_patched,
        "seconds": round(time.monotonic() - started),
    }
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"kedro {args.label} behave ({', '.join(features)}): {len(stock)} scenarios; "
        f"passed stock {report['stock_passed']}, patched {report['patched_passed']}; "
        f"failing only patched: {', '.join(only_patched) or 'none'} "
        f"({report['seconds']} s)"
    )
    for scenario in report["stock_failed"]:
        print(f"  failed stock: {scenario}")
    if only_patched or args.keep:
        print(f"  logs: {', '.join(f'{s}/behave.log' for s in scratches.values())}")
    else:
        for scratch in scratches.values():
            shutil.rmtree(scratch, ignore_errors=True)
    return 1 if only_patched else 0


def table(reports: list[dict[str, object]]) -> str:
    """The Markdown table of behave reports for the docs."""
    rows = [
        "| Kedro | features of | scenarios | passed stock | passed patched "
        "| failing only patched |",
        "|---|---|---|---|---|---|",
    ]
    for report in reports:
        only = report["failing_only_patched"]
        assert isinstance(only, list)
        rows.append(
            f"| {report['label']} | {report['suite']} | {report['scenarios']} "
            f"| {report['stock_passed']} | {report['patched_passed']} "
            f"| {len(only) or 'none'} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    if sys.argv[1:2] == ["table"]:
        print(table([json.loads(Path(p).read_text()) for p in sys.argv[2:]]))
        sys.exit(0)
    sys.exit(main())
