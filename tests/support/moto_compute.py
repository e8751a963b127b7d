"""The tests' AWS Batch compute is the shipped sandbox's
(``kedro_pipelinename.sandbox.compute``): jobs really run, as local processes,
honouring ``dependsOn``, retries, timeouts, TerminateJob and array jobs
(children ``<id>:<index>``, ``N_TO_N``, ``SEQUENTIAL``).

``MotoCompute(workdir, capacity=False)``: a compute environment without
capacity, where every job stays RUNNABLE until it is terminated;
``MotoCompute(workdir, slots=N)``: at most N jobs run at once (an array's
other children wait RUNNABLE).
"""

from __future__ import annotations

from kedro_pipelinename.sandbox.compute import TICK, SandboxCompute

MotoCompute = SandboxCompute

__all__ = ["TICK", "MotoCompute"]
