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

import functools
import logging
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from .boundaries import BoundaryError, argv_argument, environment_variable
from .pipeline import names_of
from .run_context import RunContext, current_run
from .run_id import RUN_ID_ENV_VAR, InvalidRunIdError, validate_run_id

if TYPE_CHECKING:
    import click
    from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: How to make a pipeline carry its names, for the error that finds none.
_HOW_TO_NAME: Final = (
    "Run it through a session that requested registered pipelines (`kedro run "
    "--pipelines a,b`, or `KedroSession.run(pipeline_names=[...])`), set "
    "`pipeline.name = '<registered name>'` on it, or add `import kedro_pipelinename` "
    "to the project's settings.py so that the registry names every pipeline."
)


class RunCommandError(ValueError):
    """The run cannot be expressed as a ``kedro run`` command for this Kedro."""


# --- the installed kedro run command ---------------------------------------------


def _run_command() -> click.Command:
    from kedro.framework.cli.project import run

    return run


def _option(destination: str) -> click.Parameter | None:
    """The ``kedro run`` option that fills parameter ``destination``, or ``None``."""
    return _options_of(_run_command()).get(destination)


@functools.lru_cache(maxsize=4)
def _options_of(command: click.Command) -> dict[str, click.Parameter]:
    """``command``'s options by destination, the first one where several share it.

    Cached per command object: a batch plan asks for the same few options once
    per job, and the installed ``kedro run`` does not change during a process.
    """
    options: dict[str, click.Parameter] = {}
    for parameter in command.params:
        if parameter.name is not None:
            options.setdefault(parameter.name, parameter)
    return options


def _flag(option: click.Parameter) -> str:
    """The long spelling of ``option`` (``--nodes``), as the installed CLI has it."""
    long_flags = [opt for opt in option.opts if opt.startswith("--")]
    return str(long_flags[0] if long_flags else option.opts[0])


def _parse(option: click.Parameter, value: str) -> Any:
    """``value`` as the installed ``kedro run`` reads it for ``option``.

    Raises:
        Exception: Whatever Kedro's callback raises for a value it rejects.
    """
    import click

    context = click.Context(_run_command(), info_name="run")
    return option.process_value(context, value)


def _has_option(destination: str) -> bool:
    return _option(destination) is not None


# --- checks ------------------------------------------------------------------------


def _joined_names(
    values: Sequence[str], destination: str, *, what: str, source: str
) -> str:
    """``values`` joined by ``,``, checked to parse back as exactly ``values``."""
    option = _option(destination)
    if option is None:
        raise RunCommandError(
            f"This Kedro's `kedro run` has no option for {destination!r}; it cannot "
            f"reproduce {what} {list(values)!r} from {source}."
        )
    flag = _flag(option)
    for value in values:
        if not isinstance(value, str):
            raise RunCommandError(
                f"{what.capitalize()} {value!r} from {source} is not a string."
            )
        try:
            parsed = list(_parse(option, value))
        except Exception as error:
            parsed = [f"<rejected: {error}>"]
        if parsed != [value]:
            raise RunCommandError(
                f"{what.capitalize()} {value!r} from {source} cannot be passed to "
                f"`kedro run {flag}`: Kedro's parser reads it as {parsed!r} (it splits "
                f"on commas outside [] and strips spaces). Rename it without commas, "
                f"brackets or surrounding spaces."
            )
    joined = ",".join(values)
    if len(values) == 1:
        return joined  # parsed back as [value] just above
    parsed_all = list(_parse(option, joined))
    if parsed_all != list(values):
        raise RunCommandError(
            f"{what.capitalize()}s {list(values)!r} from {source} cannot be passed "
            f"together to `kedro run {flag}`: Kedro's parser reads "
            f"{joined!r} as {parsed_all!r}. Rename them without commas or brackets."
        )
    return joined


def _pipeline_names(pipeline: Pipeline) -> tuple[str, ...]:
    names = tuple(getattr(pipeline, "names", None) or names_of(pipeline))
    if not names:
        raise RunCommandError(
            f"The pipeline passed to build_run_command has no registered pipeline "
            f"name ({len(getattr(pipeline, 'nodes', ()))} nodes), so the command "
            f"cannot say which registered pipelines its nodes belong to. "
            f"{_HOW_TO_NAME}"
        )
    for name in names:
        if "," in name:
            raise RunCommandError(
                f"Pipeline name {name!r} (from pipeline.names) contains a comma; "
                f"`kedro run --pipelines` splits on commas, so no command can name "
                f"it. Register the pipeline under a name without commas."
            )
    return names


