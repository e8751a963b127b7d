"""The Kedro version matrix, per tested Kedro release.

``matrix``: our whole test suite. ``kedro_suites``: Kedro's own suites stock and
patched (same test ids in the same order; a test that fails more often with the
patch fails the session), read from ``../shared/kedro-tests`` (``KEDRO_TESTS_DIR``
elsewhere), with the counts written to ``build/kedro-suites/<kedro>.json``.
``kedro_behave``: Kedro's behave features stock and with the ``settings.py``
line, written to ``build/kedro-behave/<kedro>.json``.

The versions come from ``kedro_pipelinename.names.versions.TESTED_KEDRO``
(declared once, as data). ``nox -s matrix`` runs them all;
``nox -s "matrix(kedro='1.3.1')"`` one.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True


def _tested_kedro() -> list[str]:
    # Parsed, not imported: importing the package would import (and need) Kedro.
    source = Path(__file__).parent / "kedro_pipelinename" / "names" / "versions.py"
    for statement in ast.parse(source.read_text()).body:
        if (
            isinstance(statement, ast.Assign)
            and getattr(statement.targets[0], "id", None) == "TESTED_KEDRO"
        ):
            return list(ast.literal_eval(statement.value))
    raise RuntimeError(f"TESTED_KEDRO not found in {source}")


ROOT = Path(__file__).parent
KEDRO_SUITES = ROOT / ".ci" / "kedro_suites.py"
REPORTS = ROOT / "build" / "kedro-suites"


def _kedro_tests_dir() -> Path:
    default = ROOT.parent / "shared" / "kedro-tests"
    return Path(os.environ.get("KEDRO_TESTS_DIR", default))


def _suite_helper(*args: str) -> list[str]:
    output = subprocess.run(
        [sys.executable, str(KEDRO_SUITES), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.splitlines()


@nox.session
@nox.parametrize("kedro", _tested_kedro())
def matrix(session: nox.Session, kedro: str) -> None:
    """Run our test suite against one Kedro release."""
    session.install("-e", ".[test]", f"kedro=={kedro}")
    session.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs
    )


#: The oldest boto3 the ``batch`` extra allows (pyproject.toml) and its botocore:
#: the SubmitJob dedupe and the outage handling must hold there too (botocore
#: before 1.43.3 reads a retry veto of ``False`` as "retry now").
AWS_FLOOR = ("boto3==1.26.0", "botocore==1.29.0")

#: The tests of the AWS engine: faults at the HTTP level, moto, the stock CLI.
AWS_TESTS = (
    "tests/aws_faults",
    "tests/batch/test_aws_moto.py",
    "tests/batch/test_aws_stubbed.py",
    "tests/batch/test_cli_moto.py",
)


#: The sessions that exist to run tests skipped elsewhere fail on a skip
#: (tests/conftest.py): a requirement gone missing cannot pass as a green run.
NO_SKIPS = {"KEDRO_PIPELINENAME_TESTS_NO_SKIPS": "1"}

#: What Kedro's spaceflights-pandas starter needs (its requirements.txt, less
#: the notebook and viz tools its pipelines do not import).
STARTER_REQUIREMENTS = (
    "kedro-datasets[pandas-csvdataset,pandas-exceldataset,pandas-parquetdataset,"
    "plotly-plotlydataset,plotly-jsondataset,matplotlib-matplotlibdataset]>=3.0",
    "scikit-learn",
    "seaborn",
)


@nox.session
def starters(session: nox.Session) -> None:
    """Kedro's own spaceflights-pandas starter, unchanged, on the batch engines
    (``tests/starters``; the starter is read from ``../shared/kedro-starters``)."""
    latest = _tested_kedro()[-1]
    session.install("-e", ".[test]", f"kedro=={latest}", *STARTER_REQUIREMENTS)
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        # Two workers: five whole starter runs (local, SLURM, AWS sandbox) take
        # about 4 min one at a time.
        "-n",
        "2",
        "tests/starters",
        *session.posargs,
        env=NO_SKIPS,
    )


#: One MLflow run per batch run (``tests/tracking``): kedro-mlflow 2 (Kedro 1.x
#: only) on the latest tested Kedro, MLflow 3. kedro-mlflow 2.0.3 imports
#: kedro_datasets without declaring it.
MLFLOW_REQUIREMENTS = ("kedro-mlflow==2.0.3", "mlflow>=3,<4", "kedro-datasets>=8")


@nox.session
def mlflow(session: nox.Session) -> None:
    """The run trackers against a real MLflow server (``tests/tracking``).

    MLflow is heavy, so it is in no other session: without it those tests skip.
    """
    latest = _tested_kedro()[-1]
    session.install("-e", ".[test,mlflow]", f"kedro=={latest}", *MLFLOW_REQUIREMENTS)
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        # The MLflow tests only: tests/tracking's run-tracker protocol needs no
        # MLflow and runs in the README command on the same Kedro.
        "tests/tracking/test_mlflow_local.py",
        "tests/tracking/test_mlflow_aws.py",
        *session.posargs,
        env=NO_SKIPS,
    )


@nox.session
def aws_floor(session: nox.Session) -> None:
    """The AWS engine's tests on the oldest boto3/botocore allowed.

    moto's server runs in the test process (moto 5 installs beside botocore
    1.29); the client under test is the old botocore, over HTTP.
    """
    session.install("-e", ".[test]", *AWS_FLOOR)
    session.run(
        "python", "-c", "import botocore; print('botocore', botocore.__version__)"
    )
    pytest = ("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    session.run(*pytest, "-n", "2", *AWS_TESTS, *session.posargs)
    session.run(
        *pytest, "tests/engines/test_engine_contract.py", "-k", "aws", *session.posargs
    )


def _install_as_of(session: nox.Session, kedro: str, *requirements: str) -> str:
    """Install as Kedro's CI did on the day of that Kedro (``RESOLVE_AS_OF``);
    that day (``--exclude-newer``), for an environment installed beside it.

    Kedro's CI installs its test dependencies unpinned; uv's ``--exclude-newer``
    resolves them as they were then (later releases break Kedro's own tests:
    Click 8.5.1 fails 60 of its CLI tests on stock Kedro).
    """
    as_of = _suite_helper("resolve-as-of", kedro)[0]
    session.install(
        "--exclude-newer", as_of, "-e", ".", f"kedro=={kedro}", *requirements
    )
    return as_of


@nox.session
@nox.parametrize("kedro", _tested_kedro())
def kedro_suites(session: nox.Session, kedro: str) -> None:
    """Kedro's own suites, stock vs patched (same ids, same order), on one Kedro."""
    suite = _kedro_tests_dir() / _suite_helper("suite-for", kedro)[0]
    if not (suite / "tests").is_dir():
        session.error(
            f"Kedro's own tests for {kedro} are not at {suite}: put the shared "
            f"kedro-tests beside this checkout or set KEDRO_TESTS_DIR."
        )
    # An environment of its own, as Kedro's CI builds it: the test dependencies
    # Kedro's own pyproject declares (its s3fs pin, for one, holds botocore back,
    # which our suite must not be run on by accident).
    # pip too, as in Kedro's CI venv: 0.19's micropkg tests run ``python -m
    # build``, which without pip bootstraps one into every isolated build env
    # (minutes per test here instead of seconds).
    _install_as_of(session, kedro, "pip", *_suite_helper("requirements", str(suite)))
    session.run(
        "python",
        str(KEDRO_SUITES),
        "--label",
        kedro,
        "--tests",
        str(suite),
        "--stock-env",
        "KEDRO_PIPELINENAME_DISABLE=1",
        # As a pytest plugin the package is imported, and so installed, before
        # any test module: the whole pytest process runs patched.
        "--patched-arg=-pkedro_pipelinename",
        "--report",
        str(REPORTS / f"{kedro}.json"),
        *session.posargs,
    )


