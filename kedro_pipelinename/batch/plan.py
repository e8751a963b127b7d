"""The plan of a batch run: which jobs, with which nodes, commands and parents.

``plan_jobs`` groups the pipeline's nodes into jobs (one per top-level namespace,
or one per node), derives the dependencies between jobs from the node DAG, and
asks ``build_run_commands`` / ``build_run_env`` for each job's command (the argv
``build_run_command`` gives for its nodes) and environment, so that every job
re-runs its nodes inside the run's pipelines, env, params, conf source, load
versions and run id. Planning is linear in jobs and dependencies
(``tests/benchmarks/bench_plan.py``).

Grouping by namespace can make two jobs need each other (``a.x -> y -> a.z`` with
``y`` outside namespace ``a``). Such cycles are found with Tarjan's algorithm and
the jobs on them are split into one job per node, which can never cycle; the
rest of the grouping is kept.

Job names follow the engine's ``JobNameRule`` (``naming.py``): ``<prefix>-<group>``
made valid, unique within the run, and the same for the same pipeline. A plan is
rendered (text, JSON, Mermaid, dot) by ``plan_render.py`` only.
"""

from __future__ import annotations

import heapq
import shlex
from collections.abc import Collection, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

from attrs import define, field

from ..names.logs import logger_for
from .errors import BatchSettingsError, to_str_tuple
from .naming import JobNameRule
from .settings import BatchSettings

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

    from ..run.context import RunContext

logger = logger_for(__name__)

#: The rule of a plan made without an engine (tests, tools): 128 letters, digits,
#: '-' and '_', which every engine here accepts.
DEFAULT_JOB_NAMES: Final = JobNameRule(max_length=128)


