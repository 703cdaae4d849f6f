"""What happens to rejected rows (fail, or skip to a rejects file) and the counts that must add up."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from equidata.errors import InputError, ParameterError
from equidata.io.records import Reject
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
    """``fail`` raises :class:`InputError` at the first reject; ``skip`` streams rejects to ``sink``."""

    mode: str
    source: str
    sink: IO[bytes] | None = None
    counts: RunCounts = field(default_factory=RunCounts)

    def __post_init__(self) -> None:
        if self.mode not in ON_ERROR:
            raise ParameterError("on_error", f"one of {list(ON_ERROR)}", self.mode)

    def reject(self, rej: Reject) -> None:
        """Fail on ``rej`` or record it, with its reason, in the rejects file."""
        if self.mode == "fail":
            raise InputError(rej.reason, path=self.source, line=rej.line, unit=rej.unit, field=rej.field)
        self.counts.rejected += 1
        if self.sink is not None:
            self.sink.write(reject_line(rej))


def reject_line(rej: Reject) -> bytes:
    """The rejects-file line of ``rej``; a row that is not strict JSON (NaN, a lone surrogate) is kept as escaped text."""
    try:
        return dumps_line(rej.to_json())
    except (ValueError, TypeError):
        raw = json.dumps(rej.row, default=repr)  # ASCII-escaped, so lone surrogates survive as \udXXX
        return dumps_line(Reject(rej.index, rej.line, rej.reason, rej.field, raw=raw, unit=rej.unit).to_json())

