"""The ``kedro run`` argv and environment that reproduce part of a run elsewhere.

Every flag is found by asking the installed Kedro's own ``kedro run`` click command
(``kedro.framework.cli.project.run.params``), never by comparing versions: Kedro
1.2 added ``--pipelines``, 1.0 renamed ``--namespace`` to ``--namespaces`` and added
``--only-missing-outputs``. Every value is checked by parsing it back with that
command's own option callbacks (``split_string``, ``split_node_names``,
``_split_params``, ``_split_load_versions``) before the argv is returned: a value
the CLI would split, drop or read differently is an error naming it, never a
silently different run.

Values are passed as ``--option=value`` so that a value starting with ``-`` can
never be read as an option.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

import attrs

from ..names.logs import logger_for

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

from ..run.context import RunContext, current_run
from ..run.run_id import RUN_ID_ENV_VAR, InvalidRunIdError, validate_run_id
from .boundaries import BoundaryError, argv_argument, environment_variable
from .errors import RunCommandError
from .kedro_cli import flag_of, has_option, option_for
from .params import load_versions_argument, params_argument
from .selection import (
    check_namespaces_exist,
    check_nodes_exist,
    joined_names,
    namespaces_arguments,
    node_names_in,
    pipeline_names,
    pipelines_arguments,
)

logger = logger_for(__name__)


def _carried(argv: list[str]) -> list[str]:
    """``argv``, each argument checked to reach the process unchanged
    (``boundaries.argv_argument``): no NUL, no lone surrogate, not too long."""
    for index, argument in enumerate(argv):
        flag = argument.partition("=")[0] if argument.startswith("--") else None
        source = f"the `kedro run {flag}` value" if flag else f"argument {index}"
        try:
            argv_argument(argument, source=source)
        except BoundaryError as error:
            raise RunCommandError(str(error)) from error
    return argv


def _executable_argv(executable: str | Sequence[str]) -> list[str]:
    argv = [executable] if isinstance(executable, str) else list(executable)
    if not argv or not all(isinstance(part, str) and part for part in argv):
        raise RunCommandError(
            f"executable={executable!r} must be a program name such as 'kedro', or "
            f"an argv prefix such as [sys.executable, '-m', 'kedro']."
        )
    return argv


def _as_names(value: Iterable[str] | None, argument: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise RunCommandError(
            f"{argument}={value!r} must be a sequence of names, not one string; "
            f"pass [{value!r}]."
        )
    names = tuple(value)
    if not names:
        raise RunCommandError(
            f"{argument}=[] selects nothing, but `kedro run` reads an empty "
            f"{argument} filter as 'no filter' and would run the whole pipeline. "
            f"Pass None to run every node, or at least one name."
        )
    return names


#: ``_context_arguments`` results by ``_strict_key(context)``; a batch runner
#: builds one command per job of the same run, and checking the params with
#: Kedro's parser costs ~5 ms (OmegaConf), which 1,000 jobs would pay 1,000 times.
_CONTEXT_ARGUMENTS: Final[dict[Hashable, tuple[str, ...]]] = {}
_CONTEXT_ARGUMENTS_LIMIT: Final = 64


def _strict_key(value: object) -> Hashable:
    """A cache key telling apart what ``==`` conflates (``1``, ``1.0``, ``True``)."""
    if isinstance(value, Mapping):
        return tuple((repr(key), _strict_key(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_strict_key(item) for item in value))
    return (type(value).__qualname__, repr(value))


def _context_arguments(context: RunContext) -> tuple[str, ...]:
    """The run's arguments, computed once per distinct context (see above)."""
    key = _strict_key(attrs.asdict(context, recurse=False))
    cached = _CONTEXT_ARGUMENTS.get(key)
    if cached is None:
        cached = _uncached_context_arguments(context)
        if len(_CONTEXT_ARGUMENTS) >= _CONTEXT_ARGUMENTS_LIMIT:
            _CONTEXT_ARGUMENTS.clear()
        _CONTEXT_ARGUMENTS[key] = cached
    return cached


