"""The tests' AWS Batch compute is the shipped sandbox's
(``kedro_pipelinename.sandbox.compute``): jobs really run, as local processes,
honouring ``dependsOn``, retries, timeouts and TerminateJob.

``MotoCompute(workdir, capacity=False)``: a compute environment without
capacity, where every job stays RUNNABLE until it is terminated.
"""

from __future__ import annotations

from kedro_pipelinename.sandbox.compute import TICK, SandboxCompute

MotoCompute = SandboxCompute

__all__ = ["TICK", "MotoCompute"]
