"""What a running session shares with the code it runs, as context variables.

A leaf module: the run-context value (``context.py``) reads it, the session
patches (``tracking.py``) set it, and neither imports the other to get it. The
variable is typed ``Any`` rather than ``RunContext | None`` because naming the
class here, even for type checkers only, would make the two modules a circle;
``context.current_run()`` is the typed reader.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Final

#: The running session's ``RunContext`` or None; ``context.current_run()`` reads it.
CURRENT_RUN: Final[ContextVar[Any]] = ContextVar(
    "kedro_pipelinename_current_run", default=None
)
