"""Where values leave Python: one small function per destination.

Every value that reaches a job's argv, its environment, a job script, a file
path or an AWS request goes through the function of its destination, which
either returns it unchanged (the destination carries it byte for byte) or
raises ``BoundaryError`` naming the value, where it came from and why. What
each destination carries and refuses is in ``docs/boundaries.md``.

- ``argv_argument``: any text but NUL and lone surrogates (execve's strings are
  NUL-terminated bytes; a surrogate has no UTF-8 bytes), at most
  ``MAX_ARG_STRLEN`` bytes (Linux refuses one longer string with E2BIG).
- ``environment_variable``: a portable name (``[A-Za-z_][A-Za-z0-9_]*``, what
  ``bash``'s ``export`` accepts) and a value as ``argv_argument``'s.
- ``job_script_data``: a job script holds no value of the user; the job's
  directory, argv and environment go to a data file the script reads
  (NUL-separated fields, read with ``read -r -d ''``), each checked as above.
- ``script_line``: a setting that is a line of shell on purpose (a SLURM
  preamble line or ``#SBATCH`` directive) must stay one line.
- ``path_component``: a name that becomes one file name (job names, run ids).
- ``aws_string``: a string of an AWS request (JSON over HTTPS, UTF-8): no NUL
  (a container's argv and environment cannot hold one) and no surrogate.
- ``pipeline_name_part``: a node name or namespace: no control characters
  (newlines, tabs, escape sequences), which pass Kedro but break every log line,
  comment and file that shows them.
- ``exec_size`` / ``exec_problem``: whether one job's argv and environment fit
  the OS's ``ARG_MAX`` (``os.sysconf("SC_ARG_MAX")``).

Imports nothing of this package: the argv builders (``argv.py``), the batch core
and every engine (through ``batch/kit.py``) use it.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Final

#: Linux's longest single argv or environment string, NUL included
#: (``MAX_ARG_STRLEN`` = 32 pages of 4 KiB, include/uapi/linux/binfmts.h).
MAX_ARG_STRLEN: Final = 32 * 4096
#: Longest file name of the usual file systems (ext4, xfs, NFS): bytes.
MAX_FILE_NAME: Final = 255
#: ``bash``'s and POSIX's variable names; anything else cannot be exported.
_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: Shown of a long value in a message.
_SHOWN: Final = 80


class BoundaryError(ValueError):
    """A value cannot reach its destination unchanged; nothing was started.

    Attributes:
        value: The value refused.
        source: Where it came from (a setting, a node, the run's params).
        reason: Why the destination cannot carry it.
    """

    def __init__(self, value: str, source: str, reason: str) -> None:
        self.value = value
        self.source = source
        self.reason = reason
        super().__init__(f"{shown(value)} from {source} {reason}")


def shown(value: str) -> str:
    """``value`` as a message shows it: ``repr`` (every control character
    escaped), cut to 80 characters with its length when longer."""
    if len(value) <= _SHOWN:
        return repr(value)
    return f"{value[:_SHOWN]!r}... ({len(value)} characters)"


def _text_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not text"
    if "\0" in value:
        return (
            f"contains a NUL character (at {value.index(chr(0))}), which no argv, "
            f"environment or file name can hold; remove it"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return (
            f"contains a lone surrogate {value[error.start]!r} (at {error.start}), "
            f"which is not text and has no UTF-8 bytes (undecodable bytes read as "
            f"str?); pass real text"
        )
    return None


def argv_argument(value: str, *, source: str) -> str:
    """``value`` as one argument of a job's argv (no shell: carried verbatim).

    Raises:
        BoundaryError: For a NUL, a lone surrogate, or more than
            ``MAX_ARG_STRLEN`` bytes.

    Example:
        >>> argv_argument("--nodes=a;$(b)", source="node names")
        '--nodes=a;$(b)'
    """
    problem = _text_problem(value)
    if problem:
        raise BoundaryError(str(value), source, problem)
    size = len(value.encode("utf-8")) + 1
    if size > MAX_ARG_STRLEN:
        raise BoundaryError(
            value,
            source,
            f"is one argument of {size} bytes; Linux starts no program with an "
            f"argument over {MAX_ARG_STRLEN} bytes (MAX_ARG_STRLEN). Split the job "
            f"(batch setting grouping: none, or smaller namespaces)",
        )
    return value


def environment_variable(name: str, value: str, *, source: str) -> tuple[str, str]:
    """``name=value`` as one variable of a job's environment, carried verbatim.

    Raises:
        BoundaryError: For a name ``bash`` cannot export, or a value
            ``argv_argument`` refuses.

    Example:
        >>> environment_variable("TOKEN", "a b $c", source="extra_env")
        ('TOKEN', 'a b $c')
    """
    if not isinstance(name, str) or not _ENV_NAME.match(name):
        raise BoundaryError(
            str(name),
            source,
            "is no environment variable name a shell can export (letters, digits "
            "and '_', not starting with a digit); rename it",
        )
    argv_argument(value, source=f"{source} (variable {name})")
    # The kernel's per-string limit is on the whole NAME=value entry.
    argv_argument(f"{name}={value}", source=f"{source} (variable {shown(name)})")
    return name, value


def job_script_data(
    *, directory: str, exit_prefix: str, argv: Sequence[str], env: Mapping[str, str]
) -> bytes:
    """The data file a job script reads: every value the job needs, none in the
    script's text.

    Fields, each ended by NUL: the directory to run in, the prefix of the exit
    file, the number of environment entries, the ``NAME=value`` entries, then
    the argv. A NUL cannot occur inside a field (``argv_argument`` refuses it),
    so ``read -r -d ''`` reads back exactly these strings.

    Raises:
        BoundaryError: For a value the argv or environment boundary refuses.
    """
    fields = [
        argv_argument(directory, source="the project directory"),
        argv_argument(exit_prefix, source="the job's log directory"),
        str(len(env)),
    ]
    for name, value in sorted(env.items()):
        environment_variable(name, value, source="the job's environment")
        fields.append(f"{name}={value}")
    if not argv:
        raise BoundaryError("", "the job's command", "is empty")
    if "=" in argv[0]:
        raise BoundaryError(
            argv[0],
            "the job's command (its program)",
            "contains '=', which `env` (that starts the job) reads as a variable; "
            "install the program under a path without '='",
        )
    fields.extend(argv_argument(part, source="the job's command") for part in argv)
    return b"".join(field.encode("utf-8") + b"\0" for field in fields)


def script_line(value: str, *, source: str) -> str:
    """A line of shell that a setting gives on purpose (``script_preamble``,
    ``extra_directives``): refused when it is not exactly one line.

    Raises:
        BoundaryError: For a control character (a newline would add lines).
    """
    problem = _text_problem(value) or _control_problem(value)
    if problem:
        raise BoundaryError(str(value), source, problem)
    return value


def path_component(value: str, *, source: str) -> str:
    """``value`` as one file name (a job's or a run's directory or file).

    Raises:
        BoundaryError: For an empty name, ``.``, ``..``, a ``/`` or ``\\``, a
            control character, or more than 255 bytes.
    """
    problem = _text_problem(value) or _control_problem(value)
    if problem is None:
        if value in ("", ".", ".."):
            problem = "is no file name"
        elif "/" in value or "\\" in value:
            problem = "contains a path separator; a name must be one file name"
        elif len(value.encode("utf-8")) > MAX_FILE_NAME - 16:
            # 16: room for the suffixes the engines add (".12345678.out").
            problem = f"is longer than {MAX_FILE_NAME - 16} bytes, too long a file name"
    if problem:
        raise BoundaryError(str(value), source, problem)
    return value


def aws_string(value: str, *, source: str) -> str:
    """A string of an AWS request, carried verbatim (JSON escapes it).

    Raises:
        BoundaryError: For a NUL (a container's argv and environment cannot
            hold one) or a lone surrogate (no UTF-8).
    """
    problem = _text_problem(value)
    if problem:
        raise BoundaryError(str(value), source, problem)
    return value


def _control_problem(value: str) -> str | None:
    for index, char in enumerate(value):
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return (
                f"contains the control character {char!r} (at {index}), which would "
                f"break the lines of scripts, logs and tables that show it; remove it"
            )
    return None


def pipeline_name_part(value: str, *, source: str) -> str:
    """A node name or namespace: any text but control characters.

    Raises:
        BoundaryError: For a control character, a NUL or a lone surrogate.
    """
    problem = _text_problem(value) or _control_problem(value)
    if problem:
        raise BoundaryError(str(value), source, problem)
    return value


def _pointer_size() -> int:
    return 8 if sys.maxsize > 2**32 else 4


def exec_size(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Bytes ``execve`` needs for ``argv`` and ``env``: each string with its NUL,
    and one pointer per string plus the two NULL pointers (Linux's count,
    fs/exec.c)."""
    strings = sum(len(part.encode("utf-8", "surrogateescape")) + 1 for part in argv)
    strings += sum(
        len(f"{name}={value}".encode("utf-8", "surrogateescape")) + 1
        for name, value in env.items()
    )
    return strings + (len(argv) + len(env) + 2) * _pointer_size()


def arg_max() -> int:
    """The OS's limit on argv plus environment (``sysconf(SC_ARG_MAX)``)."""
    try:
        return int(os.sysconf("SC_ARG_MAX"))
    except (ValueError, OSError):  # not POSIX: the POSIX minimum
        return 4096


def exec_problem(
    argv: Sequence[str], env: Mapping[str, str], *, job: str, margin: int = 0
) -> str | None:
    """Why job ``job`` could not start with ``argv`` and ``env`` (``margin``:
    bytes kept for what its engine adds), or ``None``."""
    limit = arg_max()
    size = exec_size(argv, env)
    if size <= limit - margin:
        return None
    return (
        f"Job {job!r}: its command and environment are {size} bytes, over this "
        f"machine's limit of {limit - margin} bytes (ARG_MAX {limit}, less "
        f"{margin} for what the engine adds), so it could not start. Split it: "
        f"set the batch setting grouping: none (one job per node) or split its "
        f"namespace; or make the environment smaller."
    )