#: Kedro's behave features run on one 0.19 and the latest 1.x: each run takes
#: minutes (every scenario creates a project and runs ``kedro`` in
#: subprocesses), and the monkey patch's code paths differ between 0.19 and 1.x.
BEHAVE_KEDRO = ("0.19.15", "1.7.0")

#: What the test starter's requirements.txt asks for (Kedro's environment.py
#: installs it before the features run); installed here, as of the same day.
TEST_STARTER_REQUIREMENTS = (
    "ipython>=8.10",
    "jupyterlab>=3.0",
    "notebook",
    "kedro-datasets[pandas-csvdataset]",
)


def _uv() -> str:
    """The uv nox builds its environments with (on PATH, or nox's own)."""
    found = shutil.which("uv")
    if found:
        return found
    from nox.virtualenv import find_uv

    has_uv, path, *_ = find_uv()
    if not has_uv:
        raise RuntimeError("kedro_behave needs uv for its second environment")
    return str(path)


@nox.session
@nox.parametrize("kedro", BEHAVE_KEDRO)
def kedro_behave(session: nox.Session, kedro: str) -> None:
    """Kedro's behave features, stock vs the settings.py line, on one Kedro."""
    suite = _kedro_tests_dir() / _suite_helper("suite-for", kedro)[0]
    behave = next(
        r
        for r in _suite_helper("requirements", str(suite))
        if r.lower().startswith("behave")
    )
    # pip itself: the features call the environment's pip (test plugin, package).
    requirements = (behave, "pip", *TEST_STARTER_REQUIREMENTS)
    as_of = _install_as_of(session, kedro, *requirements)
    # The patched side gets an environment of its own with the same packages
    # (uv links them from its cache: seconds), so that the two sides, one CPU
    # each, run at the same time: the features install and uninstall packages
    # in the environment they run in.
    stock_python = Path(session.bin) / "python"
    patched_venv = Path(f"{session.virtualenv.location}-patched")
    uv = _uv()
    session.run(
        uv,
        "venv",
        "--quiet",
        "--clear",
        "--python",
        str(stock_python),
        str(patched_venv),
        external=True,
    )
    session.run(
        uv,
        "pip",
        "install",
        "--quiet",
        "--python",
        str(patched_venv / "bin" / "python"),
        "--exclude-newer",
        as_of,
        "-e",
        ".",
        f"kedro=={kedro}",
        *requirements,
        external=True,
    )
    session.run(
        "python",
        str(ROOT / ".ci" / "kedro_behave.py"),
        "--label",
        kedro,
        "--tests",
        str(suite),
        "--stock-python",
        str(stock_python),
        "--patched-python",
        str(patched_venv / "bin" / "python"),
        "--report",
        str(ROOT / "build" / "kedro-behave" / f"{kedro}.json"),
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy (strict) over the package."""
    session.install("-e", ".[test]")
    session.run(
        "ruff",
        "check",
        "kedro_pipelinename",
        "kedro_pipelinename_commands",
        "tests",
        "noxfile.py",
        ".ci",
    )
    session.run(
        "ruff",
        "format",
        "--check",
        "kedro_pipelinename",
        "kedro_pipelinename_commands",
        "tests",
        "noxfile.py",
        ".ci",
    )
    session.run("mypy")
