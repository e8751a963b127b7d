"""Fixtures of the SLURM tests: the session's cluster (``tests/support/slurm.py``;
the scenario project, ``demo_project``, is in ``tests/conftest.py``)."""

from tests.support.slurm import slurm_cluster

__all__ = ["slurm_cluster"]
