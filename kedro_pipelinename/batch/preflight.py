"""Checks that run before any job is created; each lists *every* problem it finds.

- **Names**: the pipeline carries the registered names it came from, each name is
  in the project's registry, and every node of every job is in those registered
  pipelines, so ``kedro run --pipelines <names> --nodes <job's nodes>`` finds the
  job's nodes in a fresh process.
- **Persistence**: every dataset that one job writes and another reads is
  persisted by the catalog. A ``MemoryDataset`` (declared, or what Kedro makes for
  a dataset the catalog does not declare) lives in one process only: the reading
  job would fail, or worse, read another run's data.

The catalog is asked through what every supported Kedro has: ``name in catalog``
and the dataset object (``catalog.get(name)`` on Kedro 1.x and 0.19's
``KedroDataCatalog``, ``catalog._get_dataset(name)`` on 0.19's ``DataCatalog``),
whose ``_EPHEMERAL`` flag (Kedro 0.19+) says whether its data lives only in memory.
Dataset factory patterns are resolved by those same calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..names.logs import logger_for
from ..relaunch.boundaries import (
    BoundaryError,
    argv_argument,
    environment_variable,
    exec_problem,
    pipeline_name_part,
)
from ..run.catalog import dataset_in
from ..run.run_id import RUN_ID_ENV_VAR
from .errors import PreflightError
from .plan import JobPlan

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

    from ..run.catalog import Catalog, Dataset

logger = logger_for(__name__)

#: How to give a pipeline its names, for the error that finds none.
HOW_TO_NAME = (
    "Add `import kedro_pipelinename` to the project's settings.py and run "
    "registered pipelines (`kedro run --pipelines <name>`); a batch runner "
    "re-launches each job as `kedro run --pipelines <name> --nodes ...`, which "
    "needs the name."
)


def require_names(pipeline: Pipeline, runner: str) -> tuple[str, ...]:
    """The registered names of ``pipeline``.

    Raises:
        PreflightError: When the pipeline has none (the patch is not installed,
            or the pipeline was not taken from the registry).
    """
    names = tuple(getattr(pipeline, "names", None) or ())
    if not names:
        name = getattr(pipeline, "name", None)
        if name:
            names = (str(name),)
    if not names:
        raise PreflightError(
            f"{runner} cannot run a pipeline without a name; nothing was submitted.",
            [HOW_TO_NAME],
        )
    return names


def _registered_node_names(
    names: Iterable[str], registry: Mapping[str, Pipeline]
) -> tuple[set[str], list[str]]:
    known: set[str] = set()
    problems: list[str] = []
    for name in names:
        try:
            registered = registry[name]
        except KeyError:
            registered = None
        if registered is None:
            problems.append(
                f"Pipeline {name!r} is not in the project's pipeline registry, so a "
                f"job's `kedro run --pipelines {name}` would not find it. Register it "
                f"in pipeline_registry.py."
            )
            continue
        known.update(node.name for node in registered.nodes)
    return known, problems


def check_reproducible(plan: JobPlan, registry: Mapping[str, Pipeline]) -> list[str]:
    """Problems that would keep a job from finding its nodes in a fresh process."""
    known, problems = _registered_node_names(plan.pipeline_names, registry)
    if problems:
        return problems
    for job in plan.jobs:
        missing = [node for node in job.nodes if node not in known]
        if missing:
            problems.append(
                f"Job {job.name!r}: node(s) {', '.join(missing)} are not in the "
                f"registered pipeline(s) {', '.join(plan.pipeline_names)} (a hook or "
                f"plugin changed the pipeline after the session built it?), so "
                f"`kedro run --pipelines ... --nodes ...` would not find them."
            )
    return problems


def _ephemeral(dataset: object) -> bool:
    # CachedDataset (every Kedro) is flagged ephemeral but also saves to the
    # dataset it wraps: it is persisted when that one is.
    inner = getattr(dataset, "_dataset", None)
    if type(dataset).__name__ == "CachedDataset" and inner is not None:
        return _ephemeral(inner)
    return bool(getattr(dataset, "_EPHEMERAL", False))


def _dataset_to_check(catalog: Catalog, name: str) -> Dataset | None:
    """The dataset ``name`` of ``catalog`` (as ``dataset_in``), without adding it.

    Kedro 0.19's ``DataCatalog`` adds every dataset it builds from a factory
    pattern with ``add()``, which copies all the datasets built so far
    (``_FrozenDatasets``): checking n factory datasets one by one would cost
    O(n**2). There, the dataset is built from its resolved pattern as
    ``_get_dataset`` builds it, and the catalog is left as it was. Every other
    catalog (Kedro 1.x, 0.19's ``KedroDataCatalog``) goes through ``dataset_in``.
    """
    datasets = getattr(catalog, "_datasets", None)
    resolver: Any = getattr(catalog, "_config_resolver", None)
    if (
        callable(getattr(catalog, "get", None))
        or not isinstance(datasets, dict)
        or name in datasets
        or not callable(getattr(resolver, "resolve_pattern", None))
        or not hasattr(catalog, "_load_versions")
    ):
        return dataset_in(catalog, name)
    try:
        from kedro.io.core import AbstractDataset

        config = resolver.resolve_pattern(name)
        if not config:
            return None
        return AbstractDataset.from_config(
            name,
            config,
            getattr(catalog, "_load_versions", {}).get(name),
            getattr(catalog, "_save_version", None),
        )
    except Exception:
        logger.debug("Could not build %r from its pattern", name, exc_info=True)
        return dataset_in(catalog, name)


def persistence_problem(catalog: Catalog, name: str) -> str | None:
    """Why ``name`` cannot carry data between jobs, or ``None`` when it can."""
    if name not in catalog:
        return "is not declared in the catalog (Kedro keeps it in memory)"
    dataset = _dataset_to_check(catalog, name)
    if dataset is None:
        return "is not declared in the catalog (Kedro keeps it in memory)"
    if _ephemeral(dataset):
        return (
            f"is a {type(dataset).__name__} (in memory; also what Kedro makes for "
            f"a dataset the catalog does not declare)"
        )
    return None


def check_persisted(plan: JobPlan, pipeline: Pipeline, catalog: Catalog) -> list[str]:
    """One problem per dataset that crosses a job boundary but is not persisted."""
    job_of_node = {node: job.name for job in plan.jobs for node in job.nodes}
    producers: dict[str, str] = {}
    consumers: dict[str, set[str]] = {}
    for node in pipeline.nodes:
        for output in node.outputs:
            producers[output] = job_of_node[node.name]
    for node in pipeline.nodes:
        job = job_of_node[node.name]
        for dataset in node.inputs:
            producer = producers.get(dataset)
            if producer is not None and producer != job:
                consumers.setdefault(dataset, set()).add(job)
    problems = []
    for dataset in sorted(consumers):
        problem = persistence_problem(catalog, dataset)
        if problem:
            problems.append(
                f"Dataset {dataset!r} {problem}; it is written by job "
                f"{producers[dataset]!r} and read by job(s) "
                f"{', '.join(sorted(consumers[dataset]))}. Declare it in the catalog "
                f"with a persisted type (or a dataset factory that matches it), or "
                f"set group_in_memory: true to run its nodes in one job."
            )
    return problems


def in_memory_datasets(pipeline: Pipeline, catalog: Catalog) -> set[str]:
    """The datasets between two nodes of ``pipeline`` that only live in memory."""
    between = pipeline.all_outputs() & pipeline.all_inputs()
    return {name for name in between if persistence_problem(catalog, name)}


def not_persisted_outputs(pipeline: Pipeline, catalog: Catalog) -> list[str]:
    """The pipeline's outputs that the jobs compute but keep only in memory."""
    return sorted(
        name
        for name in pipeline.outputs()
        if persistence_problem(catalog, name) is not None
    )


#: Room left in ARG_MAX for what the engine adds to a job's argv and
#: environment: the local engine's supervisor argv (~300 bytes), the variables
#: SLURM sets in a job (``SLURM_*``, ~4 KB).
EXEC_MARGIN: Final = 16 * 1024


def _env_source(name: str) -> str:
    if name == RUN_ID_ENV_VAR:
        return "the run id"
    if name == "KEDRO_ENV":
        return "the run's env (--env)"
    return "the batch setting 'extra_env'"


def check_values(
    plan: JobPlan, pipeline: Pipeline, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Problems with values no job could receive unchanged (``relaunch/boundaries.py``).

    - Node names and namespaces with a control character (Kedro checks node
      names, not namespaces: a namespace made from data can hold a newline).
    - Arguments and environment values no argv or environment can carry (a
      NUL, a lone surrogate), named with the setting that holds them.
    - Jobs whose argv and environment (``environ``, the driver's, which every
      engine here passes on, plus the job's) exceed the OS's ``ARG_MAX``.
    """
    environ = os.environ if environ is None else environ
    names = ", ".join(plan.pipeline_names)
    problems: list[str] = []
    seen: set[str] = set()
    for name in plan.pipeline_names:
        try:
            pipeline_name_part(name, source="the registered pipeline names")
        except BoundaryError as error:
            problems.append(f"Pipeline name {error}. Register it under another name.")
    bad_namespaces: dict[str, list[str]] = {}
    for node in sorted(pipeline.nodes, key=lambda each: each.name):
        namespace = getattr(node, "namespace", None)
        if namespace is not None and namespace not in seen:
            seen.add(namespace)
            try:
                pipeline_name_part(namespace, source=f"pipeline {names!r}")
            except BoundaryError as error:
                bad_namespaces[namespace] = [str(error)]
        if namespace in bad_namespaces:
            bad_namespaces[namespace].append(node.name)
            continue
        try:
            pipeline_name_part(
                node.name,
                source=f"pipeline {names!r} (namespace {namespace!r})",
            )
        except BoundaryError as error:
            problems.append(f"Node name {error}. Rename the node.")
    for message, *members in bad_namespaces.values():
        problems.append(
            f"Namespace {message}; its node(s): {', '.join(map(repr, members))}. "
            f"Rename the namespace (in the pipeline's code, or clean the data it "
            f"is made from)."
        )
    for job in plan.jobs:
        job_problems: list[str] = []
        for argument in job.command:
            try:
                argv_argument(argument, source=f"the command of job {job.name!r}")
            except BoundaryError as error:
                job_problems.append(str(error))
        for name, value in job.env.items():
            try:
                environment_variable(
                    name, value, source=f"{_env_source(name)} (job {job.name!r})"
                )
            except BoundaryError as error:
                job_problems.append(str(error))
        if not job_problems:
            size_problem = exec_problem(
                job.command, {**environ, **job.env}, job=job.name, margin=EXEC_MARGIN
            )
            if size_problem:
                job_problems.append(size_problem)
        problems.extend(problem for problem in job_problems if problem not in problems)
    return problems


def run_preflight(
    plan: JobPlan,
    pipeline: Pipeline,
    catalog: Catalog,
    registry: Mapping[str, Pipeline],
    runner: str,
) -> list[str]:
    """Every check; raise once with every problem.

    Returns:
        The pipeline's outputs no dataset persists (warned about here): the
        jobs compute them and they are lost when each job ends.

    Raises:
        PreflightError: Listing each problem; nothing was submitted.
    """
    problems = (
        check_values(plan, pipeline)
        + check_reproducible(plan, registry)
        + check_persisted(plan, pipeline, catalog)
    )
    if problems:
        raise PreflightError(
            f"{runner}: pre-flight checks failed for run {plan.run_id}; nothing was "
            f"submitted.",
            problems,
        )
    lost = not_persisted_outputs(pipeline, catalog)
    if lost:
        logger.warning(
            "Pipeline output(s) %s are not persisted: the jobs compute them and they "
            "are lost when each job ends.",
            ", ".join(lost),
        )
    return lost
