"""Helpers for the batch tests: moto resources, strict clients, plans and projects."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attrs import define, field

# tests/ holds the shared project builder (projects.py) and is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kedro_pipelinename.batch.aws import make_client
from kedro_pipelinename.batch.plan import JobPlan, PlannedJob
from kedro_pipelinename.batch.aws import AWSBatchSettings

RUN_ID = "2024-01-15T10.30.00.000Z"

#: AWS Batch's job name rule (moto's is looser: it wants two characters).
AWS_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


@define
class StrictLimits:
    """A ``before-parameter-build`` hook asserting the limits moto does not.

    Also counts the calls per operation and keeps the time of each SubmitJob.
    """

    violations: list[str] = field(factory=list)
    calls: Counter[str] = field(factory=Counter)
    submit_times: list[float] = field(factory=list)
    describe_sizes: list[int] = field(factory=list)
    lock: threading.Lock = field(factory=threading.Lock)

    def __call__(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        operation = model.name
        with self.lock:
            self.calls[operation] += 1
            if operation == "SubmitJob":
                self.submit_times.append(time.monotonic())
        problems = []
        if operation == "SubmitJob":
            if not AWS_JOB_NAME.match(params.get("jobName", "")):
                problems.append(f"job name {params.get('jobName')!r}")
            if len(params.get("dependsOn", [])) > 20:
                problems.append(f"{len(params['dependsOn'])} dependsOn")
            if len(params.get("tags", {})) > 50:
                problems.append(f"{len(params['tags'])} tags")
        if operation == "DescribeJobs":
            size = len(params.get("jobs", []))
            self.describe_sizes.append(size)
            if not 1 <= size <= 100:
                problems.append(f"DescribeJobs with {size} ids")
        if problems:
            self.violations.extend(problems)
            raise AssertionError(f"AWS Batch limit broken: {problems}")

    def install(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build.batch", self)
        return client


@define
class BatchWorld:
    """What ``create_batch_resources`` made in moto."""

    endpoint: str
    region: str
    queue: str
    definition: str

    def settings(self, **overrides: Any) -> AWSBatchSettings:
        values: dict[str, Any] = {
            "job_queue": self.queue,
            "job_definition": self.definition,
            "endpoint_url": self.endpoint,
            "region": self.region,
            "lookup_delay": 0.0,
            # Under the 50/s quota with room for network jitter, as the default.
            "submit_rate": 45.0,
        }
        values.update(overrides)
        return AWSBatchSettings(**values)

    def client(self, limits: StrictLimits | None = None) -> Any:
        client = make_client(self.settings())
        return limits.install(client) if limits is not None else client

    def jobs(self) -> list[dict[str, Any]]:
        """Every job of the queue, described (tags, dependsOn, container)."""
        client = make_client(self.settings())
        ids = [
            summary["jobId"]
            for summary in client.list_jobs(jobQueue=self.queue)["jobSummaryList"]
        ]
        described: list[dict[str, Any]] = []
        for start in range(0, len(ids), 100):
            described.extend(
                client.describe_jobs(jobs=ids[start : start + 100])["jobs"]
            )
        return described


def create_batch_resources(endpoint: str, region: str) -> BatchWorld:
    """An IAM role, an unmanaged compute environment, a queue and a definition."""
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name=region)
    role = iam.create_role(
        RoleName="batch-service",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
    )["Role"]["Arn"]
    batch = boto3.client("batch", endpoint_url=endpoint, region_name=region)
    environment = batch.create_compute_environment(
        computeEnvironmentName="kedro-ce",
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=role,
    )["computeEnvironmentArn"]
    batch.create_job_queue(
        jobQueueName="kedro-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
    )
    batch.register_job_definition(
        jobDefinitionName="kedro-project",
        type="container",
        containerProperties={
            "image": "example/kedro-project:latest",
            "command": ["kedro", "run"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )
    return BatchWorld(
        endpoint=endpoint,
        region=region,
        queue="kedro-queue",
        definition="kedro-project",
    )


def planned(
    name: str,
    *,
    depends_on: Sequence[str] = (),
    namespace: str | None = None,
    tags: Sequence[str] = (),
    nodes: Sequence[str] | None = None,
) -> PlannedJob:
    """A job with a plausible command, as plan_jobs would make it."""
    node_names = tuple(nodes) if nodes is not None else (f"{name}.node",)
    return PlannedJob(
        name=name,
        group=name,
        namespace=namespace,
        nodes=node_names,
        tags=tuple(tags),
        depends_on=tuple(depends_on),
        command=(
            "kedro",
            "run",
            "--pipelines=train",
            f"--nodes={','.join(node_names)}",
        ),
        env={"KEDRO_PIPELINENAME_RUN_ID": RUN_ID},
    )


def plan_of(jobs: Sequence[PlannedJob]) -> JobPlan:
    return JobPlan(
        run_id=RUN_ID, pipeline_names=("train",), grouping="namespace", jobs=jobs
    )


def wide_dag(size: int, fan_in: int = 30) -> JobPlan:
    """``size`` jobs: layers of 50, each job depending on up to 3 of the layer
    before, and a final job depending on the last ``fan_in`` jobs (over 20)."""
    jobs: list[PlannedJob] = []
    names: list[str] = []
    layer_width = 50
    for number in range(size - 1):
        layer, column = divmod(number, layer_width)
        parents = []
        if layer:
            base = (layer - 1) * layer_width
            parents = sorted(
                {names[base + (column + shift) % layer_width] for shift in (0, 7, 19)}
            )
        name = f"job-{number:04d}"
        names.append(name)
        jobs.append(planned(name, depends_on=parents))
    jobs.append(planned("fan-in", depends_on=names[-fan_in:]))
    return plan_of(jobs)


# --- a real project -------------------------------------------------------------

PROJECT_DATASETS = '''
import json
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset


class JSONFile(AbstractDataset):
    """JSON on disk: Kedro core ships no file dataset."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> Any:
        return json.loads(self._filepath.read_text())

    def save(self, data: Any) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        self._filepath.write_text(json.dumps(data))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
