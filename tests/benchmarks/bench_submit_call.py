"""The CPU of one SubmitJob through the AWS engine, and where it goes.

Run: ``python -m tests.benchmarks.bench_submit_call [--calls 400]``.

The floor under ``bench_submit_rate``'s per-job figure: ``engine.submit`` of
single jobs, one after another from this thread, against moto's server behind
the ``FaultProxy`` (no added latency; kept-alive connections, as in
``bench_submit_rate``), the rate limit off, after the pre-flight. This
thread's CPU time (``time.thread_time``: waiting for the answer is not
counted) per call, in one run for both ways a first try can go:

- ``botocore``: the client's own pipeline (as every retry goes, and every
  first try before ``submit_call.py``), split into botocore's steps by
  wrapping them: the HTTP exchange (``DirectSession`` on http.client,
  ``engines/aws/http.py``), building the request (``create_request``: SigV4
  signing included), serializing the parameters and resolving the endpoint.
- ``direct``: ``DirectSubmit`` (``engines/aws/submit_call.py``), split into
  its HTTP exchange and its SigV4 signing.

Each planned job that is not in an array costs one such call.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedro_pipelinename.batch.engine import EngineRun, Submission
from kedro_pipelinename.batch.settings import BatchSettings
from kedro_pipelinename.engines.aws import submit_call
from kedro_pipelinename.engines.aws.engine import AWSBatchEngine
from tests.benchmarks.bench_batch import REGION, start_moto
from tests.benchmarks.bench_submit_rate import fresh_settings, start_proxy
from tests.support.plans import wide_dag

#: Calls before the measured ones (connections opened, caches filled).
WARM_UP = 20


def _timed(owner: Any, name: str, label: str, spent: dict[str, float]) -> None:
    """Wrap ``owner.name`` to add its thread CPU time to ``spent[label]``."""
    function: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - start

    setattr(owner, name, timed)
    spent[label] = 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    moto, endpoint = start_moto()
    proxy, proxy_url = start_proxy(endpoint, 0.0)
    try:
        # Jobs without parents: one dependsOn-free request shape.
        plan = wide_dag(50)
        jobs = [job for job in plan.jobs if not job.depends_on]
        run = EngineRun(plan=plan, settings=BatchSettings(), project_path=Path.cwd())
        engine = AWSBatchEngine.open(run, fresh_settings(endpoint, proxy_url))
        assert engine.check() == []
        # The rate limit would only make this slower, not cost CPU.
        engine.client.meta.events.unregister(
            "before-send.batch", unique_id="kedro-pipelinename-rate-limit"
        )
        for number in range(WARM_UP):
            engine.submit(Submission(job=jobs[number % len(jobs)]))
        spent: dict[str, float] = defaultdict(float)
        client = engine.client
        direct = engine._direct
        assert direct is not None and direct.ready, "no direct SubmitJob"
        _timed(client, "_make_api_call", "botocore call, in all", spent)
        _timed(client._endpoint.http_session, "exchange", "  HTTP exchange", spent)
        _timed(client._endpoint, "create_request", "  request + signing", spent)
        _timed(client._request_signer, "sign", "    of which SigV4", spent)
        _timed(client, "_convert_to_request_dict", "  serializing", spent)
        _timed(client, "_resolve_endpoint_ruleset", "  endpoint rules", spent)
        labels = list(spent)  # in the order wrapped: steps under the call
        totals: dict[str, float] = {}
        # botocore's pipeline first: the HTTP exchange's wrapper counts for
        # both, so its share is read between the two loops.
        engine._direct = None
        start = time.thread_time()
        for number in range(arguments.calls):
            engine.submit(Submission(job=jobs[number % len(jobs)]))
        totals["botocore"] = time.thread_time() - start
        botocore_spent = dict(spent)
        for label in spent:
            spent[label] = 0.0
        engine._direct = direct
        _timed(direct, "submit", "DirectSubmit, in all", spent)
        _timed(submit_call, "sigv4_headers", "  SigV4", spent)
        start = time.thread_time()
        for number in range(arguments.calls):
            engine.submit(Submission(job=jobs[number % len(jobs)]))
        totals["direct"] = time.thread_time() - start
        engine.close()
    finally:
        for process in (proxy, moto):
            process.terminate()
            process.wait(timeout=30)
    per_call = 1000 / arguments.calls
    print(
        f"engine.submit, ms of CPU per SubmitJob ({arguments.calls} calls each; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print(f"  botocore's pipeline        {totals['botocore'] * per_call:.2f}")
    for label in labels:
        print(f"    {label:<24} {botocore_spent[label] * per_call:.2f}")
    print(
        f"  direct (submit_call.py)    {totals['direct'] * per_call:.2f}  "
        f"({totals['direct'] / totals['botocore']:.2f} x botocore's)"
    )
    for label in ("DirectSubmit, in all", "  HTTP exchange", "  SigV4"):
        print(f"    {label:<24} {spent[label] * per_call:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
