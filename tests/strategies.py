"""Hypothesis strategies shared by the tests: random Kedro DAGs and operation arguments.

Everything here uses only Kedro's public API (``node``, ``Pipeline``), so the
strategies serve the contract suite whichever implementation of ``Pipeline.name``
it runs against (this package's monkey patch or a natively patched Kedro).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from kedro.pipeline import Pipeline, node
from kedro.pipeline.node import Node

#: Node namespaces, nested ones included: Kedro matches ``ns_a`` against
#: ``ns_a.inner`` in 1.x and compares exactly in 0.19.
NAMESPACES = ("ns_a", "ns_b", "ns_a.inner")
TAGS = ("t1", "t2", "t3")
#: Names a test may register or set; ``__default__`` is the one Kedro treats specially.
PIPELINE_NAMES = ("alpha", "beta", "gamma", "__default__")
#: Namespaces given to ``Pipeline(p, namespace=...)``; distinct from node namespaces.
WRAPPING_NAMESPACES = ("wrap_x", "wrap_y")
PARAMETER = "rate"


def combine(*values: object) -> tuple[object, ...]:
    """The one node function: any inputs, one output (never run by these tests)."""
    return values


@st.composite
def node_universes(
    draw: st.DrawFn, min_nodes: int = 2, max_nodes: int = 9
) -> list[Node]:
    """A random DAG of uniquely named nodes with namespaces, tags and a parameter.

    Node ``n<i>`` outputs ``d<i>`` and reads up to two earlier outputs (or its own
    free input ``raw<i>``), so every subset of the universe is a valid pipeline.
    """
    count = draw(st.integers(min_value=min_nodes, max_value=max_nodes))
    nodes: list[Node] = []
    for index in range(count):
        upstream: list[int] = (
            draw(st.lists(st.integers(0, index - 1), max_size=2, unique=True))
            if index
            else []
        )
        inputs = [f"d{i}" for i in sorted(upstream)] or [f"raw{index}"]
        if draw(st.booleans()):
            inputs.append(f"params:{PARAMETER}")
        nodes.append(
            node(
                combine,
                inputs,
                f"d{index}",
                name=f"n{index}",
                namespace=draw(st.sampled_from((None, *NAMESPACES))),
                tags=sorted(draw(st.sets(st.sampled_from(TAGS), max_size=2))),
            )
        )
    return nodes


def subsets(universe: Sequence[Node]) -> st.SearchStrategy[list[Node]]:
    """Non-empty subsets of ``universe``, in universe order."""
    return st.lists(
        st.sampled_from(list(universe)), min_size=1, max_size=len(universe), unique=True
    ).map(lambda picked: [n for n in universe if n in picked])


def some_of(candidates: Sequence[str], *, bogus: str) -> st.SearchStrategy[list[str]]:
    """One or two of ``candidates``; now and then a ``bogus`` name that does not exist.

    The bogus name makes Kedro raise, which both sides of a comparison must do
    identically; it is rare so that most operations succeed and the sequence goes on.
    """
    pool = sorted(set(candidates))
    if not pool:
        return st.just([bogus])
    return st.tuples(
        st.integers(0, 9),
        st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True),
    ).map(lambda drawn: [*drawn[1], bogus] if drawn[0] == 0 else drawn[1])


def node_names_of(pipeline: Pipeline) -> list[str]:
    """The node names of ``pipeline`` in Kedro's order."""
    return [n.name for n in pipeline.nodes]


def namespaces_of(pipeline: Pipeline) -> list[str]:
    """The node namespaces present in ``pipeline``, with their parent prefixes."""
    found: set[str] = set()
    for n in pipeline.nodes:
        parts = (n.namespace or "").split(".") if n.namespace else []
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found)


def free_inputs_of(pipeline: Pipeline) -> list[str]:
    """The free dataset inputs of ``pipeline`` (no parameters)."""
    return sorted(i for i in pipeline.inputs() if not i.startswith("params:"))


def filter_namespace_keyword() -> str:
    """The keyword ``Pipeline.filter`` takes namespaces by, found by inspection.

    Kedro 0.19 takes one ``node_namespace: str``; 1.0 made it a list,
    ``node_namespaces``.
    """
    parameters = inspect.signature(Pipeline.filter).parameters
    return "node_namespaces" if "node_namespaces" in parameters else "node_namespace"


