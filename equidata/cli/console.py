"""stderr-only output for the CLI: progress bars, summary tables and messages."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

err = Console(stderr=True)
out = Console(soft_wrap=True)


def interactive(quiet: bool) -> bool:
    """Progress bars only for a person watching: not with --quiet, not when stderr is a pipe or file."""
    return not quiet and sys.stderr.isatty()


LINE_SECONDS = 10.0  # seconds between plain progress lines in a log (env EQUIDATA_PROGRESS_SECONDS)
EXACT_COUNT_BYTES = 512 << 20  # text inputs up to this size have their lines counted, larger ones estimated
_HEAD_BYTES = 8 << 20


def _text_rows(path: Path, fmt: str) -> int:
    """Lines of a JSONL/CSV file: counted when small enough, else estimated from its first 8 MiB."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= EXACT_COUNT_BYTES:
            lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
        else:
            head = fh.read(_HEAD_BYTES)
            lines = round(head.count(b"\n") * size / max(len(head), 1))
    return max(lines - (fmt == "csv"), 0)


def input_total(*paths: str | Path | None) -> int | None:
    """Rows in the inputs when known cheaply: Parquet/datasets metadata, counted or estimated lines; else None.

    Nothing is counted for an input that can be read only once (stdin, a FIFO: counting would consume
    it) or that is compressed (its bytes are not its lines).
    """
    from equidata.io import STDIN, RecordSource
    from equidata.io.readers import compression

    total = 0
    for path in paths:
        if path is None:
            continue
        if str(path) == STDIN:
            return None
        source = RecordSource.open(path)
        if not source.rereadable:
            return None
        try:
            total += len(source)
        except TypeError:
            if source.fmt not in ("jsonl", "csv") or compression(str(path)):
                return None
            total += _text_rows(Path(path), source.fmt)
    return total


def _line_seconds() -> float:
    """Seconds between progress lines: EQUIDATA_PROGRESS_SECONDS when it is a number >= 0, else 10."""
    try:
        value = float(os.environ.get("EQUIDATA_PROGRESS_SECONDS", LINE_SECONDS))
    except ValueError:
        return LINE_SECONDS
    return value if value >= 0 else LINE_SECONDS


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class LogLines:
    """Plain progress lines for CI logs: rows done, total when known, rows/s and ETA, at most one per ``every`` seconds.

    The first line comes after ``every`` seconds, so short runs print none; a run that printed
    any ends with a line of its totals.
    """

    def __init__(self, description: str, total: int | None, every: float = LINE_SECONDS, clock: Callable[[], float] = time.monotonic,
                 write: Callable[[str], None] | None = None) -> None:
        self.description, self.total, self.every, self.clock = description, total, every, clock
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.start = self.last = clock()
        self.rows = self.lines = 0
        self.first: tuple[float, int] | None = None  # the first update: the rate leaves out start-up (model loading)

    def line(self, now: float, final: bool = False) -> str:
        since, base = self.first or (self.start, 0)
        rate = (self.rows - base) / (now - since) if now > since else 0.0
        done = f"{self.rows:,} rows" if not self.total else f"{self.rows:,}/{self.total:,} rows ({min(self.rows / self.total, 1.0):.0%})"
        eta = f", ETA {_clock((self.total - self.rows) / rate)}" if self.total and rate > 0 and self.rows < self.total and not final else ""
        return f"{self.description}: {done}, {rate:,.0f} rows/s, elapsed {_clock(now - self.start)}{eta}"

    def update(self, rows: int) -> None:
        now = self.clock()
        if self.first is None:
            self.first = (now, rows)
        self.rows = rows
        if now - self.last >= self.every:
            self.last = now
            self.lines += 1
            self.write(self.line(now))

    def close(self) -> None:
        if self.lines:
            self.write(self.line(self.clock(), final=True) + " (done)")


class Advance:
    """The ``progress`` callback commands take: rows finished (per chunk) and, via :meth:`batch`, rows in flight.

    Engines report a chunk's rows once it is written; a model reports each batch it embeds. The
    display shows the larger of the two running counts, so it moves several times per chunk.
    """

    def __init__(self, show: Callable[[int], None]) -> None:
        self.show = show
        self.done = self.in_flight = self.shown = 0
        self._lock = threading.Lock()  # chunks are reported from the writer thread, batches from the model's

    def __call__(self, n: int) -> None:
        with self._lock:
            self.done += n
            self._refresh()

    def batch(self, n: int) -> None:
        with self._lock:
            self.in_flight += n
            self._refresh()

    def _refresh(self) -> None:
        value = max(self.done, self.in_flight)
        if value > self.shown:
            self.shown = value
            self.show(value)


@contextmanager
def progress_bar(description: str, quiet: bool, total: int | None = None) -> Iterator[Advance | None]:
    """Yield an :class:`Advance` driving a rich bar on a terminal or plain lines in a log; None with ``quiet``."""
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():
        lines = LogLines(description, total, _line_seconds())
        yield Advance(lines.update)
        lines.close()
        return
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, transient=True, refresh_per_second=8) as bar:
        task = bar.add_task(description, total=total)
        yield Advance(lambda rows: bar.update(task, completed=rows))


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
