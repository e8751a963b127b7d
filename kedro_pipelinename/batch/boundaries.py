"""The boundary functions, for the engines (``kedro_pipelinename.boundaries``).

Engines import only the batch core (``docs/architecture.md``), and the core's
``command.py`` cannot import the batch package: the functions live one layer
down and are re-exported here, unchanged.
"""

from __future__ import annotations

from ..boundaries import (
    BoundaryError,
    argv_argument,
    aws_string,
    environment_variable,
    job_script_data,
    path_component,
    script_line,
    shown,
)

__all__ = [
    "BoundaryError",
    "argv_argument",
    "aws_string",
    "environment_variable",
    "job_script_data",
    "path_component",
    "script_line",
    "shown",
]
