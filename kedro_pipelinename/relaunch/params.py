"""Runtime params and load versions as ``kedro run --params`` / ``--load-versions``.

A value is written in the form Kedro's own ``_split_params`` reads back as the
same value of the same type; a value it cannot carry is an error naming it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from .errors import RunCommandError
from .kedro_cli import option_for, parse_value


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
    option = option_for(destination)
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
                parsed = parse_value(option, item)
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
    parsed_all = parse_value(option, joined) if items else {}
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


def load_versions_argument(load_versions: Mapping[str, str]) -> str:
    option = option_for("load_versions")
    if option is None:
        raise RunCommandError("This Kedro's `kedro run` has no --load-versions option.")
    items = []
    for dataset, version in load_versions.items():
        item = f"{dataset}:{version}"
        try:
            parsed = parse_value(option, item)
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