@st.composite
def filter_kwargs(draw: st.DrawFn, pipeline: Pipeline) -> dict[str, Any]:
    """Keyword arguments for ``pipeline.filter`` drawn from what ``pipeline`` holds.

    Zero to two keywords (so ``filter()`` with no arguments is drawn too), each
    with values that mostly exist in ``pipeline``.
    """
    names = node_names_of(pipeline)
    keyword = filter_namespace_keyword()
    choices: dict[str, st.SearchStrategy[Any]] = {
        "tags": some_of(TAGS, bogus="no_such_tag"),
        "from_nodes": some_of(names, bogus="no_such_node"),
        "to_nodes": some_of(names, bogus="no_such_node"),
        "node_names": some_of(names, bogus="no_such_node"),
        "from_inputs": some_of(sorted(pipeline.all_inputs()), bogus="no_such_ds"),
        "to_outputs": some_of(sorted(pipeline.all_outputs()), bogus="no_such_ds"),
        keyword: some_of(namespaces_of(pipeline), bogus="no_such_ns").map(
            lambda found: found if keyword == "node_namespaces" else found[0]
        ),
    }
    keywords = draw(st.lists(st.sampled_from(sorted(choices)), max_size=2, unique=True))
    return {key: draw(choices[key]) for key in keywords}


@st.composite
def wrapping_kwargs(draw: st.DrawFn, pipeline: Pipeline) -> dict[str, Any]:
    """Keyword arguments for ``Pipeline(p, ...)`` / ``pipeline(p, ...)``.

    Draws ``namespace``, ``inputs``, ``outputs``, ``parameters`` and ``tags`` from
    what ``pipeline`` holds, so most combinations are valid and some make Kedro
    raise its ``PipelineError`` / ``ModularPipelineError``.
    """
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["namespace"] = draw(st.sampled_from(WRAPPING_NAMESPACES))
    inputs = free_inputs_of(pipeline)
    if len(inputs) > 0 and draw(st.booleans()):
        kwargs["inputs"] = {draw(st.sampled_from(inputs)): "renamed_input"}
    outputs = sorted(pipeline.outputs())
    if len(outputs) > 0 and draw(st.booleans()):
        kwargs["outputs"] = draw(st.sampled_from(outputs))
    if f"params:{PARAMETER}" in pipeline.inputs() and draw(st.booleans()):
        kwargs["parameters"] = {PARAMETER: "other_rate"}
    if draw(st.booleans()):
        kwargs["tags"] = sorted(draw(st.sets(st.sampled_from(TAGS), min_size=1)))
    return kwargs


# --- hostile values (issue 22): what a user, a data set or an attacker may pass ----

#: Values known to break naive quoting, each alone or inside other text.
HOSTILE_PIECES = (
    "\n",
    "\r",
    "\0",
    "\t",
    "\x1b[31m",
    "\u2028",
    "'",
    '"',
    "\\",
    "`touch pwned`",
    "$(touch pwned)",
    "; touch pwned",
    "\ntouch pwned\n#",
    "&& touch pwned",
    "| touch pwned",
    "--",
    "-",
    "--help",
    "%j",
    "%%",
    "!$HOME",
    "${HOME}",
    "*",
    "~",
    "=",
    ",",
    "[1]",
    "\udc80",
    "\ud800",
    "é",
    "💥",
)


