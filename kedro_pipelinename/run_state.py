"""What a running session shares with the code it runs, as context variables.

A leaf module: the run-context value (``run_context.py``) reads it, the session
patches (``run_tracking.py``) set it, and neither imports the other to get it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .run_context import RunContext

#: The running session's context; ``run_context.current_run()`` reads it.
CURRENT_RUN: Final[ContextVar[RunContext | None]] = ContextVar(
    "kedro_pipelinename_current_run", default=None
)
