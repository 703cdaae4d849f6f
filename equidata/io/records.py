"""The one record type every step consumes, and the record of a row that was turned away."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The rejects-file key of a record's position, by unit. Text formats count lines (``line``); the
#: others count rows, and ``row`` already holds the row's data, so their position is ``row_number``.
POSITION_KEYS = {"line": "line", "row": "row_number"}


@dataclass(frozen=True, slots=True)
class Row:
    """One input record.

    ``index`` is the 0-based position in the input; ``line`` is the 1-based line number for
    text formats (JSONL, CSV) or the 1-based row/item number for the others (``unit`` says which).
    ``data`` holds every input field unchanged.
    """

    index: int
    line: int
    data: dict[str, Any]
    unit: str = "line"


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that cannot be used, with the reason and (when known) the field at fault."""

    index: int
    line: int
    reason: str
    field: str | None = None
    row: dict[str, Any] | None = None
    raw: str | None = None
    unit: str = "line"

    @classmethod
    def of(cls, row: Row, reason: str, field: str | None = None) -> Reject:
        """Reject a parsed row, keeping its data."""
        return cls(row.index, row.line, reason, field, row=row.data, unit=row.unit)

    def to_json(self) -> dict[str, Any]:
        """The rejects-file record: position (see :data:`POSITION_KEYS`), field, reason, then the row and/or its raw text (e.g. a judge's answer)."""
        out: dict[str, Any] = {POSITION_KEYS[self.unit]: self.line, "field": self.field, "reason": self.reason}
        if self.row is not None:
            out["row"] = self.row
        if self.raw is not None:
            out["raw"] = self.raw
        return out
