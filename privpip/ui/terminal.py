"""What privpip prints for people: colour or not, the width, tables that fit it, spinners."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TextIO

Cell = tuple[str, str]  # (text, rich style; "" for none)
Line = list[Cell]

GAP = "  "


def _set(env: Mapping[str, str], name: str) -> bool:
    # no-color.org and force-color.org: set *and not empty*.
    return bool(env.get(name, ""))


def use_color(env: Mapping[str, str], stream: TextIO) -> bool:
    """NO_COLOR wins, then FORCE_COLOR, then: is ``stream`` a terminal (not TERM=dumb)."""
    if _set(env, "NO_COLOR"):
        return False
    if _set(env, "FORCE_COLOR"):
        return True
    return _isatty(stream) and env.get("TERM", "") not in ("dumb", "unknown")


def width(env: Mapping[str, str], stream: TextIO) -> int | None:
    """$COLUMNS, else the terminal's width; None (no limit) for a pipe or a file.

    A pipe gets whole lines, one per row, so that scripts can read them with grep and awk.
    """
    columns = env.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if _isatty(stream):
        import shutil

        return shutil.get_terminal_size().columns
    return None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def layout(headers: Sequence[str], rows: Sequence[Sequence[Cell]], limit: int | None,
           wrap: int | None = None) -> list[Line]:
    """The lines of a table that fits ``limit`` columns, without cutting any value.

    All columns on one line when they fit; else the column ``wrap`` (a long URL) goes to its
    own indented line below its row; else each row becomes a block of "key: value" lines. A
    value longer than the whole width is never cut: the terminal wraps it.
    """
    cols = list(range(len(headers)))
    if _fits(headers, rows, cols, limit):
        return _table(headers, rows, cols)
    if wrap is not None:
        rest = [c for c in cols if c != wrap]
        if _fits(headers, rows, rest, limit):
            lines: list[Line] = []
            table = _table(headers, rows, rest)
            lines.append(table[0])
            for row, line in zip(rows, table[1:], strict=True):
                lines.append(line)
                text, style = row[wrap]
                lines.append([(GAP + text, style)])
            return lines
    return _blocks(headers, rows)


def _widths(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[int]:
    return [max([len(headers[i]), *(len(row[i][0]) for row in rows)])
            for i in range(len(headers))]


def _fits(headers: Sequence[str], rows: Sequence[Sequence[Cell]], cols: list[int],
          limit: int | None) -> bool:
    if limit is None:
        return True
    widths = _widths(headers, rows)
    total = sum(widths[c] for c in cols) + len(GAP) * (len(cols) - 1)
    return total <= limit


def _table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], cols: list[int]) -> list[Line]:
    widths = _widths(headers, rows)
    out: list[Line] = []
    for row in [[(h, "bold") for h in headers], *rows]:
        line: Line = []
        for k, c in enumerate(cols):
            text, style = row[c]
            line.append((text, style))
            if k < len(cols) - 1:
                line.append((" " * (widths[c] - len(text)) + GAP, ""))
        while line and not line[-1][0].strip():  # no trailing blanks (empty last cells)
            line.pop()
        out.append(line)
    return out


def _blocks(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[Line]:
    keys = [h.lower() + ":" for h in headers[1:]]
    pad = max(len(k) for k in keys) + 1 if keys else 0
    out: list[Line] = []
    for n, row in enumerate(rows):
        if n:
            out.append([])
        out.append([(row[0][0], row[0][1] or "bold")])
        for key, (text, style) in zip(keys, row[1:], strict=True):
            if text:
                out.append([(GAP + key.ljust(pad), ""), (text, style)])
    return out


def plain(line: Line) -> str:
    return "".join(text for text, _ in line)


def echo_lines(lines: Sequence[Line], env: Mapping[str, str],
               stream: TextIO | None = None) -> None:
    """Print ``lines`` to ``stream`` (stdout): styled through rich when colour is on."""
    stream = stream or sys.stdout
    if not use_color(env, stream):
        for line in lines:
            stream.write(plain(line) + "\n")
        stream.flush()
        return
    from rich.console import Console
    from rich.text import Text

    # soft_wrap: rich never inserts a line break or cuts; layout() already chose the lines.
    console = Console(file=stream, force_terminal=True, no_color=False, soft_wrap=True,
                      highlight=False, emoji=False, markup=False,
                      color_system="auto" if _isatty(stream) else "standard")
    for line in lines:
        text = Text()
        for part, style in line:
            text.append(part, style=style or None)
        console.print(text)


@contextmanager
def spinner(message: str, env: Mapping[str, str], stream: TextIO | None = None
            ) -> Iterator[None]:
    """A spinner with ``message`` on stderr while the block runs, only on a terminal.

    Nothing at all when stderr is a pipe or a file (CI logs stay clean), nor with TERM=dumb.
    The line is erased when the block ends.
    """
    stream = stream or sys.stderr
    if not _isatty(stream) or env.get("TERM", "") in ("dumb", "unknown"):
        yield
        return
    from rich.console import Console

    console = Console(file=stream, no_color=_set(env, "NO_COLOR") or None, highlight=False)
    with console.status(message, spinner="dots"):
        yield
