"""Array jobs in the sandbox, as AWS Batch runs them.

``SubmitJob(arrayProperties={"size": N})`` makes a parent job and N children
``<parent id>:<index>`` (moto 5 already creates them). The parent runs nothing:
it is ``PENDING`` while any child is unfinished (AWS: "Array job parents are
updated to PENDING when any child job is updated to RUNNABLE and remain in
PENDING status while child jobs are running"), then ``SUCCEEDED`` when every
child succeeded, else ``FAILED``. Each child is a job of its own (attempts,
retries, timeout, log stream), with ``AWS_BATCH_JOB_ARRAY_INDEX`` set.

Dependencies (AWS's job dependencies page): on an array job id, every child
waits for the whole array; ``N_TO_N`` on an array job id, child *i* waits for
that array's child *i*; ``SEQUENTIAL`` (no job id), child *i* waits for child
*i - 1* of its own array; on a child id ``<id>:<i>``, for that child.

The pure rules live here; ``compute.py`` applies them to moto's jobs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

#: AWS Batch's array sizes: "between 2 and 10,000".
MIN_ARRAY_SIZE: Final = 2
MAX_ARRAY_SIZE: Final = 10_000
#: The variable telling a child its index.
ARRAY_INDEX_VARIABLE: Final = "AWS_BATCH_JOB_ARRAY_INDEX"
#: The dependency types of ``dependsOn`` entries.
N_TO_N: Final = "N_TO_N"
SEQUENTIAL: Final = "SEQUENTIAL"
FINISHED: Final = frozenset({"SUCCEEDED", "FAILED"})


def array_size(job: Any) -> int | None:
    """The size of an array parent; ``None`` for any other job."""
    size = job.array_properties.get("size")
    return None if size is None else int(size)


def array_index(job: Any) -> int | None:
    """The index of an array child; ``None`` for any other job."""
    index = job.array_properties.get("index")
    return None if index is None else int(index)


def parent_id(child_id: str) -> str:
    """The array job id of child ``<id>:<index>``."""
    return child_id.rpartition(":")[0]


def waits_for(
    job_id: str, index: int | None, depends_on: Iterable[Mapping[str, str]]
) -> list[str]:
    """The ids of the jobs job ``job_id`` (child ``index`` of an array, or
    ``None``) waits for, by its ``dependsOn`` entries."""
    waits: list[str] = []
    for dependency in depends_on:
        kind = dependency.get("type")
        if kind == SEQUENTIAL:
            if index:  # child 0 waits for nothing of its own array
                waits.append(f"{parent_id(job_id)}:{index - 1}")
        elif kind == N_TO_N and index is not None:
            waits.append(f"{dependency['jobId']}:{index}")
        else:
            waits.append(dependency["jobId"])
    return waits


def submission_problems(
    array_properties: Mapping[str, Any] | None,
    depends_on: Sequence[Mapping[str, str]] | None,
    find_job: Any,
) -> list[str]:
    """What AWS Batch refuses in a SubmitJob's ``arrayProperties`` and
    ``dependsOn`` (``find_job(id)`` is the job, or ``None``); empty: none."""
    problems: list[str] = []
    size: int | None = None
    if array_properties and "size" in array_properties:
        raw = array_properties["size"]
        if isinstance(raw, int) and MIN_ARRAY_SIZE <= raw <= MAX_ARRAY_SIZE:
            size = raw
        else:
            problems.append(
                f"arrayProperties.size must be between {MIN_ARRAY_SIZE} and "
                f"{MAX_ARRAY_SIZE}, not {raw!r}"
            )
    is_array = bool(array_properties and "size" in array_properties)
    for dependency in depends_on or []:
        kind = dependency.get("type")
        job_id = dependency.get("jobId")
        if kind == SEQUENTIAL:
            if not is_array:
                problems.append("A SEQUENTIAL dependency is for array jobs only")
            continue
        if not job_id:
            problems.append(f"A {kind or 'job'} dependency needs a jobId")
            continue
        parent = find_job(job_id)
        if parent is None:
            problems.append(f"Dependent job {job_id} does not exist")
        elif kind == N_TO_N:
            parent_size = array_size(parent)
            if not is_array or parent_size is None:
                problems.append(f"An N_TO_N dependency ({job_id}) needs two array jobs")
            elif size is not None and parent_size != size:
                problems.append(
                    f"An N_TO_N dependency needs arrays of one size: {job_id} "
                    f"has {parent_size} children, this job {size}"
                )
    return problems


def parent_status(statuses: Sequence[str | None]) -> str:
    """An array parent's status from its children's: ``PENDING`` while any
    is unfinished, then ``SUCCEEDED`` if all succeeded, else ``FAILED``."""
    if not all(status in FINISHED for status in statuses):
        return "PENDING"
    return "SUCCEEDED" if all(s == "SUCCEEDED" for s in statuses) else "FAILED"