'''

PROJECT_NODES = """
def prepare(raw):
    return sorted(raw)


def fit(rows, smoothing):
    return {"mean": sum(rows) / (len(rows) + smoothing)}


def report(first, second):
    combined = {"client_1": first, "client_2": second}
    return combined, len(combined)
"""

PROJECT_REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from proj.nodes import fit, prepare, report


def client_pipeline(namespace):
    return pipeline(
        [
            node(prepare, "raw", "rows", name="prepare"),
            node(fit, ["rows", "params:smoothing"], "metrics", name="fit"),
        ],
        namespace=namespace,
        parameters={"smoothing"},
    )


def register_pipelines():
    train = (
        client_pipeline("client_1")
        + client_pipeline("client_2")
        + Pipeline(
            # "summary" is undeclared: an output that stays in the job's memory.
            [node(report, ["client_1.metrics", "client_2.metrics"],
                  ["report", "summary"], name="report")]
        )
    )
    return {"__default__": train, "train": train}
"""

PERSISTED_CATALOG = """
"{namespace}.{name}":
  type: proj.datasets.JSONFile
  filepath: data/{namespace}/{name}.json
report:
  type: proj.datasets.JSONFile
  filepath: data/report.json
"""

#: Only the raw inputs: rows and metrics are undeclared, kept in memory.
MEMORY_CATALOG = """
client_1.raw:
  type: proj.datasets.JSONFile
  filepath: data/client_1/raw.json
client_2.raw:
  type: proj.datasets.JSONFile
  filepath: data/client_2/raw.json
"""

PROJECT_PARAMETERS = """
smoothing: 1.0
aws_batch:
  job_queue: kedro-queue
  job_definition: kedro-project
  max_workers: 4
"""


def write_batch_project(root: Path, *, catalog: str = PERSISTED_CATALOG) -> Path:
    """Two namespaced client pipelines and a report, registered as ``train``."""
    from projects import write_project

    project = write_project(
        root,
        modules={"datasets": PROJECT_DATASETS, "nodes": PROJECT_NODES},
        registry=PROJECT_REGISTRY,
        catalog=catalog,
        parameters=PROJECT_PARAMETERS,
        extra_conf={"batch_env/parameters.yml": "smoothing: 1.0\n"},
    )
    for client, rows in (("client_1", [3, 1, 2]), ("client_2", [5, 4])):
        path = project / "data" / client / "raw.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(rows))
    return project


def run_options() -> dict[str, str]:
    """The long flags of the installed ``kedro run``, by parameter name."""
    from kedro.framework.cli.project import run

    return {
        parameter.name: next(opt for opt in parameter.opts if opt.startswith("--"))
        for parameter in run.params
        if parameter.name
    }


def pipelines_flag() -> str:
    """``--pipelines`` on Kedro 1.2+, ``--pipeline`` before."""
    options = run_options()
    return options["pipelines"] if "pipelines" in options else options["pipeline"]


def persisted_dataset_type() -> str:
    """A ``type:`` for catalog configs: a persisted (non-ephemeral) dataset."""
    return "batch_support.LocalJSON"


def _define_local_json() -> type:
    namespace: dict[str, Any] = {}
    exec(PROJECT_DATASETS, namespace)  # the same class the test project uses
    cls: type = namespace["JSONFile"]
    cls.__module__ = __name__
    cls.__qualname__ = cls.__name__ = "LocalJSON"
    return cls


LocalJSON = _define_local_json()
