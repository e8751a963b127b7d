"""Every value reaches its job byte for byte, or is refused before anything runs.

Hypothesis generates hostile text (``strategies.hostile_text``: control
characters, NUL, lone surrogates, quotes, shell metacharacters, leading dashes,
strings over 128 KiB) for namespaces, params, the run's env, run ids, job argvs,
environment values and the project directory. What the builders and engines
produce is *run*: a real ``bash`` runs the SLURM job script, a fake ``sbatch``
(recording its argv, then running the script as SLURM would) stands in for the
cluster, and a fake ``kedro`` records the argv, environment and directory it
got. A value that arrives changed, a file the payload ``touch pwned`` made, or
an error other than the boundary's is a failure.

Examples per test: ``FUZZ_EXAMPLES`` (default 25, the README command); CI may
set ``KEDRO_PIPELINENAME_FUZZ_EXAMPLES`` higher.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kedro.pipeline import node, pipeline

from kedro_pipelinename import RunCommandError, RunContext
from kedro_pipelinename.batch.engine import EngineRun, JobStatus, Submission
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.preflight import check_values
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.local.processes import LocalBatchEngine
from kedro_pipelinename.engines.local.settings import LocalBatchSettings
from kedro_pipelinename.engines.slurm.commands import SlurmCommands
from kedro_pipelinename.engines.slurm.engine import SlurmBatchEngine
from kedro_pipelinename.engines.slurm.script import JobFiles, batch_script, job_data
from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings
from kedro_pipelinename.relaunch.argv import build_run_command, build_run_env
from kedro_pipelinename.relaunch.boundaries import MAX_ARG_STRLEN, BoundaryError
from tests.strategies import combine, hostile_file_name, hostile_text, job_values
from tests.support.waiting import final_status

FUZZ_EXAMPLES = int(os.environ.get("KEDRO_PIPELINENAME_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RUN_ID = "2026-12-05T10.00.00.000Z"

#: Records what it was started with: argv and environment NUL-separated, and
#: its working directory. Bash: it starts in a millisecond.
FAKE_KEDRO = """#!/bin/bash
: > "$FUZZ_RECORD.argv"
for argument in "$@"; do printf '%s\\0' "$argument" >> "$FUZZ_RECORD.argv"; done
env -0 > "$FUZZ_RECORD.env"
printf '%s' "$PWD" > "$FUZZ_RECORD.cwd"
"""
#: ``sbatch --parsable [options] SCRIPT DATA``: records its argv, then runs the
#: script as SLURM would (``SLURM_JOB_ID`` set, the data file as ``$1``).
FAKE_SBATCH = """#!/bin/bash
for argument in "$@"; do printf '%s\\0' "$argument" >> "$FUZZ_RECORD.sbatch"; done
SLURM_JOB_ID=42 bash "${@: -2:1}" "${@: -1:1}" > /dev/null 2>&1
echo 42
"""
FAKE_QUIET = "#!/bin/bash\nexit 0\n"

#: Names a shell can export, and names it cannot.
_EXPORTABLE = st.from_regex(r"V_[A-Za-z0-9_]{0,8}", fullmatch=True)
ENV_NAMES = st.one_of(_EXPORTABLE, _EXPORTABLE, _EXPORTABLE, hostile_text(max_size=8))


@pytest.fixture(scope="module")
def fake_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bin_dir = tmp_path_factory.mktemp("fake-bin")
    for name, text in (
        ("kedro", FAKE_KEDRO),
        ("sbatch", FAKE_SBATCH),
        ("squeue", FAKE_QUIET),
        ("scancel", FAKE_QUIET),
    ):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


@pytest.fixture(autouse=True)
def _no_pwned_in_cwd() -> Iterator[None]:
    yield
    assert not Path("pwned").exists()


def _entry_too_long(env: Mapping[str, str]) -> bool:
    # The kernel's per-string limit is on the whole NAME=value entry.
    return any(refusable(f"{name}={value}") for name, value in env.items())


def _job_refused(arguments: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether a job with ``arguments`` and ``env`` must be refused: a value no
    argv or environment carries, a name no shell exports, an entry too long."""
    return (
        any(refusable(value) for value in [*arguments, *env.values()])
        or not all(map(_exportable, env))
        or _entry_too_long(env)
    )


def refusable(value: str) -> bool:
    """Whether no argv or environment can carry ``value`` unchanged."""
    try:
        size = len(value.encode("utf-8")) + 1
    except UnicodeEncodeError:
        return True
    return "\0" in value or size > MAX_ARG_STRLEN


def _exportable(name: str) -> bool:
    return (
        bool(name)
        and (name[0].isascii() and (name[0].isalpha() or name[0] == "_"))
        and all(char.isascii() and (char.isalnum() or char == "_") for char in name)
    )


def _fields(path: Path) -> list[str]:
    return [field.decode("utf-8") for field in path.read_bytes().split(b"\0")[:-1]]


