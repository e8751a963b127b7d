"""CI's comparison of Kedro's own suites, stock vs patched (``.ci/kedro_suites.py``).

What a CI user sees from the rule: which tests are reported newly failing (and
fail CI), which are listed as order-dependent with their counts, and what cause
a stock failure is printed with. ``main`` runs as CI runs it, on a tiny fake
test tree, with its pytest runs replaced by a script of outcomes per side, per
run and per list of files the run was given: no pytest process starts.
"""

from __future__ import annotations

import json
import math
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.modules import module_from_file

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "kedro_suites.py"

#: The fake suite's files, in the order a shard runs them (sorted paths).
POLLUTER = "tests/test_a_polluter.py"
VICTIM = "tests/test_b_victim.py"
NET = "tests/test_c_net.py"
VICTIM_ID = "tests.test_b_victim::test_victim"
POLLUTER_ID = "tests.test_a_polluter::test_polluter"
NET_ID = "tests.test_c_net::test_download"

#: ``(side, run, files the run was given) -> {test id: "failed" | "passed"}``
#: for the tests that fail; every other test of the files passes.
Script = Callable[[str, int, list[str]], dict[str, str]]


@pytest.fixture(scope="module")
def ks() -> ModuleType:
    """The script, imported by path as CI runs it (it is no package)."""
    return module_from_file("kedro_suites", SCRIPT)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A Kedro-like suite: ``tests/`` with three test files and a pyproject."""
    root = tmp_path / "suite"
    (root / "tests").mkdir(parents=True)
    (root / POLLUTER).write_text("def test_polluter():\n    pass\n")
    (root / VICTIM).write_text("def test_victim():\n    pass\n")
    (root / NET).write_text("def test_download():\n    pass\n")
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-ra --cov kedro"\n'
    )
    return root


def _ids_of(files: list[str]) -> list[str]:
    return [
        {POLLUTER: POLLUTER_ID, VICTIM: VICTIM_ID, NET: NET_ID}[file] for file in files
    ]


def _write_junit(path: Path, result: dict[str, str]) -> None:
    suite = ET.Element("testsuite")
    for test_id, outcome in result.items():
        classname, _, name = test_id.partition("::")
        case = ET.SubElement(suite, "testcase", classname=classname, name=name)
        if outcome == "failed":
            ET.SubElement(case, "failure", message=f"AssertionError: {name} broke")
    ET.ElementTree(suite).write(path)


def _drive(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
    script: Script,
    *extra: str,
) -> tuple[int, dict[str, Any], list[tuple[str, int, list[str]]]]:
    """``main`` as CI calls it; its exit code, JSON report and the runs it made."""
    calls: list[tuple[str, int, list[str]]] = []

    def fake_run_pytest(
        python: str,
        workdir: Path,
        targets: list[str],
        junit_xml: Path,
        env: dict[str, str],
        extra_args: list[str],
        *,
        options: list[str],
        log: Path,
    ) -> None:
        # main names the side by its scratch tree and the run in the report's
        # file name (``<side>-<run>-<shard>.xml``).
        side = workdir.name
        run = int(junit_xml.name.split("-")[1])
        calls.append((side, run, list(targets)))
        scripted = script(side, run, list(targets))
        _write_junit(
            junit_xml,
            {test_id: scripted.get(test_id, "passed") for test_id in _ids_of(targets)},
        )

    monkeypatch.setattr(ks, "run_pytest", fake_run_pytest)
    # main's scratch copies go under this test's tmp_path, not /tmp.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    report = tmp_path / "report.json"
    code = ks.main(
        [
            "--label",
            "9.9.9",
            "--tests",
            str(suite),
            "--dirs",
            "tests",
            "--shards",
            "1",
            "--report",
            str(report),
            *extra,
        ]
    )
    return int(code), json.loads(report.read_text()), calls


# -- the statistic -----------------------------------------------------------


def test_four_of_four_patched_against_none_stock_is_newly_failing(
    ks: ModuleType,
) -> None:
    p = ks.fisher_one_sided(4, 0, 4)
    # One split of C(8, 4) = 70 puts all four failures on the patched side.
    assert p == pytest.approx(1 / 70)
    assert p <= ks.ALPHA


@pytest.mark.parametrize("failures", [0, 1, 2, 4])
def test_equal_failure_counts_are_not_newly_failing(
    ks: ModuleType, failures: int
) -> None:
    assert ks.fisher_one_sided(failures, failures, 4) > ks.ALPHA


def test_issue_23s_six_of_eight_against_one_of_eight_is_newly_failing(
    ks: ModuleType,
) -> None:
    # Issue 23: describe_datasets failed in 6 of 8 patched runs, 1 of 8 stock.
    # 7 failures in 16 runs; 6 or 7 of them on the patched side:
    # (C(7,6) C(9,2) + C(7,7) C(9,1)) / C(16,8) = (252 + 9) / 12870 = 0.0203.
    p = ks.fisher_one_sided(6, 1, 8)
    assert p == pytest.approx(261 / 12870)
    assert p == pytest.approx(0.0203, abs=5e-5)
    assert p <= ks.ALPHA
    # With 4 runs a side the same rate is not enough: 4 against 1 (p = 0.071).
    assert ks.fisher_one_sided(4, 1, 4) == pytest.approx(5 / 70)
    assert ks.fisher_one_sided(4, 1, 4) > ks.ALPHA
    assert math.isclose(ks.ALPHA, 0.05)


# -- the decision, as main makes it ------------------------------------------


def test_a_test_failing_patched_in_every_run_and_never_stock_fails_ci(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        return {VICTIM_ID: "failed"} if side == "patched" else {}

    code, report, _ = _drive(ks, monkeypatch, tmp_path, suite, script)

    assert code == 1
    assert report["newly_failing"] == [VICTIM_ID]
    assert report["runs"] == 4
    # Failing in every run is no order dependence: it is not listed as one.
    assert report["order_dependent"] == []
    out = capsys.readouterr().out
    assert f"newly failing: {VICTIM_ID};" in out


def test_a_test_failing_equally_on_both_sides_does_not_fail_ci(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        return {VICTIM_ID: "failed"}

    code, report, _ = _drive(ks, monkeypatch, tmp_path, suite, script)

    assert code == 0
    assert report["newly_failing"] == []
    assert "newly failing: none;" in capsys.readouterr().out
    # Unexplained on stock too: it is printed as a stock failure with its error.
    assert report["stock_failures"] == {
        VICTIM_ID: "unexplained: AssertionError: test_victim broke"
    }


def test_a_test_that_fails_patched_after_its_predecessors_but_passes_alone_fails_ci(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
) -> None:
    # The describe_datasets shape: on the patched side the victim fails only
    # when the polluter's file ran before it in the same process; run alone
    # it passes on both sides. Retrying it alone would call it flaky.
    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        if side == "patched" and POLLUTER in files and VICTIM in files:
            return {VICTIM_ID: "failed"}
        return {}

    code, report, calls = _drive(ks, monkeypatch, tmp_path, suite, script)

    assert code == 1
    assert report["newly_failing"] == [VICTIM_ID]
    # Every repeat ran the victim after the same predecessors, on both sides.
    repeats = [files for side, run, files in calls if run > 1]
    assert repeats
    assert all(files[:2] == [POLLUTER, VICTIM] for files in repeats)


def test_order_dependent_differences_are_listed_with_their_counts(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Fails in 2 of 4 runs on each side: a difference between runs, not sides.
    # p: 2, 3 or 4 of the 4 failures patched, (36 + 16 + 1) / 70 = 0.757.
    fails_in = {"patched": {1, 2}, "stock": {2, 3}}

    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        return {VICTIM_ID: "failed"} if run in fails_in[side] else {}

    code, report, _ = _drive(ks, monkeypatch, tmp_path, suite, script)

    assert code == 0
    assert report["newly_failing"] == []
    line = f"{VICTIM_ID} (failed 2/4 stock, 2/4 patched, p = 0.757)"
    assert report["order_dependent"] == [line]
    assert f"  order-dependent: {line}" in capsys.readouterr().out


def test_a_smaller_patched_excess_is_listed_but_does_not_fail_ci(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
) -> None:
    # 3 of 4 patched runs against none stock: p = C(5,1) / 70 = 0.071 > ALPHA,
    # within what chance gives a flaky test; printed with its counts.
    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        return {VICTIM_ID: "failed"} if side == "patched" and run != 4 else {}

    code, report, _ = _drive(ks, monkeypatch, tmp_path, suite, script)

    assert code == 0
    assert report["newly_failing"] == []
    assert report["order_dependent"] == [
        f"{VICTIM_ID} (failed 0/4 stock, 3/4 patched, p = 0.071)"
    ]


def test_issue_23s_observation_fails_ci_with_eight_runs(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 6 of 8 patched runs (the first six), 1 of 8 stock (the last).
    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        failing = run <= 6 if side == "patched" else run == 8
        return {VICTIM_ID: "failed"} if failing else {}

    code, report, _ = _drive(ks, monkeypatch, tmp_path, suite, script, "--runs", "8")

    assert code == 1
    assert report["newly_failing"] == [VICTIM_ID]
    assert report["order_dependent"] == [
        f"{VICTIM_ID} (failed 1/8 stock, 6/8 patched, p = 0.020)"
    ]


def test_stock_failures_are_printed_with_their_known_cause(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cause = "network: the test downloads a file; only the registry is reachable"
    monkeypatch.setitem(ks.STOCK_FAILURE_CAUSES, NET_ID, ((), cause))

    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        return {NET_ID: "failed"}

    # With 8 runs an unexplained failure on both sides would be repeated.
    code, report, calls = _drive(
        ks, monkeypatch, tmp_path, suite, script, "--runs", "8"
    )

    assert code == 0
    assert report["stock_failures"] == {NET_ID: cause}
    assert f"  stock failure: {NET_ID}: {cause}" in capsys.readouterr().out
    # A failure of this machine on both sides fails every time: not repeated.
    assert report["runs"] == 1
    assert {run for _, run, _ in calls} == {1}


def test_a_cause_listed_for_another_kedro_leaves_the_failure_unexplained(
    ks: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suite: Path,
) -> None:
    monkeypatch.setitem(
        ks.STOCK_FAILURE_CAUSES, NET_ID, (("0.19.15",), "network, on 0.19 only")
    )

    def script(side: str, run: int, files: list[str]) -> dict[str, str]:
        return {NET_ID: "failed"}

    _, report, _ = _drive(ks, monkeypatch, tmp_path, suite, script)

    assert report["stock_failures"] == {
        NET_ID: "unexplained: AssertionError: test_download broke"
    }
