"""Which pipelines, nodes and namespaces a command selects, as ``kedro run`` flags.

Each name is checked against the pipeline it must be found in (before any job
starts) and read back through the installed Kedro's option callbacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

from ..names.pipeline import names_of
from .errors import RunCommandError
from .kedro_cli import flag_of, has_option, option_for, parse_value

#: How to make a pipeline carry its names, for the error that finds none.
_HOW_TO_NAME: Final = (
    "Run it through a session that requested registered pipelines (`kedro run "
    "--pipelines a,b`, or `KedroSession.run(pipeline_names=[...])`), set "
    "`pipeline.name = '<registered name>'` on it, or add `import kedro_pipelinename` "
    "to the project's settings.py so that the registry names every pipeline."
)


def joined_names(
    values: Sequence[str], destination: str, *, what: str, source: str
) -> str:
    """``values`` joined by ``,``, checked to parse back as exactly ``values``."""
    option = option_for(destination)
    if option is None:
        raise RunCommandError(
            f"This Kedro's `kedro run` has no option for {destination!r}; it cannot "
            f"reproduce {what} {list(values)!r} from {source}."
        )
    flag = flag_of(option)
    for value in values:
        if not isinstance(value, str):
            raise RunCommandError(
                f"{what.capitalize()} {value!r} from {source} is not a string."
            )
        try:
            parsed = list(parse_value(option, value))
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
    parsed_all = list(parse_value(option, joined))
    if parsed_all != list(values):
        raise RunCommandError(
            f"{what.capitalize()}s {list(values)!r} from {source} cannot be passed "
            f"together to `kedro run {flag}`: Kedro's parser reads "
            f"{joined!r} as {parsed_all!r}. Rename them without commas or brackets."
        )
    return joined


def pipeline_names(pipeline: Pipeline) -> tuple[str, ...]:
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
    if has_option("pipelines"):  # Kedro 1.2+
        joined = joined_names(names, "pipelines", what="pipeline name", source=source)
        return [f"--pipelines={joined}"]
    if len(names) > 1:
        raise RunCommandError(
            f"The pipeline combines the registered pipelines {list(names)!r}, but "
            f"this Kedro's `kedro run` only has `--pipeline NAME` (one name; "
            f"`--pipelines a,b` came with Kedro 1.2). Launch one command per "
            f"registered pipeline, register their sum under one name, or upgrade "
            f"Kedro to 1.2 or later."
        )
    option = option_for("pipeline")
    if option is None:
        raise RunCommandError("This Kedro's `kedro run` has no --pipeline option.")
    (name,) = names
    if parse_value(option, name) != name:
        raise RunCommandError(
            f"Pipeline name {name!r} from pipeline.names is not read back unchanged "
            f"by `kedro run --pipeline`; register it under a plain name."
        )
    return [f"{flag_of(option)}={name}"]


def node_names_in(pipeline: Pipeline) -> set[str]:
    return {node.name for node in pipeline.nodes}


def check_nodes_exist(
    nodes: Sequence[str],
    pipeline: Pipeline,
    names: tuple[str, ...],
    *,
    source: str,
    known: set[str] | None = None,
) -> None:
    """Raise naming the nodes that are not in ``pipeline`` (``known``: its names)."""
    if known is None:
        known = node_names_in(pipeline)
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


def check_namespaces_exist(
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


def namespaces_arguments(namespaces: Sequence[str], *, source: str) -> list[str]:
    if has_option("namespaces"):  # Kedro 1.0+
        joined = joined_names(namespaces, "namespaces", what="namespace", source=source)
        return [f"--namespaces={joined}"]
    option = option_for("namespace")
    if option is None:
        raise RunCommandError("This Kedro's `kedro run` has no namespace option.")
    if len(namespaces) > 1:
        raise RunCommandError(
            f"Namespaces {list(namespaces)!r} from {source}: this Kedro's `kedro "
            f"run` takes one `--namespace` (`--namespaces` came with Kedro 1.0). "
            f"Launch one command per namespace."
        )
    (namespace,) = namespaces
    if parse_value(option, namespace) != namespace or "," in namespace:
        raise RunCommandError(
            f"Namespace {namespace!r} from {source} is not read back unchanged by "
            f"`kedro run --namespace`."
        )
    return [f"{flag_of(option)}={namespace}"]