def _frozen_env(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@define(frozen=True, kw_only=True)
class PlannedJob:
    """One job of the plan.

    Attributes:
        name: The job name, unique within the run, valid for the engine.
        group: What the job stands for: its namespace, or its node's name.
        namespace: The top-level namespace of its nodes, or ``None``.
        nodes: Its node names, in an order Kedro may run them.
        tags: Every tag of its nodes, sorted.
        depends_on: Names of the jobs that must succeed first.
        command: The argv that runs the job's nodes.
        env: The environment the command needs (run id, env, extra variables).
    """

    name: str
    group: str
    namespace: str | None
    nodes: tuple[str, ...] = field(converter=to_str_tuple)
    tags: tuple[str, ...] = field(converter=to_str_tuple)
    depends_on: tuple[str, ...] = field(converter=to_str_tuple)
    command: tuple[str, ...] = field(converter=to_str_tuple)
    env: Mapping[str, str] = field(converter=_frozen_env)

    def layered(
        self,
        defaults: Mapping[str, Any],
        by_namespace: Mapping[str, Mapping[str, Any]],
        by_tag: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]:
        """Per-job values (an engine's resources): ``defaults``, then the job's
        namespace's, then each of its tags' (sorted), later ones winning.

        Example:
            >>> job.layered({"cpus": 1}, {"train": {"cpus": 2}}, {})  # doctest: +SKIP
            {'cpus': 2}
        """
        merged = dict(defaults)
        if self.namespace is not None:
            merged.update(by_namespace.get(self.namespace, {}))
        for tag in self.tags:
            merged.update(by_tag.get(tag, {}))
        return merged


def _to_job_tuple(jobs: Iterable[PlannedJob]) -> tuple[PlannedJob, ...]:
    return tuple(jobs)


@define(frozen=True, kw_only=True)
class JobPlan:
    """Every job of a run, parents before children.

    Attributes:
        run_id: The run id every job shares.
        pipeline_names: The registered pipelines the run runs.
        grouping: ``namespace`` or ``none``.
        jobs: The jobs, in an order where each job comes after its parents.
    """

    run_id: str
    pipeline_names: tuple[str, ...] = field(converter=to_str_tuple)
    grouping: str
    jobs: tuple[PlannedJob, ...] = field(converter=_to_job_tuple)

    def job(self, name: str) -> PlannedJob:
        """The job called ``name``."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)


# --- grouping ------------------------------------------------------------------

#: The job a node belongs to: ``("namespace", ns)`` or ``("node", name)``.
Group = tuple[str, str]

_V = TypeVar("_V", bound=Hashable)


def _top_namespace(node: Node) -> str | None:
    namespace = getattr(node, "namespace", None)
    return namespace.split(".")[0] if namespace else None


def _group_of(node: Node, grouping: str) -> Group:
    """``("namespace", ns)`` or ``("node", name)``: the job a node belongs to."""
    if grouping == "namespace":
        namespace = _top_namespace(node)
        if namespace:
            return ("namespace", namespace)
    return ("node", node.name)


def _strongly_connected(graph: Mapping[_V, set[_V]]) -> list[list[_V]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[_V, int] = {}
    low: dict[_V, int] = {}
    on_stack: set[_V] = set()
    stack: list[_V] = []
    components: list[list[_V]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[_V, Iterable[_V]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            vertex, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[vertex] = min(low[vertex], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[vertex])
            if low[vertex] == index[vertex]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == vertex:
                        break
                components.append(component)
    return components


def _merged_in_memory(
    nodes: list[Node],
    parents_of: Mapping[Node, set[Node]],
    key_of: dict[Node, Group],
    in_memory: Collection[str],
) -> dict[Node, Group]:
    """``key_of`` with groups joined by an in-memory dataset made one group.

    A dataset kept in memory exists only in the process that made it, so its
    producer and every consumer must be one job. Joining groups can close a
    circle of jobs (a job feeding, through a persisted dataset, a job that the
    join put before it); every such circle becomes one job too. A joined group
    is named after its first node's group (in topological order).
    """
    position = {node: number for number, node in enumerate(nodes)}
    leader: dict[Group, Group] = {key: key for key in key_of.values()}

    def find(key: Group) -> Group:
        # Bounded: each step moves to a leader nearer the root, and paths are
        # halved as they are walked.
        while leader[key] != key:
            leader[key] = leader[leader[key]]
            key = leader[key]
        return key

    def join(first: Group, second: Group) -> None:
        first, second = find(first), find(second)
        if first != second:
            leader[second] = first

    producer = {output: node for node in nodes for output in node.outputs}
    for node in nodes:
        for dataset in node.inputs:
            made_by = producer.get(dataset)
            if made_by is not None and dataset in in_memory:
                join(key_of[made_by], key_of[node])
    # Bounded: a round either finds no circle or makes at least two groups one.
    for _ in range(len(nodes) + 1):
        graph: dict[Group, set[Group]] = {find(key): set() for key in key_of.values()}
        for node in nodes:
            for parent in parents_of.get(node, ()):
                if find(key_of[parent]) != find(key_of[node]):
                    graph[find(key_of[node])].add(find(key_of[parent]))
        cyclic = [c for c in _strongly_connected(graph) if len(c) > 1]
        if not cyclic:
            break
        for component in cyclic:
            for key in component[1:]:
                join(component[0], key)
    first_key: dict[Group, Group] = {}
    for node in sorted(nodes, key=position.__getitem__):
        first_key.setdefault(find(key_of[node]), key_of[node])
    return {node: first_key[find(key)] for node, key in key_of.items()}


def group_nodes(
    pipeline: Pipeline, grouping: str, in_memory: Collection[str] = ()
) -> list[tuple[Group, list[Node]]]:
    """The pipeline's nodes grouped into jobs, groups in topological order.

    Args:
        pipeline: The pipeline to run.
        grouping: ``namespace`` or ``none``.
        in_memory: Datasets kept in memory: the nodes each one joins share a job
            (``group_in_memory``).

    Returns:
        ``[(group key, [nodes in topological order]), ...]``, every group after
        the groups it depends on.
    """
    nodes = list(pipeline.nodes)  # Kedro returns them in topological order
    position = {node: number for number, node in enumerate(nodes)}
    parents_of: dict[Node, set[Node]] = pipeline.node_dependencies
    key_of = {node: _group_of(node, grouping) for node in nodes}
    # Bounded: each round turns every group on a cycle into single-node groups,
    # and single-node groups cannot form a cycle, so a second round finds none.
    for _ in range(len(nodes) + 1):
        graph: dict[Group, set[Group]] = {key: set() for key in key_of.values()}
        for node in nodes:
            for parent in parents_of.get(node, ()):
                if key_of[parent] != key_of[node]:
                    graph[key_of[node]].add(key_of[parent])
        cyclic = [c for c in _strongly_connected(graph) if len(c) > 1]
        if not cyclic:
            break
        split = {key for component in cyclic for key in component}
        logger.info(
            "Grouping by namespace would make jobs %s depend on each other; running "
            "their nodes as one job per node instead.",
            ", ".join(sorted(name for _, name in split)),
        )
        key_of = {
            node: ("node", node.name) if key in split else key
            for node, key in key_of.items()
        }
    if in_memory:
        key_of = _merged_in_memory(nodes, parents_of, key_of, in_memory)
        graph = {key: set() for key in key_of.values()}
        for node in nodes:
            for parent in parents_of.get(node, ()):
                if key_of[parent] != key_of[node]:
                    graph[key_of[node]].add(key_of[parent])
    members: dict[Group, list[Node]] = {}
    for node in nodes:
        members.setdefault(key_of[node], []).append(node)
    # Kahn's algorithm, ready groups taken in the order of their first node: a
    # heap of (position of the first node, group), O((groups + edges) log groups);
    # positions are unique, so groups themselves are never compared.
    remaining = {key: len(graph[key]) for key in members}
    children: dict[Group, set[Group]] = {key: set() for key in members}
    for key, parent_keys in graph.items():
        for parent_key in parent_keys:
            children[parent_key].add(key)
    ready = [
        (position[members[key][0]], key)
        for key, count in remaining.items()
        if count == 0
    ]
    heapq.heapify(ready)
    ordered: list[tuple[Group, list[Node]]] = []
    while ready:
        _, key = heapq.heappop(ready)
        ordered.append((key, members[key]))
        for child in children[key]:
            remaining[child] -= 1
            if remaining[child] == 0:
                heapq.heappush(ready, (position[members[child][0]], child))
    return ordered


# --- the plan ------------------------------------------------------------------


def plan_jobs(
    pipeline: Pipeline,
    *,
    settings: BatchSettings,
    context: RunContext,
    job_names: JobNameRule = DEFAULT_JOB_NAMES,
    in_memory: Collection[str] = (),
) -> JobPlan:
    """Group ``pipeline`` into jobs and give each its command and environment.

    Args:
        pipeline: The named pipeline the runner received.
        settings: The batch settings (grouping, executable, prefix, extra env).
        context: The run's ``RunContext`` (``current_run()`` in a runner).
        job_names: The engine's job-name rule.
        in_memory: The pipeline's datasets kept in memory (``in_memory_datasets``
            of pre-flight); with ``settings.group_in_memory`` the nodes each one
            joins share a job.

    Returns:
        The plan.

    Raises:
        kedro_pipelinename.relaunch.argv.RunCommandError: When a job's command cannot
            be built (see ``build_run_command``).

    Example:
        >>> plan = plan_jobs(pipeline, settings=BatchSettings(), context=current_run())
        >>> [job.name for job in plan.jobs]  # doctest: +SKIP
        ['kedro-client_1', 'kedro-client_2']
    """
    from ..relaunch.argv import build_run_commands, build_run_env

    groups = group_nodes(
        pipeline, settings.grouping, in_memory if settings.group_in_memory else ()
    )
    names = job_names.names(settings.job_name_prefix, [key[1] for key, _ in groups])
    job_of_node = {
        node: name
        for name, (_, members) in zip(names, groups, strict=True)
        for node in members
    }
    parents_of = pipeline.node_dependencies
    executable = shlex.split(settings.executable)
    run_env = build_run_env(context)
    clashes = sorted(set(run_env) & set(settings.extra_env))
    if clashes:
        raise BatchSettingsError(
            "extra_env",
            f"Batch setting 'extra_env' sets {', '.join(clashes)}, which the runner "
            f"sets from the run itself (build_run_env); remove them from extra_env.",
        )
    env = {**run_env, **settings.extra_env}
    order = {name: number for number, name in enumerate(names)}
    node_names_of_jobs = [[node.name for node in members] for _, members in groups]
    # One call for every job: what the commands share is built and checked once.
    commands = build_run_commands(
        pipeline, node_names_of_jobs, context=context, executable=executable
    )
    jobs = []
    for name, ((kind, group), members), node_names, command in zip(
        names, groups, node_names_of_jobs, commands, strict=True
    ):
        parents = {
            job_of_node[parent]
            for node in members
            for parent in parents_of.get(node, ())
            if job_of_node[parent] != name
        }
        jobs.append(
            PlannedJob(
                name=name,
                group=group,
                namespace=group if kind == "namespace" else _top_namespace(members[0]),
                nodes=node_names,
                tags=sorted({tag for node in members for tag in node.tags}),
                depends_on=sorted(parents, key=lambda parent: order[parent]),
                command=command,
                env=env,
            )
        )
    return JobPlan(
        run_id=context.run_id,
        pipeline_names=tuple(getattr(pipeline, "names", ()) or ()),
        grouping=settings.grouping,
        jobs=jobs,
    )
