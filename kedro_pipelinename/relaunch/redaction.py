"""The one rule for what a batch run may write or print: secrets become references.

A value is secret when it is:

1. the value of an ``extra_env`` variable the project did not declare public
   (the ``public_env`` setting), or of any ``extra_env`` variable whose name
   looks secret;
2. the value of a driver environment variable whose name looks secret
   (``AWS_SECRET_ACCESS_KEY``, ``KEDRO_MY_PASSWORD``), and the whole of
   ``KEDRO_BATCH_EXTRA_ENV`` (a JSON mapping of the values of rule 1);
3. the value of a runtime param (``--params``) whose dotted key looks secret
   (``token``, ``db.password``);
4. an engine setting whose name looks secret.

A name *looks secret* when, upper-cased, it contains one of ``SECRET_WORDS``.

Wherever the run record is written and wherever the batch core logs (the plan
table, the resume command, job failures), a secret value is replaced by a
reference, ``${NAME}``: the environment variable the value came from, or for a
param the key upper-cased with ``_`` for ``.`` (``db.password`` ->
``${DB_PASSWORD}``). The resume command keeps the references, so that the
user's shell (or ``kedro batch resume``, from its environment) fills them in.
Jobs still receive every value: only what is written and shown is redacted.

Free text (a log line, a job's argv) is searched for secret values of at least
``MIN_SEARCHED_LENGTH`` characters; shorter values are replaced only where they
are stored by name (environment mappings, settings).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from attrs import define, field

#: Words that make a name look secret (upper-cased substrings).
SECRET_WORDS: Final = (
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "KEY",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
    "SESSION",
    "COOKIE",
    "SIGNATURE",
)
#: Variables whose values are never secret: the run's id and Kedro env.
ALWAYS_PUBLIC: Final = frozenset({"KEDRO_PIPELINENAME_RUN_ID", "KEDRO_ENV"})
#: The variable that carries ``extra_env`` as JSON.
EXTRA_ENV_VARIABLE: Final = "KEDRO_BATCH_EXTRA_ENV"
#: Values shorter than this are not searched for in free text (a one-letter
#: "secret" would redact every word that contains the letter).
MIN_SEARCHED_LENGTH: Final = 4

_REFERENCE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def looks_secret(name: str) -> bool:
    """Whether ``name`` (a variable, setting or param key) looks like a secret's."""
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def reference(name: str) -> str:
    """The reference that stands for the value of ``name``: ``${NAME}``."""
    return "${" + name + "}"


def param_variable(dotted_key: str) -> str:
    """The variable a secret runtime param is referred to by (``db.password`` ->
    ``DB_PASSWORD``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", dotted_key).upper()


def references_in(text: str) -> list[str]:
    """The variable names ``text`` refers to (``${NAME}``), in order."""
    return _REFERENCE.findall(text)


_SPECIAL_IN_DOUBLE_QUOTES = re.compile(r'([\\"`$])')
_REFERENCE_PART = re.compile(r"(\$\{[A-Za-z_][A-Za-z0-9_]*\})")


def shell_quote(word: str) -> str:
    """``word`` for a POSIX shell, its ``${NAME}`` references left for the shell
    to fill in (``shlex.quote`` when it has none).

    Example:
        >>> shell_quote("--params=token=${TOKEN}")
        '"--params=token=${TOKEN}"'
    """
    import shlex

    if not references_in(word):
        return shlex.quote(word)
    quoted = "".join(
        part
        if _REFERENCE_PART.fullmatch(part)
        else _SPECIAL_IN_DOUBLE_QUOTES.sub(r"\\\1", part)
        for part in _REFERENCE_PART.split(word)
    )
    return f'"{quoted}"'


def expand_references(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with each ``${NAME}`` replaced by ``environ[NAME]``.

    Raises:
        KeyError: Naming the first variable ``environ`` lacks.
    """
    return _REFERENCE.sub(lambda match: environ[match.group(1)], text)


def _flatten(params: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in params.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{dotted}.")
        else:
            yield dotted, value


@define(frozen=True)
class Redactor:
    """The secrets of one run, and the rule that hides them (see the module doc).

    Attributes:
        secrets: Reference name -> secret value.
        hidden_names: Environment variables whose values are always shown as
            references, whatever their value.

    Example:
        >>> redactor = Redactor({"API_TOKEN": "s3cr3t-value"})
        >>> redactor.text("curl -H 'auth: s3cr3t-value'")
        "curl -H 'auth: ${API_TOKEN}'"
    """

    secrets: Mapping[str, str] = field(factory=dict)
    hidden_names: frozenset[str] = field(factory=frozenset)

    def hides(self, name: str) -> bool:
        """Whether the value of the variable ``name`` is shown as a reference."""
        if name in ALWAYS_PUBLIC:
            return False
        return name in self.hidden_names or name in self.secrets or looks_secret(name)

    def env(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` with every hidden value replaced by its reference."""
        return {
            name: reference(name) if self.hides(name) else self.text(value)
            for name, value in env.items()
        }

    def text(self, text: str) -> str:
        """``text`` with every secret value in it replaced by its reference."""
        # Longest first: a secret that contains another is replaced whole.
        for name, value in sorted(
            self.secrets.items(), key=lambda item: len(item[1]), reverse=True
        ):
            if len(value) >= MIN_SEARCHED_LENGTH and value in text:
                text = text.replace(value, reference(name))
        return text

    def data(self, value: Any) -> Any:
        """JSON-like ``value`` with every string redacted, and every mapping entry
        whose key looks secret replaced by its reference."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                key: reference(param_variable(str(key)))
                if looks_secret(str(key)) and not isinstance(item, Mapping)
                else self.data(item)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.data(item) for item in value]
        return value


def redactor_for(
    *,
    extra_env: Mapping[str, str],
    public_env: Iterable[str] = (),
    environ: Mapping[str, str],
    runtime_params: Mapping[str, Any] | None = None,
) -> Redactor:
    """The ``Redactor`` of a run (rules 1-3 of the module doc).

    Args:
        extra_env: The run's ``extra_env`` setting.
        public_env: The names of ``extra_env`` the project declared public.
        environ: The driver's environment.
        runtime_params: The run's ``--params``.
    """
    public = set(public_env)
    secrets: dict[str, str] = {}
    hidden: set[str] = {EXTRA_ENV_VARIABLE}
    for name, value in extra_env.items():
        if name not in public or looks_secret(name):
            secrets[name] = value
            hidden.add(name)
    for name, value in environ.items():
        if (looks_secret(name) or name == EXTRA_ENV_VARIABLE) and value:
            secrets[name] = value
    for key, value in _flatten(runtime_params or {}):
        if looks_secret(key) and value is not None:
            secrets.setdefault(param_variable(key), str(value))
    return Redactor(secrets=secrets, hidden_names=frozenset(hidden - ALWAYS_PUBLIC))


class _RedactingFilter(logging.Filter):
    """Redacts every record a handler emits (the message with its arguments)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report
            return True
        redacted = self._redactor.text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@contextlib.contextmanager
def redacted_logs(redactor: Redactor) -> Iterator[None]:
    """Every logging handler redacts what it emits in the block (Kedro's and
    this package's lines alike: the plan table, failures, the resume hint)."""
    if not redactor.secrets:
        yield
        return
    log_filter = _RedactingFilter(redactor)
    loggers = [logging.getLogger()] + [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    handlers = {id(handler): handler for log in loggers for handler in log.handlers}
    for handler in handlers.values():
        handler.addFilter(log_filter)
    try:
        yield
    finally:
        for handler in handlers.values():
            handler.removeFilter(log_filter)
