"""Kedro's own test suites, stock and patched, same test ids: what fails only patched.

Runs one Kedro's own tests twice in a scratch copy of its ``tests/`` tree, once as
"stock" and once as "patched", each with its own interpreter, environment and
pytest arguments, and compares the outcomes test id by test id. A test that
passes stock and fails (or errors) patched is *newly failing*; those ids are run
once more, patched, so that a flaky test is not reported as a regression. Prints
one line, writes the counts as JSON for the docs, and exits 1 when a test is
still newly failing (2 on a run that could not be compared at all).

The drop-in check (the monkey patch)::

    python .ci/kedro_suites.py --label 1.7.0 \\
        --tests ../shared/kedro-tests/main-d58a0b1 \\
        --stock-env KEDRO_PIPELINENAME_DISABLE=1 --patched-arg=-pkedro_pipelinename

The native check (a Kedro with ``patches/`` applied) passes ``--patched-python``
or ``--patched-env PYTHONPATH=...`` instead.
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
from collections import Counter
from pathlib import Path

#: The folders of Kedro's suite that touch what the patch changes. ``tests/io``
#: runs whole: its S3 tests use moto-style mocks or skip themselves.
DEFAULT_DIRS = (
    "tests/pipeline",
    "tests/runner",
    "tests/framework",
    "tests/ipython",
    "tests/io",
)

#: Kedro's test dependencies that these folders need (the shared README's list),
#: installed with the specifiers of the Kedro under test's own ``pyproject.toml``:
#: its ``tests/ipython`` needs IPython 8 before Kedro 1.3, for example.
TEST_REQUIREMENTS = (
    "pytest",
    "pytest-mock",
    "pandas",
    "kedro-datasets",
    "requests_mock",
    "pydantic",
    "ipython",
    "s3fs",
)

#: The folder of ``../shared/kedro-tests`` for each tested Kedro. 1.5.0 has no
#: suite of its own there; main at d58a0b1 (which says 1.5.0 in its
#: ``__init__``) is the nearest, so it runs that one: a stock-vs-patched
#: comparison on one installed Kedro is fair whatever the stock failures.
SUITE_FOR_KEDRO = {
    "0.19.15": "0.19.15",
    "1.0.0": "1.0.0",
    "1.3.1": "1.3.1",
    "1.5.0": "main-d58a0b1",
    "1.7.0": "main-d58a0b1",
}

#: Each suite run may take this long; a whole suite takes about 30 s here.
SUITE_TIMEOUT_S = 1800

Outcomes = dict[str, str]


def outcomes(junit_xml: Path) -> Outcomes:
    """``test id -> passed | failed | skipped`` from a pytest JUnit XML report."""
    result: Outcomes = {}
    if not junit_xml.exists():
        return result
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            result[test_id] = "failed"
        elif "skipped" in tags:
            result[test_id] = "skipped"
        else:
            result[test_id] = "passed"
    return result


def counts(result: Outcomes) -> dict[str, int]:
    """How many tests passed, failed and were skipped."""
    tally = Counter(result.values())
    return {key: tally.get(key, 0) for key in ("passed", "failed", "skipped")}


def describe(tally: dict[str, int]) -> str:
    return (
        f"{tally['passed']} passed, {tally['failed']} failed, "
        f"{tally['skipped']} skipped"
    )


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"kedro_suites.py: --*-env takes KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def child_env(extra: dict[str, str]) -> dict[str, str]:
    # Our own switches and pytest's must not leak in from the calling pytest/CI.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KEDRO_PIPELINENAME_", "PYTEST_"))
    }
    env.update(extra)
    return env


def run_pytest(
    python: str,
    workdir: Path,
    targets: list[str],
    junit_xml: Path,
    env: dict[str, str],
    extra_args: list[str],
    *,
    workers: str | None,
    log: Path,
) -> None:
    argv = [
        python,
        "-m",
        "pytest",
        # Kedro's own addopts ask for coverage; we want the outcomes only.
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "-q",
        "-W",
        "ignore",
        f"--junitxml={junit_xml}",
        # loadfile: a file runs whole on one worker, in order, as Kedro runs it;
        # some of its tests depend on the order within their file.
        *(["-n", workers, "--dist", "loadfile"] if workers else []),
        *extra_args,
        *targets,
    ]
    with log.open("w") as handle:
        subprocess.run(
            argv,
            cwd=workdir,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=SUITE_TIMEOUT_S,
            check=False,
        )


def test_file_of(test_id: str, root: Path) -> str:
    """``tests.a.b::Class::name`` (JUnit's form) back to a node id under ``root``."""
    classname, _, name = test_id.partition("::")
    parts = classname.split(".")
    # The module is the longest prefix of the dotted class name that is a file.
    for cut in range(len(parts), 0, -1):
        path = "/".join(parts[:cut]) + ".py"
        rest = parts[cut:]
        if (root / path).exists():
            return "::".join([path, *rest, name])
    return test_id


def test_requirements(suite: Path) -> list[str]:
    """``TEST_REQUIREMENTS`` as the suite's own ``pyproject.toml`` specifies them."""
    import re

    import tomllib

    declared = tomllib.loads((suite / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["test"]

    def name_of(requirement: str) -> str:
        match = re.match(r"[A-Za-z0-9._-]+", requirement)
        return (match.group(0) if match else requirement).lower().replace("_", "-")

    wanted = {name.lower().replace("_", "-") for name in TEST_REQUIREMENTS}
    found = {name_of(r): r for r in declared if name_of(r) in wanted}
    # xdist is this project's own (>=3, which our suite needs; Kedro 0.19 pins
    # 2.2); it only distributes the tests, whichever version does it.
    found["pytest-xdist"] = "pytest-xdist[psutil]>=3"
    return [found.get(name, name) for name in sorted({*wanted, "pytest-xdist"})]


def markdown_table(reports: list[dict[str, object]]) -> str:
    """One row per Kedro: stock counts, patched counts, newly failing ids."""
    rows = [
        "| Kedro | tests of | stock | patched | newly failing |",
        "|---|---|---|---|---|",
    ]
    for report in reports:
        newly = report["newly_failing"]
        assert isinstance(newly, list)
        rows.append(
            f"| {report['label']} | {report.get('suite', '')} "
            f"| {describe(report['stock'])} | {describe(report['patched'])} "  # type: ignore[arg-type]
            f"| {len(newly) or 'none'} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["requirements"]:
        # ``kedro_suites.py requirements SUITE_DIR``: what to pip install for it.
        print("\n".join(test_requirements(Path(argv[1]))))
        return 0
    if argv[:1] == ["table"]:
        # ``kedro_suites.py table REPORT.json...``: the Markdown table for the docs.
        print(markdown_table([json.loads(Path(p).read_text()) for p in argv[1:]]))
        return 0
    if argv[:1] == ["suite-for"]:
        # ``kedro_suites.py suite-for 1.7.0``: the shared folder of that Kedro.
        print(SUITE_FOR_KEDRO[argv[1]])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="the Kedro under test")
    parser.add_argument("--tests", required=True, type=Path, help="holds tests/")
    parser.add_argument("--dirs", nargs="+", default=list(DEFAULT_DIRS))
    parser.add_argument("--stock-python", default=sys.executable)
    parser.add_argument("--patched-python", default=sys.executable)
    parser.add_argument("--stock-env", action="append", default=[])
    parser.add_argument("--patched-env", action="append", default=[])
    parser.add_argument("--stock-arg", action="append", default=[])
    parser.add_argument("--patched-arg", action="append", default=[])
    parser.add_argument("--workers", default="2", help="pytest-xdist -n; 0: none")
    parser.add_argument("--report", type=Path, help="write the counts as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir")
    args = parser.parse_args(argv)

    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=f"kedro-suite-{args.label}-"))
    # A scratch copy: the shared tree is read-only in CI, and Kedro's tests write
    # next to themselves (logs, caches).
    shutil.copytree(args.tests / "tests", scratch / "tests")
    shutil.copy(args.tests / "pyproject.toml", scratch / "pyproject.toml")
    if (args.tests / "docs").is_dir():
        # tests/framework/hooks/test_manager.py reads docs/extend/hooks/ of the
        # tree under test; a source checkout has it, the shared tests tree not.
        shutil.copytree(args.tests / "docs", scratch / "docs")
    targets = [d for d in args.dirs if (scratch / d).is_dir()]
    workers = None if args.workers == "0" else args.workers
    sides = {
        "stock": (args.stock_python, parse_env(args.stock_env), args.stock_arg),
        "patched": (args.patched_python, parse_env(args.patched_env), args.patched_arg),
    }
    results: dict[str, Outcomes] = {}
    for side, (python, env, extra) in sides.items():
        junit = scratch / f"{side}.xml"
        run_pytest(
            python,
            scratch,
            targets,
            junit,
            child_env(env),
            extra,
            workers=workers,
            log=scratch / f"{side}.log",
        )
        results[side] = outcomes(junit)
    stock, patched = results["stock"], results["patched"]
    if not stock or not patched:
        print(
            f"kedro {args.label}: no comparison, a suite run reported nothing; "
            f"see {scratch}/stock.log and {scratch}/patched.log"
        )
        return 2

    newly_failing = sorted(
        test_id
        for test_id, outcome in stock.items()
        if outcome == "passed" and patched.get(test_id) != "passed"
    )
    flaky: list[str] = []
    if newly_failing:
        python, env, extra = sides["patched"]
        retry_xml = scratch / "retry.xml"
        node_ids = [test_file_of(test_id, scratch) for test_id in newly_failing]
        run_pytest(
            python,
            scratch,
            node_ids,
            retry_xml,
            child_env(env),
            extra,
            workers=None,
            log=scratch / "retry.log",
        )
        retried = outcomes(retry_xml)
        flaky = [t for t in newly_failing if retried.get(t) == "passed"]
        newly_failing = [t for t in newly_failing if t not in flaky]
    missing = sorted(set(stock) - set(patched))

    report = {
        "label": args.label,
        "suite": args.tests.name,
        "dirs": targets,
        "stock": counts(stock),
        "patched": counts(patched),
        "newly_failing": newly_failing,
        "flaky_passed_on_retry": flaky,
        "only_in_stock": missing,
        "seconds": round(time.monotonic() - started),
    }
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"kedro {args.label}: stock {describe(report['stock'])}; "
        f"patched {describe(report['patched'])}; "
        f"newly failing: {', '.join(newly_failing) or 'none'}"
        + (f"; flaky (passed on retry): {', '.join(flaky)}" if flaky else "")
        + f" ({report['seconds']} s)"
    )
    if not args.keep and not newly_failing:
        shutil.rmtree(scratch, ignore_errors=True)
    elif newly_failing:
        print(f"  logs: {scratch}/patched.log, {scratch}/retry.log")
    return 1 if newly_failing else 0


if __name__ == "__main__":
    sys.exit(main())