def pipelines_arguments(names: tuple[str, ...]) -> list[str]:
    """The ``kedro run`` arguments that select the registered pipelines ``names``.

    Args:
        names: Registered pipeline names.

    Returns:
        ``["--pipelines=a,b"]`` where the installed ``kedro run`` has
        ``--pipelines``, else ``["--pipeline=a"]``.

    Raises:
        RunCommandError: For several names on a Kedro without ``--pipelines``, or a
            name the installed CLI would not read back unchanged.
    """
    source = "pipeline.names"
    if _has_option("pipelines"):  # Kedro 1.2+
        joined = _joined_names(names, "pipelines", what="pipeline name", source=source)
        return [f"--pipelines={joined}"]
    if len(names) > 1:
        raise RunCommandError(
            f"The pipeline combines the registered pipelines {list(names)!r}, but "
            f"this Kedro's `kedro run` only has `--pipeline NAME` (one name; "
            f"`--pipelines a,b` came with Kedro 1.2). Launch one command per "
            f"registered pipeline, register their sum under one name, or upgrade "
            f"Kedro to 1.2 or later."
        )
    option = _option("pipeline")
    if option is None:
        raise RunCommandError("This Kedro's `kedro run` has no --pipeline option.")
    (name,) = names
    if _parse(option, name) != name:
        raise RunCommandError(
            f"Pipeline name {name!r} from pipeline.names is not read back unchanged "
            f"by `kedro run --pipeline`; register it under a plain name."
        )
    return [f"{_flag(option)}={name}"]


def _node_names_in(pipeline: Pipeline) -> set[str]:
    return {node.name for node in pipeline.nodes}


def _check_nodes_exist(
    nodes: Sequence[str],
    pipeline: Pipeline,
    names: tuple[str, ...],
    *,
    source: str,
    known: set[str] | None = None,
) -> None:
    """Raise naming the nodes that are not in ``pipeline`` (``known``: its names)."""
    if known is None:
        known = _node_names_in(pipeline)
    missing = [node for node in nodes if node not in known]
    if missing:
        from difflib import get_close_matches

        hints = {node: get_close_matches(node, sorted(known), n=3) for node in missing}
        suggestions = "; ".join(
            f"{node!r}: did you mean {', '.join(map(repr, close))}?"
            for node, close in hints.items()
            if close
        )
        raise RunCommandError(
            f"Node(s) {missing!r} from {source} are not in the pipeline named "
            f"{','.join(names)!r}, so `kedro run` would not find them. Pass node "
            f"names of that pipeline (its Node.name, including the namespace)."
            + (f" {suggestions}" if suggestions else "")
        )


def _check_namespaces_exist(
    namespaces: Sequence[str], pipeline: Pipeline, names: tuple[str, ...]
) -> None:
    for namespace in namespaces:
        try:
            if hasattr(pipeline, "only_nodes_with_namespaces"):  # Kedro 1.0+
                pipeline.only_nodes_with_namespaces([namespace])
            else:  # Kedro 0.19
                pipeline.only_nodes_with_namespace(namespace)  # type: ignore[attr-defined, unused-ignore]
        except ValueError as error:
            raise RunCommandError(
                f"Namespace {namespace!r} from the namespaces argument has no nodes "
                f"in the pipeline named {','.join(names)!r} ({error}). Pass a "
                f"namespace of that pipeline's nodes."
            ) from error


def _namespaces_arguments(namespaces: Sequence[str], *, source: str) -> list[str]:
    if _has_option("namespaces"):  # Kedro 1.0+
        joined = _joined_names(
            namespaces, "namespaces", what="namespace", source=source
        )
        return [f"--namespaces={joined}"]
    option = _option("namespace")
    if option is None:
        raise RunCommandError("This Kedro's `kedro run` has no namespace option.")
    if len(namespaces) > 1:
        raise RunCommandError(
            f"Namespaces {list(namespaces)!r} from {source}: this Kedro's `kedro "
            f"run` takes one `--namespace` (`--namespaces` came with Kedro 1.0). "
            f"Launch one command per namespace."
        )
    (namespace,) = namespaces
    if _parse(option, namespace) != namespace or "," in namespace:
        raise RunCommandError(
            f"Namespace {namespace!r} from {source} is not read back unchanged by "
            f"`kedro run --namespace`."
        )
    return [f"{_flag(option)}={namespace}"]


