"""Suite-wide fixtures.

The suite runs the way a project does: ``import kedro_pipelinename`` installs the
patch (unless ``KEDRO_PIPELINENAME_DISABLE=1``, as the native contract run sets).
Tests that uninstall or re-install it must leave it as they found it; the
autouse fixture below puts it back if one does not, so one leaky test cannot
change what every later test sees.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

import kedro_pipelinename


@pytest.fixture(autouse=True)
def _restore_install_state() -> Iterator[None]:
    installed_before = kedro_pipelinename.is_installed()
    yield
    if kedro_pipelinename.is_installed() == installed_before:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if installed_before:
            kedro_pipelinename.install()
        else:
            kedro_pipelinename.uninstall()
