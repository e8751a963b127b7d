"""Uniform fan-outs as arrays: which jobs of a plan are one job for many
namespaces, and how a child of an array finds its job from its index.

A team's pipeline built by one factory for every client (``client_1.prepare ->
client_1.fit``, ``client_2.prepare -> ...``) plans one job per client and node.
Jobs that are the same job for different namespaces (the same nodes once the
namespace is taken off, the same tags, the same parents up to the namespace) are
*members* of one ``PlannedArray``: an engine with arrays (``ArrayEngine``)
starts them with one request instead of one per job.

Each child of an array runs the same command. It finds its job without a list in
the request (10,000 namespaces would outgrow it): the array's ``ArraySpec``
names the members' nodes without their namespace (the *template*); the child
lists the namespaces that have every node of the template in the run's pipelines,
sorts them, takes the array's slice of them and its own index in it, and runs
that namespace's nodes: the command the member would have had on its own
(``child_command``). The driver makes an array only when that listing, done on
the same pipelines, gives exactly its members, so every child finds its member.
A fingerprint of the slice is in the spec: a child whose project or image gives
another listing (a changed pipeline) refuses to run (``ArrayMismatch``), naming
both.

A parent in the same namespace is *paired*: child *i* waits for child *i* of the
parent's array (AWS Batch ``N_TO_N``, SLURM ``aftercorr``); the parent's jobs
must then be an array of the same namespaces. A parent outside the namespace is
shared by every member. Arrays larger than the engine's limit (or than
``max_parallel``) are cut into slices; a slice of one job is a plain job.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Final

from attrs import define, field

from ..names.logs import logger_for
from .engine import Engine, EngineRun
from .errors import BatchError, to_str_tuple
from .naming import JobNameRule
from .plan import JobPlan, PlannedJob

logger = logger_for(__name__)

#: Fewer members than this are plain jobs (AWS Batch: an array has 2 or more).
MIN_ARRAY_SIZE: Final = 2


class ArrayMismatch(BatchError):
    """A child of an array found another set of namespaces than the driver
    planned: the project or image changed since the run was planned."""


@define(frozen=True, kw_only=True)
class ArraySpec:
    """What every child of one array is told (one argument of its command).

    Attributes:
        pipelines: The run's registered pipelines.
        template: The members' node names without their namespace, in order.
        offset: Where the array's slice starts in the sorted namespaces.
        count: How many children the array has.
        nodes_at: Where the ``--nodes`` argument goes in the run command.
        fingerprint: Of the slice of namespaces (``fingerprint``).
    """

    pipelines: tuple[str, ...] = field(converter=to_str_tuple)
    template: tuple[str, ...] = field(converter=to_str_tuple)
    offset: int
    count: int
    nodes_at: int
    fingerprint: str

    def to_argument(self) -> str:
        """The spec as one JSON argument (no spaces)."""
        return json.dumps(
            {
                "pipelines": list(self.pipelines),
                "template": list(self.template),
                "offset": self.offset,
                "count": self.count,
                "nodes_at": self.nodes_at,
                "fingerprint": self.fingerprint,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_argument(cls, text: str) -> ArraySpec:
        """The spec ``to_argument`` wrote.

        Raises:
            ArrayMismatch: When ``text`` is no such spec.
        """
        try:
            value = json.loads(text)
            return cls(
                pipelines=value["pipelines"],
                template=value["template"],
                offset=int(value["offset"]),
                count=int(value["count"]),
                nodes_at=int(value["nodes_at"]),
                fingerprint=str(value["fingerprint"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ArrayMismatch(
                f"The array spec {text!r} cannot be read ({error}); the job was "
                f"submitted by another version of kedro-pipelinename than the one "
                f"in this image."
            ) from error


def _to_job_tuple(jobs: Iterable[PlannedJob]) -> tuple[PlannedJob, ...]:
    return tuple(jobs)


@define(frozen=True, kw_only=True)
class PlannedArray:
    """Jobs of a plan started as one array.

    Attributes:
        name: The array's job name (valid for the engine, unique in the run).
        jobs: The members, in index order (their namespaces sorted).
        pairs_with: Names of arrays whose child *i* child *i* waits for.
        depends_on: Names of jobs outside the namespace every member waits for.
        spec: What every child is told.
        command: The command every child runs.
    """

    name: str
    jobs: tuple[PlannedJob, ...] = field(converter=_to_job_tuple)
    pairs_with: tuple[str, ...] = field(converter=to_str_tuple)
    depends_on: tuple[str, ...] = field(converter=to_str_tuple)
    spec: ArraySpec
    command: tuple[str, ...] = field(converter=to_str_tuple)

    @property
    def size(self) -> int:
        """How many children."""
        return len(self.jobs)


# --- the template: a job without its namespace ------------------------------------


def template_of(job: PlannedJob) -> tuple[str, ...] | None:
    """``job``'s node names without its namespace; ``None`` when it has no
    namespace or a node outside it."""
    namespace = job.namespace
    if not namespace:
        return None
    head = f"{namespace}."
    if not all(node.startswith(head) for node in job.nodes):
        return None
    return tuple(node[len(head) :] for node in job.nodes)


def namespaces_with(template: Sequence[str], node_names: Collection[str]) -> list[str]:
    """Every top-level namespace that has each node of ``template`` among
    ``node_names``, sorted: what a child lists to find its member."""
    known = node_names if isinstance(node_names, (set, frozenset)) else set(node_names)
    first = f".{template[0]}"
    found = set()
    for name in known:
        if name.endswith(first):
            namespace = name[: -len(first)]
            if namespace and "." not in namespace:
                found.add(namespace)
    return sorted(
        namespace
        for namespace in found
        if all(f"{namespace}.{node}" in known for node in template)
    )


def fingerprint(
    pipelines: Sequence[str], template: Sequence[str], namespaces: Sequence[str]
) -> str:
    """A short digest of an array's slice of namespaces and what it runs."""
    text = json.dumps([list(pipelines), list(template), list(namespaces)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- planning arrays ------------------------------------------------------------------


@define(frozen=True)
class _Signature:
    """What members of one array share: template, tags, parents up to the
    namespace (paired parents by their template, others by name)."""

    template: tuple[str, ...]
    tags: tuple[str, ...]
    paired: tuple[tuple[str, ...], ...]
    shared: tuple[str, ...]


def _signature(
    job: PlannedJob, template: tuple[str, ...], jobs: Mapping[str, PlannedJob]
) -> _Signature:
    paired = []
    shared = []
    for parent_name in job.depends_on:
        parent = jobs[parent_name]
        parent_template = template_of(parent)
        if parent.namespace == job.namespace and parent_template is not None:
            paired.append(parent_template)
        else:
            shared.append(parent_name)
    return _Signature(template, job.tags, tuple(sorted(paired)), tuple(sorted(shared)))


def _nodes_position(jobs: Sequence[PlannedJob]) -> int | None:
    """The one argument in which the members' commands differ (their
    ``--nodes``); ``None`` when they differ elsewhere too, or in length."""
    first = jobs[0].command
    if any(len(job.command) != len(first) for job in jobs):
        return None
    differing = {
        index
        for job in jobs[1:]
        for index, (mine, theirs) in enumerate(zip(job.command, first, strict=True))
        if mine != theirs
    }
    if len(differing) != 1:
        return None
    return differing.pop()


def plan_arrays(
    plan: JobPlan,
    *,
    node_names: Collection[str],
    limit: int,
    job_names: JobNameRule,
    prefix: str,
    executable: Sequence[str],
    index_variable: str,
    key: Callable[[PlannedJob], Hashable] | None = None,
) -> tuple[PlannedArray, ...]:
    """The arrays of ``plan``: its uniform fan-outs, cut at ``limit``.

    Args:
        plan: The run's plan.
        node_names: Every node of the run's registered pipelines (what a child
            lists its namespaces from: the run command without ``--nodes``).
        limit: The most children in one array (the engine's, or
            ``max_parallel``); below ``MIN_ARRAY_SIZE``: no arrays.
        job_names: The engine's job-name rule.
        prefix: The run's ``job_name_prefix``.
        executable: How the image runs ``kedro`` (``settings.executable``).
        index_variable: The variable the engine sets to a child's index.
        key: What the members must share for the engine (AWS Batch: their
            resources, which one request sets for every child); a fan-out whose
            jobs differ in it stays job by job.

    Returns:
        The arrays, parents before children; a job is in at most one.
    """
    if limit < MIN_ARRAY_SIZE:
        return ()
    jobs = {job.name: job for job in plan.jobs}
    known = set(node_names)
    # Members by signature, in plan order.
    groups: dict[_Signature, list[PlannedJob]] = {}
    for job in plan.jobs:
        template = template_of(job)
        if template is not None:
            groups.setdefault(_signature(job, template, jobs), []).append(job)
    candidates: dict[_Signature, list[PlannedJob]] = {}
    for signature, members in groups.items():
        template = signature.template
        members.sort(key=lambda job: job.namespace or "")
        namespaces = [job.namespace for job in members]
        if len(members) < MIN_ARRAY_SIZE:
            continue
        if namespaces != namespaces_with(template, known):
            logger.info(
                "Jobs %s ... are not run as an array: other namespaces of the "
                "run's pipelines have the same nodes.",
                members[0].name,
            )
            continue
        if _nodes_position(members) is None:
            continue
        if any(job.env != members[0].env for job in members):
            continue
        if key is not None and len({key(job) for job in members}) > 1:
            logger.info(
                "Jobs %s ... are not run as an array: their resources differ.",
                members[0].name,
            )
            continue
        candidates[signature] = members
    # A paired parent must be an array of the same namespaces; dropping a group
    # can break its children's pairing. Bounded: each round drops a group or ends.
    by_template: dict[tuple[str, ...], list[_Signature]] = {}
    for signature in candidates:
        by_template.setdefault(signature.template, []).append(signature)
    for _ in range(len(candidates) + 1):
        dropped = False
        for signature, members in list(candidates.items()):
            namespaces = [job.namespace for job in members]
            for parent_template in signature.paired:
                parents = [
                    other
                    for other in by_template.get(parent_template, [])
                    if other in candidates
                    and [job.namespace for job in candidates[other]] == namespaces
                ]
                if not parents:
                    del candidates[signature]
                    dropped = True
                    break
        if not dropped:
            break
    return _sliced(
        plan, candidates, limit, job_names, prefix, executable, index_variable
    )


def _sliced(
    plan: JobPlan,
    groups: Mapping[_Signature, list[PlannedJob]],
    limit: int,
    job_names: JobNameRule,
    prefix: str,
    executable: Sequence[str],
    index_variable: str,
) -> tuple[PlannedArray, ...]:
    order = {job.name: index for index, job in enumerate(plan.jobs)}
    slices: list[tuple[tuple[str, ...], int, list[PlannedJob]]] = []
    for signature, members in groups.items():
        template = signature.template
        for offset in range(0, len(members), limit):
            part = members[offset : offset + limit]
            if len(part) >= MIN_ARRAY_SIZE:
                slices.append((template, offset, part))
    # Parents before children: by the plan position of the first member.
    slices.sort(key=lambda item: min(order[job.name] for job in item[2]))
    # "fit-client_1-and-1999-more" (one node per job), "client_1-and-3-more"
    # (a job per namespace): unique, since slices start at different namespaces.
    labels = [
        f"{template[0] + '-' if len(template) == 1 else ''}"
        f"{part[0].namespace}-and-{len(part) - 1}-more"
        for template, _, part in slices
    ]
    names = job_names.names(prefix, [*(job.group for job in plan.jobs), *labels])
    array_names = names[len(plan.jobs) :]
    array_of_job = {
        job.name: (name, index)
        for name, (_, _, part) in zip(array_names, slices, strict=True)
        for index, job in enumerate(part)
    }
    arrays = []
    for name, (template, offset, part) in zip(array_names, slices, strict=True):
        first = part[0]
        paired = set()
        shared = []
        for parent in first.depends_on:
            parent_array = array_of_job.get(parent)
            same_namespace = plan.job(parent).namespace == first.namespace
            if same_namespace and parent_array is not None:
                paired.add(parent_array[0])
            else:
                shared.append(parent)
        position = _nodes_position(part)
        assert position is not None
        run_command = [*first.command[:position], *first.command[position + 1 :]]
        spec = ArraySpec(
            pipelines=plan.pipeline_names,
            template=template,
            offset=offset,
            count=len(part),
            nodes_at=position,
            fingerprint=fingerprint(
                plan.pipeline_names, template, [job.namespace or "" for job in part]
            ),
        )
        arrays.append(
            PlannedArray(
                name=name,
                jobs=part,
                pairs_with=sorted(paired),
                depends_on=shared,
                spec=spec,
                command=child_launcher(executable, spec, index_variable, run_command),
            )
        )
    return tuple(arrays)


# --- the child's side ------------------------------------------------------------

#: The ``kedro batch`` command a child of an array runs.
CHILD_COMMAND: Final = ("batch", "child")


def child_launcher(
    executable: Sequence[str],
    spec: ArraySpec,
    index_variable: str,
    run_command: Sequence[str],
) -> list[str]:
    """The command every child of an array runs: ``kedro batch child`` with the
    spec, the variable holding its index, then the run command without
    ``--nodes``."""
    return [
        *executable,
        *CHILD_COMMAND,
        f"--array={spec.to_argument()}",
        f"--index-from={index_variable}",
        "--",
        *run_command,
    ]


def member_command(
    spec: ArraySpec, run_command: Sequence[str], nodes_argument: str
) -> list[str]:
    """The member's own ``kedro run``: ``run_command`` (the array's, without
    ``--nodes``) with ``nodes_argument`` back where the driver took it out."""
    return [
        *run_command[: spec.nodes_at],
        nodes_argument,
        *run_command[spec.nodes_at :],
    ]


def member_nodes(
    spec: ArraySpec, index: int, node_names: Collection[str]
) -> tuple[str, ...]:
    """The nodes child ``index`` of the array runs, found in ``node_names``.

    Raises:
        ArrayMismatch: When the namespaces found are not the planned ones.
    """
    if not 0 <= index < spec.count:
        raise ArrayMismatch(
            f"This child's index is {index}, but the array has {spec.count} "
            f"children (0 to {spec.count - 1})."
        )
    namespaces = namespaces_with(spec.template, node_names)
    part = namespaces[spec.offset : spec.offset + spec.count]
    found = fingerprint(spec.pipelines, spec.template, part)
    if len(part) != spec.count or found != spec.fingerprint:
        shown = ", ".join(part[:3]) + (", ..." if len(part) > 3 else "")
        raise ArrayMismatch(
            f"This array job was planned for {spec.count} namespaces with the "
            f"nodes {', '.join(spec.template)} of pipelines "
            f"{', '.join(spec.pipelines)} (fingerprint {spec.fingerprint}), but "
            f"the project here has {len(part)} of them from position "
            f"{spec.offset} ({shown}; fingerprint {found}). The image or the "
            f"project changed since the run was planned: build the image from "
            f"the commit the run was started from, or start the run again."
        )
    namespace = part[index]
    return tuple(f"{namespace}.{node}" for node in spec.template)


# --- for a run ------------------------------------------------------------------------


def arrays_for(
    run: EngineRun, engine: Engine, node_names: Collection[str]
) -> tuple[PlannedArray, ...]:
    """The arrays ``engine`` starts for ``run``: none when the ``arrays``
    setting is off or the engine has none (no ``submit_array``, no
    ``spec.array_index_variable``, a ``max_array_size`` below 2); cut at the
    engine's size and at ``max_parallel`` (a larger array could never start).

    Args:
        run: The run (plan and settings).
        engine: The opened engine.
        node_names: Every node of the run's registered pipelines.
    """
    settings = run.settings
    variable = engine.spec.array_index_variable
    max_size = getattr(engine, "max_array_size", None)
    if (
        not settings.arrays
        or variable is None
        or not callable(max_size)
        or not callable(getattr(engine, "submit_array", None))
    ):
        return ()
    limit = int(max_size())
    if settings.max_parallel is not None:
        limit = min(limit, settings.max_parallel)
    return plan_arrays(
        run.plan,
        node_names=node_names,
        limit=limit,
        job_names=engine.spec.job_names,
        prefix=settings.job_name_prefix,
        executable=shlex.split(settings.executable),
        index_variable=variable,
        key=getattr(engine, "array_key", None),
    )