def _received(record: Path) -> tuple[list[str], dict[str, str], str]:
    argv = _fields(record.with_suffix(".argv"))
    env = dict(entry.split("=", 1) for entry in _fields(record.with_suffix(".env")))
    return argv, env, record.with_suffix(".cwd").read_bytes().decode("utf-8")


def _nothing_injected(root: Path) -> None:
    assert not [path for path in root.rglob("pwned")], "a payload ran"


def _job(command: Sequence[str], env: Mapping[str, str], name: str) -> PlannedJob:
    return PlannedJob(
        name=name,
        group=name,
        namespace=None,
        nodes=("n",),
        tags=(),
        depends_on=(),
        command=tuple(command),
        env=env,
    )


def _base_env(fake_bin: Path, record: Path) -> dict[str, str]:
    return {"PATH": f"{fake_bin}:/usr/bin:/bin", "FUZZ_RECORD": str(record)}


@FUZZ
@given(
    arguments=st.lists(job_values(), max_size=3),
    env=st.dictionaries(ENV_NAMES, job_values(), max_size=3),
    directory=hostile_file_name(),
)
def test_a_slurm_job_script_runs_exactly_its_command_with_its_environment(
    fake_bin: Path, arguments: list[str], env: dict[str, str], directory: str
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        project = root / directory
        project.mkdir()
        files = JobFiles(root / "logs", "kedro-job")
        command = [str(fake_bin / "kedro"), *arguments]
        job = _job(command, env, "kedro-job")
        bad = _job_refused(arguments, env)
        try:
            data = job_data(job, project_path=project, files=files)
        except BoundaryError:
            assert bad
            return
        assert not bad
        files.log_dir.mkdir()
        files.data.write_bytes(data)
        files.script.write_text(batch_script(SlurmBatchSettings()))
        record = root / "record"
        subprocess.run(
            ["bash", str(files.script), str(files.data)],
            cwd=root,
            env={**_base_env(fake_bin, record), "SLURM_JOB_ID": "7"},
            check=True,
            timeout=30,
        )
        received_argv, received_env, cwd = _received(record)
        assert received_argv == arguments
        assert {name: received_env.get(name) for name in env} == env
        assert cwd == str(project)
        assert (files.log_dir / "kedro-job.7.exit").read_text() == "0\n"
        _nothing_injected(root)


@FUZZ
@given(
    arguments=st.lists(job_values(), max_size=2),
    env=st.dictionaries(ENV_NAMES, job_values(), max_size=2),
    directory=hostile_file_name(),
)
def test_the_slurm_engine_submits_and_its_job_receives_every_value_verbatim(
    fake_bin: Path, arguments: list[str], env: dict[str, str], directory: str
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        project = Path(temporary) / directory
        project.mkdir()
        record = Path(temporary) / "record"
        job = _job([str(fake_bin / "kedro"), *arguments], env, "kedro-job")
        plan = JobPlan(
            run_id=RUN_ID, pipeline_names=("p",), grouping="none", jobs=[job]
        )
        run = EngineRun(plan=plan, settings=BatchSettings(), project_path=project)
        engine = SlurmBatchEngine(
            SlurmBatchSettings(), run, commands=SlurmCommands(str(fake_bin))
        )
        bad = _job_refused(arguments, env)
        saved = os.environ.get("FUZZ_RECORD")
        os.environ["FUZZ_RECORD"] = str(record)
        try:
            job_id = engine.submit(Submission(job=job))
        except BoundaryError:
            assert bad
            assert not record.with_suffix(".sbatch").exists()
            return
        finally:
            if saved is None:
                os.environ.pop("FUZZ_RECORD", None)
            else:
                os.environ["FUZZ_RECORD"] = saved
        assert not bad
        assert job_id == "42"
        received_argv, received_env, cwd = _received(record)
        assert received_argv == arguments
        assert {name: received_env.get(name) for name in env} == env
        assert cwd == str(project.resolve())
        sbatch_argv = _fields(record.with_suffix(".sbatch"))
        assert f"--chdir={project.resolve()}" in sbatch_argv
        _nothing_injected(Path(temporary))


@FUZZ
@given(
    namespace=hostile_text(max_size=12),
    node_name=st.one_of(st.just("n"), hostile_text(max_size=8)),
    run_env=st.one_of(st.none(), hostile_text(max_size=12)),
    param=job_values(),
    run_id=st.one_of(st.just(RUN_ID), hostile_text(max_size=30)),
)
def test_a_built_run_command_reaches_kedro_verbatim_or_is_refused(
    fake_bin: Path,
    namespace: str,
    node_name: str,
    run_env: str | None,
    param: str,
    run_id: str,
) -> None:
    try:
        built = pipeline([node(combine, "a", "b", name=node_name)], namespace=namespace)
    except Exception:  # Kedro refuses the namespace itself: nothing to build
        assume(False)
    built.name = "p"  # type: ignore[attr-defined]
    (full_name,) = [each.name for each in built.nodes]
    plan = JobPlan(
        run_id=RUN_ID,
        pipeline_names=("p",),
        grouping="none",
        jobs=[_job(["kedro"], {}, "kedro-job")],
    )
    # Pre-flight refuses a control character in a node name or namespace (Kedro
    # checks node names with `[\w.-]+$`, whose `$` lets a trailing newline by).
    problems = check_values(plan, built, environ={})
    assert bool(problems) == any(
        unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") for char in full_name
    ), problems
    try:
        context = RunContext(run_id=run_id, env=run_env, runtime_params={"p": param})
    except ValueError:
        return  # RunContext refuses the value itself: nothing can be built
    try:
        argv = build_run_command(
            built,
            nodes=[node_name],
            context=context,
            executable=str(fake_bin / "kedro"),
        )
        env = build_run_env(context)
    except RunCommandError:
        return  # refused before anything ran
    for value in (full_name, param, run_id, run_env or ""):
        assert not refusable(value)
    with tempfile.TemporaryDirectory() as temporary:
        record = Path(temporary) / "record"
        subprocess.run(
            argv,
            env={**_base_env(fake_bin, record), **env},
            check=True,
            timeout=30,
            cwd=temporary,
        )
        received_argv, received_env, _ = _received(record)
        _nothing_injected(Path(temporary))
    assert received_argv == argv[1:]
    assert {name: received_env.get(name) for name in env} == env


_JOB_NAME = st.just("kedro-job")


@settings(FUZZ, max_examples=max(10, FUZZ_EXAMPLES // 2))
@given(
    arguments=st.lists(job_values(), min_size=1, max_size=2),
    env=st.dictionaries(ENV_NAMES, job_values(), max_size=2),
    name=st.one_of(_JOB_NAME, _JOB_NAME, _JOB_NAME, hostile_text(max_size=12)),
)
def test_the_local_engine_starts_each_job_with_its_values_verbatim(
    fake_bin: Path, arguments: list[str], env: dict[str, str], name: str
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        record = root / "record"
        job = _job([str(fake_bin / "kedro"), *arguments], env, name)
        engine = LocalBatchEngine(
            LocalBatchSettings(log_dir=str(root / "logs")),
            run_id=RUN_ID,
            project_path=root,
            environ=_base_env(fake_bin, record),
        )
        bad = _job_refused(arguments, env)
        try:
            job_id = engine.submit(Submission(job=job))
        except BoundaryError:
            assert bad or name != "kedro-job"
            assert not (root / "logs").exists() or not any(
                (root / "logs").rglob("*.log")
            )
            return
        try:
            assert not bad
            assert final_status(engine, job_id, timeout=20) is JobStatus.SUCCEEDED
        finally:
            engine.close()
        received_argv, received_env, cwd = _received(record)
        assert received_argv == arguments
        assert {key: received_env.get(key) for key in env} == env
        assert cwd == str(root)
        _nothing_injected(root)


def test_the_fuzzers_run_the_real_bash() -> None:
    # The properties above are only as good as the shell that runs the script.
    version = subprocess.run(
        ["bash", "-c", "echo ${BASH_VERSINFO[0]}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(version.stdout) >= 3, "read -d needs bash 2.04+"
    assert sys.platform != "win32"


@FUZZ
@given(
    arguments=st.lists(hostile_text(), max_size=3),
    env=st.dictionaries(ENV_NAMES, hostile_text(), max_size=3),
)
def test_an_aws_request_carries_every_value_verbatim_or_is_refused(
    arguments: list[str], env: dict[str, str]
) -> None:
    from kedro_pipelinename.engines.aws.api import submit_job_request
    from kedro_pipelinename.engines.aws.settings import AWSBatchSettings

    job = _job(["kedro", *arguments], env, "kedro-job")
    settings = AWSBatchSettings(
        job_queue="queue", job_definition="definition:3", region="eu-west-1"
    )

    def not_text(value: str) -> bool:  # not NUL-free, UTF-8-encodable text
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return "\0" in value

    # An argument of any length (Batch's 30 KiB quota is the AWS pre-flight's);
    # the environment as every engine's.
    bad = (
        any(map(not_text, arguments))
        or not all(map(_exportable, env))
        or any(refusable(value) for value in env.values())
        or _entry_too_long(env)
    )
    try:
        request = submit_job_request(Submission(job=job), settings, RUN_ID)
    except BoundaryError:
        assert bad
        return
    assert not bad
    # What botocore sends: JSON, UTF-8. It must encode, and read back equal.
    sent = json.loads(json.dumps(request).encode("utf-8"))
    overrides = sent["containerOverrides"]
    assert overrides["command"] == ["kedro", *arguments]
    assert {e["name"]: e["value"] for e in overrides["environment"]} == env