def _uncached_context_arguments(context: RunContext) -> tuple[str, ...]:
    """``--env``, ``--conf-source``, ``--params``, ``--load-versions`` and friends."""
    argv: list[str] = []
    if context.env is not None:
        argv.append(f"{_required_flag('env')}={context.env}")
    if context.conf_source is not None:
        argv.append(f"{_required_flag('conf_source')}={context.conf_source}")
    if context.runtime_params:
        argv.append(f"--params={params_argument(context.runtime_params)}")
    if context.load_versions:
        argv.append(f"--load-versions={load_versions_argument(context.load_versions)}")
    if context.only_missing_outputs:
        if not has_option("only_missing_outputs"):
            raise RunCommandError(
                "The run used only_missing_outputs, but this Kedro's `kedro run` has "
                "no --only-missing-outputs (added in Kedro 1.0)."
            )
        argv.append(_required_flag("only_missing_outputs"))
    return tuple(argv)


def _required_flag(destination: str) -> str:
    option = option_for(destination)
    if option is None:
        raise RunCommandError(
            f"This Kedro's `kedro run` has no option {destination!r}."
        )
    return flag_of(option)


def _selection_arguments(
    context: RunContext, *, from_nodes: tuple[str, ...] | None = None
) -> list[str]:
    """The run's own node filters; ``from_nodes`` replaces the run's if given."""
    source = "the run context"
    argv: list[str] = []
    filters: list[tuple[str, tuple[str, ...], str]] = [
        ("tags", context.tags, "tag"),
        ("node_names", context.node_names, "node name"),
        (
            "from_nodes",
            context.from_nodes if from_nodes is None else from_nodes,
            "node name",
        ),
        ("to_nodes", context.to_nodes, "node name"),
        ("from_inputs", context.from_inputs, "dataset name"),
        ("to_outputs", context.to_outputs, "dataset name"),
    ]
    for destination, values, what in filters:
        if values:
            joined = joined_names(values, destination, what=what, source=source)
            argv.append(f"{_required_flag(destination)}={joined}")
    if context.namespaces:
        argv.extend(namespaces_arguments(context.namespaces, source=source))
    return argv


def build_run_command(
    pipeline: Pipeline,
    *,
    nodes: Iterable[str] | None = None,
    namespaces: Iterable[str] | None = None,
    context: RunContext | None = None,
    executable: str | Sequence[str] = "kedro",
) -> list[str]:
    """The ``kedro run`` argv that runs ``nodes`` of ``pipeline`` in another process.

    The command names the registered pipelines ``pipeline`` comes from, and carries
    the run's env, conf source, runtime params, load versions and
    ``--only-missing-outputs``. With ``nodes`` and ``namespaces`` both ``None`` it
    reproduces the whole run, with its own node filters (tags, from/to nodes,
    inputs, outputs); with either given, exactly those nodes (or namespaces) run,
    and the run's own filters, which chose them, are left out. Run it with the
    environment from ``build_run_env`` so that it shares the run id.

    Args:
        pipeline: A pipeline carrying its registered names (``pipeline.names``), as
            runners and hooks receive it.
        nodes: Node names (``Node.name``) to run, all in ``pipeline``.
        namespaces: Namespaces to run, each with nodes in ``pipeline``.
        context: The run to reproduce; ``current_run()`` by default. Outside a run
            and without a context, the command names only pipelines and nodes.
        executable: The program, or an argv prefix such as
            ``[sys.executable, "-m", "kedro"]``.

    Returns:
        The argv (never a shell string): ``[*executable, "run", ...]``.

    Raises:
        RunCommandError: Before returning anything, when the pipeline has no
            names, a name contains a comma, a node or namespace is not in the
            pipeline or would be split or dropped by Kedro's parser, several
            pipelines are named on a Kedro without ``--pipelines``, or a runtime
            param cannot be expressed.

    Example:
        >>> from kedro.framework.project import pipelines
        >>> build_run_command(pipelines["train"], nodes=["fit"])  # doctest: +SKIP
        ['kedro', 'run', '--pipelines=train', '--nodes=fit', '--env=prod']
    """
    argv = [*_executable_argv(executable), "run"]
    context = current_run() if context is None else context
    names = pipeline_names(pipeline)
    argv.extend(pipelines_arguments(names))
    node_list = _as_names(nodes, "nodes")
    namespace_list = _as_names(namespaces, "namespaces")
    if node_list is not None:
        argv.append(_nodes_argument(node_list, pipeline, names))
    if namespace_list is not None:
        check_namespaces_exist(namespace_list, pipeline, names)
        argv.extend(
            namespaces_arguments(namespace_list, source="the namespaces argument")
        )
    if context is not None:
        if node_list is None and namespace_list is None:
            argv.extend(_selection_arguments(context))
        argv.extend(_context_arguments(context))
    logger.debug("Run command: %s", argv)
    return _carried(argv)


