"""stderr-only output for the CLI: progress bars, summary tables and messages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

err = Console(stderr=True)
out = Console(soft_wrap=True)


def interactive(quiet: bool) -> bool:
    """Progress bars only for a person watching: not with --quiet, not when stderr is a pipe or file."""
    return not quiet and sys.stderr.isatty()


def input_total(path: str) -> int | None:
    """Row count of an input when its format knows it cheaply (Parquet, datasets), else None."""
    from equidata.io import RecordSource

    try:
        return len(RecordSource.open(path))
    except TypeError:
        return None


@contextmanager
def progress_bar(description: str, quiet: bool, total: int | None = None) -> Iterator[Any]:
    """Yield an ``advance(n)`` callback driving a rich bar on stderr, or a no-op when not interactive."""
    if not interactive(quiet):
        yield None
        return
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A simple rich table; right-aligned numeric columns after the first."""
    t = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        t.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        t.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    return t


def summary(quiet: bool, *renderables: Any) -> None:
    """Print end-of-run summaries to stderr unless --quiet."""
    if not quiet:
        for r in renderables:
            err.print(r)


def counts_table(counts: Any) -> Table:
    """Rows read / written / rejected (they add up) and where rejects went."""
    rows = [["read", counts.read], ["written", counts.written], ["rejected", counts.rejected]]
    if counts.rejects_path is not None:
        rows.append(["rejects file", str(counts.rejects_path)])
    return table("rows", ["", "count"], rows)


def warn(message: str) -> None:
    """A warning on stderr, shown even with --quiet (it is not a summary)."""
    err.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False)


def empty_input_warning(read: int, source: str) -> None:
    """Say so when the input held no rows (the output is then empty too)."""
    if read == 0:
        warn(f"{source} holds no rows; the output is empty")
