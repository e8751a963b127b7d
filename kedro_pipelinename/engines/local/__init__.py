"""The local engine: every job a ``kedro run`` process on this machine."""

from __future__ import annotations

from .processes import SPEC, LocalBatchEngine
from .runner import LocalBatchRunner
from .settings import LocalBatchSettings

__all__ = ["SPEC", "LocalBatchEngine", "LocalBatchRunner", "LocalBatchSettings"]
