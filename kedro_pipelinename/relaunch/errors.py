"""The error of a run that no ``kedro run`` command can express."""

from __future__ import annotations


class RunCommandError(ValueError):
    """The run cannot be expressed as a ``kedro run`` command for this Kedro."""