def _nodes_argument(
    node_list: tuple[str, ...],
    pipeline: Pipeline,
    names: tuple[str, ...],
    known: set[str] | None = None,
) -> str:
    """``--nodes=a,b``, once every name is checked to be in ``pipeline`` and to
    parse back unchanged (``known``: ``pipeline``'s node names, if already built)."""
    check_nodes_exist(
        node_list, pipeline, names, source="the nodes argument", known=known
    )
    return nodes_argument(node_list)


def nodes_argument(node_list: Sequence[str]) -> str:
    """``--nodes=a,b`` (the flag of the installed Kedro), each name checked to
    parse back unchanged; not checked against a pipeline.

    Raises:
        RunCommandError: When a name would not parse back (a comma in it).
    """
    source = "the nodes argument"
    joined = joined_names(
        tuple(node_list), "node_names", what="node name", source=source
    )
    return f"{_required_flag('node_names')}={joined}"


def build_run_commands(
    pipeline: Pipeline,
    node_lists: Iterable[Iterable[str]],
    *,
    context: RunContext | None = None,
    executable: str | Sequence[str] = "kedro",
) -> list[list[str]]:
    """``build_run_command(pipeline, nodes=nodes, ...)`` for each of ``node_lists``.

    The same argvs and the same errors, raised for the first node list that has
    one, in time linear in the number of nodes: what every command of the run
    shares (executable, pipelines, env, params, load versions, the pipeline's node
    names) is computed and checked once, not once per command. A batch plan of
    thousands of jobs needs this; ``build_run_command`` per job rebuilt the set
    of the pipeline's node names each time (quadratic).

    Args:
        pipeline: As for ``build_run_command``.
        node_lists: The node names of each command, each a non-empty sequence.
        context: As for ``build_run_command``.
        executable: As for ``build_run_command``.

    Returns:
        One argv per node list, in order.

    Raises:
        RunCommandError: As ``build_run_command`` would for the first node list
            it fails on.

    Example:
        >>> train = pipelines["train"]
        >>> build_run_commands(train, [["a"], ["b", "c"]])  # doctest: +SKIP
        [['kedro', 'run', '--pipelines=train', '--nodes=a'],
         ['kedro', 'run', '--pipelines=train', '--nodes=b,c']]
    """
    node_lists = list(node_lists)
    if not node_lists:
        return []
    # The checks run in build_run_command's order: executable, pipeline names,
    # the first command's nodes, then the run's own arguments.
    head = [*_executable_argv(executable), "run"]
    context = current_run() if context is None else context
    names = pipeline_names(pipeline)
    head.extend(pipelines_arguments(names))
    known = node_names_in(pipeline)
    tail: tuple[str, ...] | None = None
    commands = []
    for nodes in node_lists:
        node_list = _as_names(nodes, "nodes")
        if node_list is None:  # only a None element gets here
            raise RunCommandError(
                "build_run_commands needs the node names of every command; use "
                "build_run_command(pipeline) for the whole run."
            )
        argv = [*head, _nodes_argument(node_list, pipeline, names, known)]
        if tail is None:
            tail = () if context is None else _context_arguments(context)
        argv.extend(tail)
        logger.debug("Run command: %s", argv)
        commands.append(_carried(argv))
    return commands


