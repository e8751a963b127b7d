"""The local engine: every job a ``kedro run`` process on this machine."""

from __future__ import annotations

from .processes import LocalBatchBackend, LocalBatchSettings
from .runner import LocalBatchRunner

__all__ = ["LocalBatchBackend", "LocalBatchRunner", "LocalBatchSettings"]