# --- runtime params ------------------------------------------------------------------


def _same(actual: object, expected: object) -> bool:
    """Equal *and* of the same types all the way down (``1 == 1.0 == True``)."""
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and list(actual) == list(expected)
            and all(_same(actual[key], expected[key]) for key in expected)
        )
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return bool(actual == expected)


def _flatten(
    params: Mapping[Any, object], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], object]]:
    items: list[tuple[tuple[str, ...], object]] = []
    for key, value in params.items():
        path = (*prefix, key)
        dotted = ".".join(map(str, path))
        if not isinstance(key, str):
            raise RunCommandError(
                f"Runtime param key {key!r} (in {dotted!r}) is a "
                f"{type(key).__name__}; `kedro run --params` only has string keys."
            )
        bad = [char for char in ".,=[]" if char in key]
        if not key or key != key.strip() or bad:
            raise RunCommandError(
                f"Runtime param key {dotted!r}: `kedro run --params` cannot express "
                f"the key {key!r} (dots nest, commas and '=' separate items, "
                f"brackets index, surrounding spaces are stripped). Rename it."
            )
        if isinstance(value, Mapping):
            if not value:
                raise RunCommandError(
                    f"Runtime param {dotted!r} is an empty mapping, which `kedro run "
                    f"--params` cannot express (it only sets dotted leaves). Remove it "
                    f"or give it a value."
                )
            items.extend(_flatten(value, path))
        else:
            items.append((path, value))
    return items


def _nested(path: tuple[str, ...], value: object) -> dict[str, object]:
    result: dict[str, object] = {path[-1]: value}
    for key in reversed(path[:-1]):
        result = {key: result}
    return result