def build_resume_command(
    pipeline: Pipeline,
    from_nodes: Iterable[str],
    *,
    context: RunContext | None = None,
    executable: str | Sequence[str] = "kedro",
) -> list[str]:
    """The ``kedro run`` argv that resumes a run from ``from_nodes``.

    Like ``build_run_command`` for the whole run, with ``--from-nodes`` replacing
    the run's own: the other filters still apply, so exactly the unfinished part
    of the run runs. Run it with ``build_run_env(context)`` so that it shares the
    failed run's id and loads what that run saved.

    Args:
        pipeline: The pipeline of the failed run (as the runner received it).
        from_nodes: The node names to resume from (Kedro's resume suggestion).
        context: The failed run; ``current_run()`` by default.
        executable: The program, or an argv prefix.

    Returns:
        The argv.

    Raises:
        RunCommandError: As ``build_run_command``, and when ``from_nodes`` is empty
            or names nodes outside ``pipeline``.

    Example:
        >>> build_resume_command(pipelines["train"], ["fit"])  # doctest: +SKIP
        ['kedro', 'run', '--pipelines=train', '--from-nodes=fit']
    """
    argv = [*_executable_argv(executable), "run"]
    context = current_run() if context is None else context
    names = pipeline_names(pipeline)
    argv.extend(pipelines_arguments(names))
    start = _as_names(from_nodes, "from_nodes")
    assert start is not None  # from_nodes is not optional
    check_nodes_exist(start, pipeline, names, source="from_nodes")
    if context is None:
        joined = joined_names(
            start, "from_nodes", what="node name", source="from_nodes"
        )
        argv.append(f"{_required_flag('from_nodes')}={joined}")
    else:
        argv.extend(_selection_arguments(context, from_nodes=start))
        argv.extend(_context_arguments(context))
    return _carried(argv)


def build_run_env(context: RunContext | None = None) -> dict[str, str]:
    """Environment variables a re-launched command needs to join the run.

    ``KEDRO_PIPELINENAME_RUN_ID`` is the run id (the patched session of the
    command takes it as its session id and save version), and ``KEDRO_ENV`` the
    run's env when it has one, so that sessions the command opens without
    ``--env`` use it too. Add these to the job's environment; nothing else changes.

    Args:
        context: The run; ``current_run()`` by default.

    Returns:
        ``{"KEDRO_PIPELINENAME_RUN_ID": ..., ["KEDRO_ENV": ...]}``.

    Raises:
        RunCommandError: Outside a run without a context, or when the run id is not
            a Kedro version string (a ``KedroServiceSession`` run given a custom id).

    Example:
        >>> build_run_env(RunContext(run_id="2024-01-15T10.30.00.000Z", env="prod"))
        {'KEDRO_PIPELINENAME_RUN_ID': '2024-01-15T10.30.00.000Z', 'KEDRO_ENV': 'prod'}
    """
    context = current_run() if context is None else context
    if context is None:
        raise RunCommandError(
            "build_run_env() needs the run to join: call it while a session runs "
            "(in a hook or runner), or pass context=RunContext(...)."
        )
    try:
        run_id = validate_run_id(context.run_id, source="The run context's run_id")
    except InvalidRunIdError as error:
        raise RunCommandError(str(error)) from error
    environment = {RUN_ID_ENV_VAR: run_id}
    if context.env is not None:
        environment["KEDRO_ENV"] = context.env
    for name, value in environment.items():
        try:
            environment_variable(name, value, source="the run context")
        except BoundaryError as error:
            raise RunCommandError(str(error)) from error
    return environment
