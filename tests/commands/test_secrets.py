"""No secret value of a run is written under ``logs/`` or printed; modes are tight.

One real local run passes a secret each way (``KEDRO_BATCH_EXTRA_ENV``, a
``KEDRO_*`` variable of the driver's environment, ``--params token=...``), its
report job fails (so the resume hint is printed), then every ``kedro batch``
command runs; the jobs must still have received every value.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli_env, pipelines_flag
from tests.support.commands_project import (
    LOCAL_RUNNER,
    run_ids,
    write_commands_project,
)

pytestmark = pytest.mark.slow

EXTRA_SECRET = "tok-extra-5a1b9c"
ENV_SECRET = "pw-driver-7d3e2f"
PARAM_SECRET = "tok-param-0c4d8e"
SECRETS = (EXTRA_SECRET, ENV_SECRET, PARAM_SECRET)

#: Every node run writes what its process received (outside ``logs/``), so the
#: test sees that the jobs got every value.
SEEN = """
import os
from pathlib import Path

from kedro.framework.hooks import hook_impl


class Seen:
    @hook_impl
    def before_node_run(self, node, inputs):
        Path("data/seen").write_text(
            os.environ.get("API_TOKEN", "") + "|" + str(inputs.get("params:token"))
        )
"""


def _kedro(project: Path, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        env=cli_env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout + result.stderr


def test_no_secret_is_written_under_logs_or_printed_and_modes_are_tight(
    tmp_path: Path,
) -> None:
    project = write_commands_project(tmp_path / "proj")
    (project / "src" / "proj" / "seen.py").write_text(SEEN)
    with (project / "src" / "proj" / "settings.py").open("a") as settings:
        settings.write("\nfrom proj.seen import Seen\n\nHOOKS = (Seen(),)\n")
    (project / "data" / "fail_report").touch()
    env = {
        "KEDRO_BATCH_MAX_POLL_INTERVAL": "0.5",
        "KEDRO_BATCH_POLL_INTERVAL": "0.1",
        "KEDRO_BATCH_EXTRA_ENV": json.dumps({"API_TOKEN": EXTRA_SECRET}),
        "KEDRO_MY_PASSWORD": ENV_SECRET,
    }
    run = [
        "run",
        f"{pipelines_flag()}=train",
        f"--params=smoothing=3.0,token={PARAM_SECRET}",
        f"--runner={LOCAL_RUNNER}",
    ]
    old_umask = os.umask(0o022)
    try:
        printed = [_kedro(project, *run, env=env)]
        (run_id,) = run_ids(project)
        for args in (
            ("runs",),
            ("runs", "--json"),
            ("status", run_id),
            ("status", run_id, "--json"),
            ("plan", f"{pipelines_flag()}=train", f"--params=token={PARAM_SECRET}"),
            ("plan", "--format=json", f"--params=token={PARAM_SECRET}"),
            ("resume", run_id),
            ("cancel", run_id),
        ):
            printed.append(_kedro(project, "batch", *args, env=env))
    finally:
        os.umask(old_umask)

    hits = [
        (str(path), secret)
        for path in (project / "logs").rglob("*")
        if path.is_file()
        for secret in SECRETS
        if secret in path.read_text(errors="replace")
    ]
    hits += [
        (f"output {index}", secret)
        for index, text in enumerate(printed)
        for secret in SECRETS
        if secret in text
    ]
    assert hits == []
    # The resume hint names the variables; the user's shell fills them in.
    assert 'KEDRO_BATCH_EXTRA_ENV="${KEDRO_BATCH_EXTRA_ENV}"' in printed[0]
    assert "token=${TOKEN}" in printed[0]
    run_dir = project / "logs" / "batch" / run_id
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    assert {
        path.name: stat.S_IMODE(path.stat().st_mode)
        for path in run_dir.iterdir()
        if path.is_file()
    } == {"run.json": 0o600}
    # The jobs still got every value (the extra variable in their environment).
    assert (project / "data" / "seen").read_text().startswith(f"{EXTRA_SECRET}|")
