"""Job plans built by hand, as ``plan_jobs`` would make them."""

from __future__ import annotations

from collections.abc import Sequence

from kedro_pipelinename.batch.plan import JobPlan, PlannedJob

RUN_ID = "2024-01-15T10.30.00.000Z"


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