def _yaml_single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _candidates(dotted: str, value: object) -> list[str]:
    """The spellings of ``value`` to try, plainest first."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, float):
        if math.isnan(value):
            return [".nan"]
        if math.isinf(value):
            return [".inf" if value > 0 else "-.inf"]
        return [repr(value)]
    if isinstance(value, str):
        if "," in value:
            raise RunCommandError(
                f"Runtime param {dotted!r} = {value!r} contains a comma, and `kedro "
                f"run --params` splits on every comma (quotes do not protect it). "
                f"Put the value in a parameters file of a Kedro env instead and pass "
                f"--env, or use a value without commas."
            )
        return [value, _yaml_single_quoted(value)]
    if isinstance(value, (list, tuple, set, frozenset)):
        raise RunCommandError(
            f"Runtime param {dotted!r} = {value!r} is a {type(value).__name__}; "
            f"`kedro run --params` cannot express sequences (it splits on commas). "
            f"Put it in a parameters file of a Kedro env and pass --env instead."
        )
    raise RunCommandError(
        f"Runtime param {dotted!r} = {value!r} is a {type(value).__name__}; `kedro "
        f"run --params` only reads strings, numbers, booleans and null."
    )


def runner_params_argument(arguments: Mapping[str, object]) -> str:
    """A runner's keyword ``arguments`` as the value of ``kedro run --runner-params``
    (Kedro 1.6+), checked to read back equal: the same dotted ``key=value`` list
    as ``--params``, read by the same Kedro parser.

    Raises:
        RunCommandError: As ``params_argument``, and on a Kedro without
            ``--runner-params``.

    Example:
        >>> runner_params_argument({"max_parallel": 2})  # doctest: +SKIP
        'max_parallel=2'
    """
    return params_argument(arguments, destination="runner_params")


def params_argument(
    params: Mapping[str, object], *, destination: str = "params"
) -> str:
    """``params`` as the value of ``kedro run --params``, checked to read back equal.

    Nested mappings become dotted keys; strings that YAML would read as numbers,
    booleans or null are single-quoted so they stay strings.

    Args:
        params: Runtime params, as ``RunContext.runtime_params``.
        destination: The option read with Kedro's ``key=value`` parser
            (``runner_params`` for ``--runner-params``).

    Returns:
        ``"a.b=1,c='1'"``: the value for ``--params``.

    Raises:
        RunCommandError: When a key or value cannot be expressed so that the
            installed Kedro's parser reads back an equal value of the same type;
            the message names the key.

    Example:
        >>> params_argument({"model": {"alpha": 0.5}, "tag": "1"})
        "model.alpha=0.5,tag='1'"
    """
    option = _option(destination)
    if option is None:
        raise RunCommandError(
            f"This Kedro's `kedro run` has no --{destination.replace('_', '-')} option."
        )
    items: list[str] = []
    for path, value in _flatten(params):
        dotted = ".".join(path)
        expected = _nested(path, value)
        parsed: object = None
        for spelling in _candidates(dotted, value):
            item = f"{dotted}={spelling}"
            try:
                parsed = _parse(option, item)
            except Exception as error:
                parsed = f"<rejected: {error}>"
                continue
            if _same(parsed, expected):
                items.append(item)
                break
        else:
            raise RunCommandError(
                f"Runtime param {dotted!r} = {value!r} cannot be passed to `kedro run "
                f"--params`: the installed Kedro reads every spelling of it back as "
                f"something else (last: {parsed!r}). Put it in a parameters file of a "
                f"Kedro env and pass --env instead."
            )
    joined = ",".join(items)
    parsed_all = _parse(option, joined) if items else {}
    if not _same(parsed_all, _plain(params)):
        raise RunCommandError(
            f"Runtime params {_plain(params)!r} are read back by `kedro run --params` "
            f"as {parsed_all!r}; pass them in a parameters file of a Kedro env."
        )
    return joined


def _plain(params: Mapping[str, object]) -> dict[str, object]:
    return {
        key: _plain(value) if isinstance(value, Mapping) else value
        for key, value in params.items()
    }


def _load_versions_argument(load_versions: Mapping[str, str]) -> str:
    option = _option("load_versions")
    if option is None:
        raise RunCommandError("This Kedro's `kedro run` has no --load-versions option.")
    items = []
    for dataset, version in load_versions.items():
        item = f"{dataset}:{version}"
        try:
            parsed = _parse(option, item)
        except Exception as error:
            parsed = f"<rejected: {error}>"
        if parsed != {dataset: version}:
            raise RunCommandError(
                f"Load version {dataset!r}: {version!r} (from the run's "
                f"load_versions) cannot be passed to `kedro run --load-versions`: "
                f"Kedro reads {item!r} as {parsed!r}. Dataset names must not contain "
                f"':' or ',', versions not ','."
            )
        items.append(item)
    return ",".join(items)


# --- the commands ---------------------------------------------------------------------


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
        argv.append(f"--load-versions={_load_versions_argument(context.load_versions)}")
    if context.only_missing_outputs:
        if not _has_option("only_missing_outputs"):
            raise RunCommandError(
                "The run used only_missing_outputs, but this Kedro's `kedro run` has "
                "no --only-missing-outputs (added in Kedro 1.0)."
            )
        argv.append(_required_flag("only_missing_outputs"))
    return tuple(argv)


def _required_flag(destination: str) -> str:
    option = _option(destination)
    if option is None:
        raise RunCommandError(
            f"This Kedro's `kedro run` has no option {destination!r}."
        )
    return _flag(option)


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
            joined = _joined_names(values, destination, what=what, source=source)
            argv.append(f"{_required_flag(destination)}={joined}")
    if context.namespaces:
        argv.extend(_namespaces_arguments(context.namespaces, source=source))
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
    names = _pipeline_names(pipeline)
    argv.extend(pipelines_arguments(names))
    node_list = _as_names(nodes, "nodes")
    namespace_list = _as_names(namespaces, "namespaces")
    if node_list is not None:
        argv.append(_nodes_argument(node_list, pipeline, names))
    if namespace_list is not None:
        _check_namespaces_exist(namespace_list, pipeline, names)
        argv.extend(
            _namespaces_arguments(namespace_list, source="the namespaces argument")
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
    source = "the nodes argument"
    _check_nodes_exist(node_list, pipeline, names, source=source, known=known)
    joined = _joined_names(node_list, "node_names", what="node name", source=source)
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
    names = _pipeline_names(pipeline)
    head.extend(pipelines_arguments(names))
    known = _node_names_in(pipeline)
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
    names = _pipeline_names(pipeline)
    argv.extend(pipelines_arguments(names))
    start = _as_names(from_nodes, "from_nodes")
    assert start is not None  # from_nodes is not optional
    _check_nodes_exist(start, pipeline, names, source="from_nodes")
    if context is None:
        joined = _joined_names(
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
