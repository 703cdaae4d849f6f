"""What happens to rejected rows (fail, or skip to a rejects file) and the counts that must add up.

:class:`ErrorPolicy` is the one place a run's records are accounted for: :meth:`~ErrorPolicy.rows`
(record by record) and :meth:`~ErrorPolicy.settle` (a chunk at a time) count what was read, send
every reject through :meth:`~ErrorPolicy.reject` in input order and count what was written, and
:meth:`~ErrorPolicy.finish` checks that the counts add up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from equidata.errors import InputError, ParameterError
from equidata.io.records import Reject, Row
from equidata.io.writers import dumps_line

ON_ERROR = ("fail", "skip")


@dataclass
class RunCounts:
    """Rows read = rows written + rows rejected; :meth:`check` enforces it at the end of a run."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    rejects_path: Path | None = None

    def check(self) -> None:
        if self.read != self.written + self.rejected:
            raise AssertionError(f"row accounting broke: read {self.read} != written {self.written} + rejected {self.rejected}")


@dataclass
class ErrorPolicy:
    """``fail`` raises :class:`InputError` at the first reject; ``skip`` streams rejects to ``sink``.

    Each rejects line starts with the fields of ``prefix`` (``balance``: the input it came from).
    """

    mode: str
    source: str
    sink: IO[bytes] | None = None
    counts: RunCounts = field(default_factory=RunCounts)
    prefix: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in ON_ERROR:
            raise ParameterError("on_error", f"one of {list(ON_ERROR)}", self.mode)

    def reject(self, rej: Reject) -> None:
        """Fail on ``rej`` or record it, with its reason, in the rejects file."""
        if self.mode == "fail":
            raise InputError(rej.reason, path=self.source, line=rej.line, unit=rej.unit, field=rej.field)
        self.counts.rejected += 1
        if self.sink is not None:
            self.sink.write(reject_line(rej, self.prefix))

    def counted(self, records: Iterable[Row | Reject]) -> Iterator[Row | Reject]:
        """``records`` as they come, each counted as read (the caller sends the rejects to :meth:`reject`)."""
        for rec in records:
            self.counts.read += 1
            yield rec

    def rows(self, records: Iterable[Row | Reject]) -> Iterator[Row]:
        """The rows of ``records``, each record counted as read; a record that could not be parsed is rejected."""
        for rec in self.counted(records):
            if isinstance(rec, Reject):
                self.reject(rec)
            else:
                yield rec

    def settle(self, records: int, rejects: Iterable[Reject], written: int) -> None:
        """Account for one chunk: ``records`` read, its ``rejects`` (parse and step rejects alike) in input order, ``written`` rows out."""
        self.counts.read += records
        for rej in sorted(rejects, key=attrgetter("index")):
            self.reject(rej)
        self.counts.written += written

    def finish(self, rejects_path: Path | None) -> RunCounts:
        """The run's counts, checked; they name ``rejects_path`` only when a row was rejected (an empty rejects file is not written)."""
        self.counts.rejects_path = rejects_path if self.counts.rejected else None
        self.counts.check()
        return self.counts


def reject_line(rej: Reject, prefix: dict[str, Any] | None = None) -> bytes:
    """The rejects-file line of ``rej``, after the fields of ``prefix``; a row that is not strict JSON (NaN, a lone surrogate) is kept as escaped text."""
    head = prefix or {}
    try:
        return dumps_line({**head, **rej.to_json()})
    except (ValueError, TypeError):
        raw = json.dumps(rej.row, default=repr)  # ASCII-escaped, so lone surrogates survive as \udXXX
        return dumps_line({**head, **Reject(rej.index, rej.line, rej.reason, rej.field, raw=raw, unit=rej.unit).to_json()})

