"""SLURM settings and SLURM's output, without a cluster."""

from __future__ import annotations

import pytest

from kedro_pipelinename.batch.errors import BatchSettingsError
from kedro_pipelinename.batch.settings import resolve_settings
from kedro_pipelinename.engines.slurm.commands import SEPARATOR, parse_squeue
from kedro_pipelinename.engines.slurm.settings import SlurmBatchSettings


def test_no_setting_is_required() -> None:
    settings = resolve_settings(SlurmBatchSettings, arguments={}, blocks=[], environ={})

    assert settings.resources() == {}


def test_every_invalid_setting_is_reported_at_once_with_its_source() -> None:
    with pytest.raises(BatchSettingsError) as raised:
        resolve_settings(
            SlurmBatchSettings,
            arguments={"cpus_per_task": 0},
            blocks=[
                (
                    "slurm_batch",
                    {
                        "time_limit": "soon",
                        "resources_by_tag": {"gpu": {"gpus": 1, "memory": "lots"}},
                        "extra_directives": ["--mail-type=END\n--wrap=rm"],
                    },
                )
            ],
            environ={"KEDRO_BATCH_MEMORY": "4 GB"},
        )

    message = str(raised.value)
    assert len(raised.value.problems) == 5, message
    assert "'cpus_per_task' must be an integer of at least 1; got 0" in message
    assert "the runner argument cpus_per_task=0" in message
    assert "'time_limit' must be a SLURM time limit" in message
    assert "the parameter slurm_batch.time_limit" in message
    assert "gpu.gpus is no resource" in message
    assert "gpu.memory must be a size such as 4096, 4G or 512M; got 'lots'" in message
    assert "'extra_directives' entry must be one line" in message
    assert "the environment variable KEDRO_BATCH_MEMORY" in message


def test_squeue_exit_codes_are_wait_statuses() -> None:
    def row(state: str, exit_code: str) -> str:
        values = ["7", state, "None", exit_code, "vm", "/o", "/e", "kedro-a", "c|d"]
        return "".join(value + SEPARATOR for value in values)

    rows = parse_squeue(
        "\n".join([row("FAILED", "768"), row("CANCELLED", "9"), row("RUNNING", "0")])
    )

    assert [(r.state, r.exit_code) for r in rows] == [
        ("FAILED", 3),
        ("CANCELLED", -9),
        ("RUNNING", None),
    ]
    assert rows[0].comment == "c|d"
