"""An example third-party batch engine for kedro-pipelinename.

Installed, it registers the engine ``example`` (``pyproject.toml``), which
``kedro run --runner kedro_pipelinename.batch.BatchRunner`` runs with
``KEDRO_BATCH_ENGINE=example``. Its tests are kedro-pipelinename's contract
suite: ``pytest -p kedro_pipelinename.testing``.
"""

from .engine import ExampleEngine, ExampleSettings

__all__ = ["ExampleEngine", "ExampleSettings"]
