"""The implementation switch of the contract suite (``conftest.py`` sets it up
around every test).

The contract suite checks the behaviour of ``Pipeline.name`` / ``names`` through
Kedro's public API only, so it can run against two implementations:

``monkeypatch`` (default)
    This package: every test calls ``kedro_pipelinename.install()`` in setup and
    ``uninstall()`` in teardown, as OpenTelemetry's instrumentor tests do, and puts
    the process back the way it found it.
``native``
    A Kedro that has ``Pipeline.name`` built in (``patches/`` applied). Run it as::

        KEDRO_PIPELINENAME_DISABLE=1 KEDRO_PIPELINENAME_CONTRACT_IMPL=native \\
            PYTHONPATH=/path/to/patched/kedro/parent python -m pytest tests/contract

"Stock Kedro" (the node sets every operation must still produce) is this same
Kedro with the patch uninstalled for ``monkeypatch``; for ``native`` the node
logic is Kedro's own by construction, so the comparison is with itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Literal

import pytest
from attrs import define, field, validators

#: Selects the implementation under test: ``monkeypatch`` (default) or ``native``.
IMPL_ENV_VAR = "KEDRO_PIPELINENAME_CONTRACT_IMPL"

Kind = Literal["monkeypatch", "native"]


@define(frozen=True)
class Implementation:
    """One implementation of the ``Pipeline.name`` contract.

    Attributes:
        kind: ``"monkeypatch"`` (this package) or ``"native"`` (a patched Kedro).
    """

    kind: Kind = field(validator=validators.in_(("monkeypatch", "native")))

    @property
    def is_native(self) -> bool:
        """Whether names are built into Kedro rather than patched in."""
        return self.kind == "native"

    def setup(self) -> bool:
        """Make names available for one test; return whether the patch was installed.

        Raises:
            RuntimeError: For ``native`` when the imported Kedro has no
                ``Pipeline.names`` or this package's patch is active anyway.
        """
        if self.is_native:
            from kedro.pipeline import Pipeline

            if "names" not in dir(Pipeline):
                import kedro

                raise RuntimeError(
                    f"{IMPL_ENV_VAR}=native but the imported Kedro "
                    f"({kedro.__file__}) has no Pipeline.names; put the patched "
                    f"Kedro first on PYTHONPATH."
                )
            if _patch_active():
                raise RuntimeError(
                    f"{IMPL_ENV_VAR}=native but kedro_pipelinename is installed; "
                    f"set KEDRO_PIPELINENAME_DISABLE=1."
                )
            return False
        import kedro_pipelinename

        was_installed = kedro_pipelinename.is_installed()
        if was_installed:
            kedro_pipelinename.uninstall()
        kedro_pipelinename.install()
        return was_installed

    def teardown(self, was_installed: bool) -> None:
        """Undo ``setup`` and restore the state the process was in before it."""
        if self.is_native:
            return
        import kedro_pipelinename

        kedro_pipelinename.uninstall()
        if was_installed:
            kedro_pipelinename.install()

    @contextlib.contextmanager
    def stock(self) -> Iterator[None]:
        """Run the body on stock Kedro (patch uninstalled), then re-install.

        For ``native`` this does nothing: the node logic is Kedro's own.
        """
        if self.is_native:
            yield
            return
        import kedro_pipelinename

        kedro_pipelinename.uninstall()
        try:
            yield
        finally:
            kedro_pipelinename.install()


def _patch_active() -> bool:
    module = sys.modules.get("kedro_pipelinename")
    return bool(module is not None and module.is_installed())


def current_implementation() -> Implementation:
    """The implementation selected by ``KEDRO_PIPELINENAME_CONTRACT_IMPL``."""
    kind = os.environ.get(IMPL_ENV_VAR, "monkeypatch").strip() or "monkeypatch"
    if kind not in ("monkeypatch", "native"):
        raise pytest.UsageError(
            f"{IMPL_ENV_VAR}={kind!r} is not an implementation; use 'monkeypatch' "
            f"or 'native'."
        )
    return Implementation(kind)  # type: ignore[arg-type]
