"""Lines and tables a user reads: rich on a terminal, plain columns elsewhere.

A view (the plan, ``kedro batch runs``, ``status``) is a sequence of blocks:
a line of text, or a ``Sheet`` (a header row and rows). ``renderable`` makes
them one rich renderable for a terminal (``Console.print``, ``Live``);
``plain_text`` the same as aligned columns without boxes, colour or wrapping,
for pipes, files and logs, where a line is greppable and a cell never splits.
Every cell and line is a ``rich.text.Text``: user and job text (job and node
names, reasons, log lines) is shown verbatim, ``[red]`` and ``[link=...]``
included; Rich markup is never interpreted.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Final

from attrs import define, field
from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

#: Wide enough that no plain line is ever wrapped (rich needs a width).
_NO_WRAP_WIDTH: Final = 1_000_000


def _cells(cells: Iterable[str]) -> tuple[str, ...]:
    return tuple(cells)


def _rows(rows: Iterable[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(row) for row in rows)


@define(frozen=True)
class Sheet:
    """A table: its column headers, its rows (cells may hold several lines),
    and how many spaces it is indented by."""

    headers: tuple[str, ...] = field(converter=_cells)
    rows: tuple[tuple[str, ...], ...] = field(converter=_rows)
    indent: int = 0


#: A line of text, or a table.
Block = str | Sheet


def _table(sheet: Sheet, *, plain: bool) -> RenderableType:
    table = Table(
        box=None if plain else box.SIMPLE_HEAD,
        show_edge=not plain,
        pad_edge=not plain,
        header_style="" if plain else "bold",
        highlight=False,
    )
    for header in sheet.headers:
        table.add_column(
            Text(header), no_wrap=plain, overflow="ignore" if plain else "fold"
        )
    for row in sheet.rows:
        table.add_row(*(Text(cell) for cell in row))
    if not sheet.indent:
        return table
    return Padding(table, (0, 0, 0, sheet.indent), expand=False)


def _renderables(blocks: Iterable[Block], *, plain: bool) -> list[RenderableType]:
    return [
        Text(block) if isinstance(block, str) else _table(block, plain=plain)
        for block in blocks
    ]


def renderable(blocks: Iterable[Block]) -> RenderableType:
    """``blocks`` as one rich renderable, for a terminal."""
    return Group(*_renderables(blocks, plain=False))


def plain_text(blocks: Iterable[Block]) -> str:
    """``blocks`` as plain text: aligned columns, one line per row (and per line
    of a multi-line cell), no trailing blanks, a final newline."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=_NO_WRAP_WIDTH,
        color_system=None,
        force_terminal=False,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=False,
    )
    console.print(Group(*_renderables(blocks, plain=True)))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def console_for(file: IO[str] | None = None) -> Console:
    """A console on ``file`` (stdout) that never reads markup in what it prints."""
    return Console(file=file or sys.stdout, markup=False, emoji=False, highlight=False)


def show(blocks: Sequence[Block], file: IO[str] | None = None) -> None:
    """Print ``blocks``: rich tables on a terminal, ``plain_text`` otherwise."""
    console = console_for(file)
    if console.is_terminal:
        console.print(renderable(blocks))
    else:
        console.file.write(plain_text(blocks))
        console.file.flush()
