"""The feature request's scenario as a runnable demo.

``python -m kedro_pipelinename.demo [PATH]`` writes the scenario project (see
``kedro_pipelinename.demo.project``) into ``PATH`` or a temp dir, prints the job
plan, runs ``client_1_train`` job by job with ``LocalBatchRunner`` and prints where
the outputs are.
"""

from __future__ import annotations

from .project import DemoProject, write_demo_project

__all__ = ["DemoProject", "write_demo_project"]