def hostile_text(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Arbitrary text: every Unicode category (control characters, NUL, lone
    surrogates included), shell and Kedro metacharacters, leading dashes, and
    now and then a very long string (over Linux's 128 KiB per argument)."""
    anything = st.text(
        st.characters(codec=None, exclude_categories=()), max_size=max_size
    )
    pieces = st.lists(
        st.one_of(st.sampled_from(HOSTILE_PIECES), anything), min_size=1, max_size=4
    ).map("".join)
    very_long = st.sampled_from(("x" * 140_000, "-" + "y" * 200_000))
    return st.one_of(pieces, anything, very_long)


def hostile_file_name() -> st.SearchStrategy[str]:
    """Hostile text that the file system accepts as one directory name."""
    return st.text(
        st.characters(
            codec="utf-8", exclude_categories=["Cs"], exclude_characters="/\0"
        ),
        min_size=1,
        max_size=40,
    ).filter(lambda name: name not in (".", "..") and len(name.encode()) <= 200)


def carriable_text(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Hostile text that every argv and environment can carry: no NUL, no lone
    surrogate, not too long. Quotes, ``$(...)``, newlines and control
    characters stay: they must arrive unchanged."""
    carriable = [
        piece for piece in HOSTILE_PIECES if piece not in ("\0", "\udc80", "\ud800")
    ]
    anything = st.text(
        st.characters(codec="utf-8", exclude_characters="\0"), max_size=max_size
    )
    return st.lists(
        st.one_of(st.sampled_from(carriable), anything), min_size=1, max_size=4
    ).map("".join)


def job_values(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Mostly carriable text (so most examples run), sometimes any hostile text
    (so refusals are exercised too)."""
    return st.one_of(
        carriable_text(max_size=max_size),
        carriable_text(max_size=max_size),
        carriable_text(max_size=max_size),
        hostile_text(max_size=max_size),
    )


# --- run records (kedro_pipelinename.batch.record_model) ---------------------------

#: The run id every generated record has.
RECORD_RUN_ID = "2026-01-01T00.00.00.000Z"
_JOB_STATES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
_RUN_STATES = ("running", "succeeded", "failed", "cancelled")
_TIMES = st.sampled_from(
    ["2026-01-01T00:00:00+00:00", "2026-01-01T00:05:00+00:00", "2026-01-02T10:00:00Z"]
)


@st.composite
def run_records(draw: st.DrawFn, project_path: str) -> dict[str, Any]:
    """A valid format-2 run record of the local engine, as JSON data."""
    names = [f"kedro-n{index}" for index in range(draw(st.integers(1, 3)))]
    jobs = []
    for name in names:
        attempts = [
            {
                "number": number,
                "driver": number,
                "job_id": name,
                "state": draw(st.sampled_from(_JOB_STATES)),
                "engine_status": None,
                "reason": draw(st.none() | st.text(max_size=20)),
                "exit_code": draw(st.none() | st.integers(-9, 2)),
                "log": f"{project_path}/logs/local_batch/{RECORD_RUN_ID}/{name}.log",
                "submitted": draw(_TIMES),
                "finished": draw(st.none() | _TIMES),
            }
            for number in range(1, draw(st.integers(0, 3)) + 1)
        ]
        jobs.append(
            {
                "job": {
                    "name": name,
                    "group": name,
                    "namespace": None,
                    "nodes": [name[6:]],
                    "tags": [],
                    "depends_on": [],
                    "command": ["kedro", "run", f"--nodes={name[6:]}"],
                    "env": {"KEDRO_PIPELINENAME_RUN_ID": RECORD_RUN_ID},
                },
                "state": attempts[-1]["state"] if attempts else "PENDING",
                "reason": None,
                "attempts": attempts,
            }
        )
    return {
        "format": 2,
        "run_id": RECORD_RUN_ID,
        "engine": "local",
        "engine_label": "local processes",
        "project_path": project_path,
        "pipeline_names": ["p"],
        "grouping": "none",
        "settings": {"max_poll_interval": draw(st.sampled_from([1.0, 2.0]))},
        "engine_settings": {},
        "resume": {
            "argv": ["kedro", "run", "--pipelines=p"],
            "env": {},
            "cwd": project_path,
        },
        "state": draw(st.sampled_from(_RUN_STATES)),
        "started": draw(_TIMES),
        "updated": draw(_TIMES),
        "finished": draw(st.none() | _TIMES),
        "error": None,
        "drivers": [
            {
                "number": 1,
                "host": "elsewhere.invalid",
                "pid": 1,
                "process_start": None,
                "started": draw(_TIMES),
                "finished": None,
                "state": "running",
                "error": None,
            }
        ],
        "jobs": jobs,
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside JSON data (keys and list indices)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


_OTHER_VALUES = st.sampled_from(
    [None, True, 0, -1, 1.5, "", "garbage", [], {}, ["x"], {"x": 1}]
)


@st.composite
def damaged_records(draw: st.DrawFn, project_path: str) -> str:
    """The text of a valid record damaged in one random way: truncated, another
    top level, a value of another type, a bad timestamp, an unknown format, a
    key removed."""
    import copy
    import json

    data = draw(run_records(project_path))
    text = json.dumps(data, indent=2)
    how = draw(
        st.sampled_from(
            ["truncate", "top level", "type", "timestamp", "format", "remove"]
        )
    )
    if how == "truncate":
        return text[: draw(st.integers(0, len(text) - 1))]
    if how == "top level":
        return json.dumps(draw(_OTHER_VALUES | st.just([data])))
    damaged = copy.deepcopy(data)
    if how == "format":
        damaged["format"] = draw(st.integers(3, 10**6) | st.sampled_from(["2", None]))
        return json.dumps(damaged)
    paths = [path for path in _paths(damaged) if path]
    if how == "timestamp":
        paths = [p for p in paths if p[-1] in ("started", "updated", "submitted")]
    path = draw(st.sampled_from(paths))
    parent = damaged
    for key in path[:-1]:
        parent = parent[key]
    if how == "remove" and isinstance(parent, dict):
        del parent[path[-1]]
    elif how == "timestamp":
        parent[path[-1]] = draw(st.sampled_from(["garbage", "2026-13-01", "", "1"]))
    else:
        parent[path[-1]] = draw(_OTHER_VALUES)
    return json.dumps(damaged)
