"""The native Kedro patch in ``patches/`` behaves exactly as the monkey patch.

The series is applied to a copy of the installed Kedro (the pinned release only)
and the shared contract suite, ``tests/contract``, runs against it in a
subprocess without the monkey patch; its passed tests must be exactly those of
the same suite run against the monkey patch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.upstream.native_kedro import PROJECT_ROOT, subprocess_env

CONTRACT_SUITE = "tests/contract"
CONTRACT_TIMEOUT_S = 900
IMPORT_TIMEOUT_S = 120


def run_contract_suite(
    impl: str, junit_xml: Path, *, native_root: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the contract suite in a child pytest against implementation ``impl``."""
    env = subprocess_env(native_root=native_root)
    env["KEDRO_PIPELINENAME_CONTRACT_IMPL"] = impl
    if impl == "native":
        env["KEDRO_PIPELINENAME_DISABLE"] = "1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            CONTRACT_SUITE,
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit_xml}",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CONTRACT_TIMEOUT_S,
        check=False,
    )


def passed_test_ids(junit_xml: Path) -> set[str]:
    """``classname::name`` of every test case that neither failed nor was skipped."""
    outcomes = {"failure", "error", "skipped"}
    return {
        f"{case.get('classname')}::{case.get('name')}"
        for case in ET.parse(junit_xml).getroot().iter("testcase")
        if not any(child.tag in outcomes for child in case)
    }


def tail(result: subprocess.CompletedProcess[str], lines: int = 60) -> str:
    return "\n".join((result.stdout + result.stderr).splitlines()[-lines:])


def test_series_makes_pipeline_names_native(patched_kedro_root: Path) -> None:
    script = textwrap.dedent(
        """
        import json
        import kedro
        from kedro.pipeline import Pipeline
        print(json.dumps([kedro.__file__, type(Pipeline.__dict__["names"]).__name__]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=subprocess_env(native_root=patched_kedro_root)
        | {"KEDRO_PIPELINENAME_DISABLE": "1"},
        capture_output=True,
        text=True,
        timeout=IMPORT_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, tail(result)
    kedro_file, names_type = json.loads(result.stdout.strip().splitlines()[-1])
    assert (Path(kedro_file).parent.parent, names_type) == (
        patched_kedro_root,
        "property",
    )


@pytest.mark.slow
def test_native_patch_passes_the_contract_suite_like_the_monkey_patch(
    patched_kedro_root: Path, tmp_path: Path
) -> None:
    monkeypatch_run = run_contract_suite("monkeypatch", tmp_path / "monkeypatch.xml")
    native_run = run_contract_suite(
        "native", tmp_path / "native.xml", native_root=patched_kedro_root
    )

    assert native_run.returncode == 0, tail(native_run)
    monkeypatch_passed = passed_test_ids(tmp_path / "monkeypatch.xml")
    native_passed = passed_test_ids(tmp_path / "native.xml")
    assert monkeypatch_passed, tail(monkeypatch_run)
    assert native_passed == monkeypatch_passed


@pytest.mark.slow
def test_import_on_native_kedro_leaves_pipeline_alone_and_reads_native_names(
    patched_kedro_root: Path,
) -> None:
    script = textwrap.dedent(
        """
        import json
        import logging
        import sys

        import kedro.framework.project  # Kedro configures logging on import
        from kedro.pipeline import Pipeline

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:%(message)s"))
        package_logger = logging.getLogger("kedro_pipelinename")
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.INFO)
        originals = dict(Pipeline.__dict__)

        import kedro_pipelinename

        changed = sorted(
            name for name, value in Pipeline.__dict__.items()
            if originals.get(name) is not value
        )
        named = Pipeline([])
        named.name = "train"
        print(json.dumps([kedro_pipelinename.is_installed(), changed,
                          list(kedro_pipelinename.names_of(named))]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=subprocess_env(native_root=patched_kedro_root),
        capture_output=True,
        text=True,
        timeout=IMPORT_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 0, tail(result)
    installed, changed, names = json.loads(result.stdout.strip().splitlines()[-1])
    assert (installed, changed, names) == (True, [], ["train"])
    expected_log = (
        "INFO:Kedro 1.7.0 has Pipeline.name and Pipeline.names built in; "
        "kedro_pipelinename leaves Pipeline and the registry as they are and "
        "installs only the run-context patches."
    )
    assert expected_log in result.stderr.splitlines()
