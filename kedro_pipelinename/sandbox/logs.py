"""A job's output, line by line, into moto's CloudWatch Logs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Final

#: AWS Batch's default log group.
LOG_GROUP: Final = "/aws/batch/job"


def stream_name(definition_name: str, task_id: str) -> str:
    """The stream AWS Batch names for an attempt:
    ``<job definition name>/default/<ECS task id>``."""
    return f"{definition_name}/default/{task_id}"


class LogForwarder:
    """Sends the complete lines a file gained since the last call to one stream.

    Args:
        backend: moto's ``LogsBackend`` of the job's account and region.
        stream: The log stream (created here, in ``LOG_GROUP``).
        path: The file the job's process writes its stdout and stderr to.
    """

    def __init__(self, backend: Any, stream: str, path: Path) -> None:
        self.backend = backend
        self.stream = stream
        self.path = path
        self._offset = 0
        backend.ensure_log_group(LOG_GROUP)
        backend.ensure_log_stream(LOG_GROUP, stream)

    def forward(self, *, final: bool = False) -> None:
        """Send new complete lines (``final``: the last partial line too)."""
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return
        end = len(data) if final else data.rfind(b"\n") + 1
        if end <= 0:
            return
        self._offset += end
        now = int(time.time() * 1000)
        events = [
            {"timestamp": now, "message": line}
            for line in data[:end].decode("utf-8", "replace").splitlines()
            if line
        ]
        if events:
            self.backend.put_log_events(LOG_GROUP, self.stream, events)
