"""Records in fixed-size chunks, and a chunk's results as output lines and rejects (the engines' unit of work)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from equidata.io.records import Reject, Row
from equidata.io.writers import dumps_line


@dataclass
class Chunk:
    """Up to ``size`` parsed rows, the parse rejects met while gathering them, and the records consumed."""

    rows: list[Row] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    records: int = 0


def read_chunks(records: Iterable[Row | Reject], size: int) -> Iterator[Chunk]:
    """Group records into chunks of ``size`` rows; a trailing chunk may hold only rejects."""
    chunk = Chunk()
    for rec in records:
        chunk.records += 1
        if isinstance(rec, Reject):
            chunk.rejects.append(rec)
            continue
        chunk.rows.append(rec)
        if len(chunk.rows) == size:
            yield chunk
            chunk = Chunk()
    if chunk.records:
        yield chunk


def encode_line(row: Row, record: dict[str, Any]) -> bytes | Reject:
    """``record`` (what is written for ``row``) as a JSONL line, or the reject of ``row`` when it cannot be.

    This is the one test of "cannot be written as strict JSON" (NaN or infinity from Parquet, a lone
    surrogate, a type JSON lacks such as a Parquet decimal): the writer itself, so that what is
    rejected is exactly what ``dumps_line`` refuses.
    """
    try:
        return dumps_line(record)
    except (ValueError, TypeError) as exc:
        return Reject.of(row, f"cannot be written as strict JSON: {exc}")


def encode_results(rows: Sequence[Row], results: Sequence[dict[str, Any] | Reject]) -> tuple[list[bytes], list[Reject]]:
    """The JSONL lines of a step's ``results`` for ``rows``, and its rejects.

    A result that cannot be written as strict JSON rejects its row (see :func:`encode_line`).
    """
    lines: list[bytes] = []
    bad: list[Reject] = []
    for row, result in zip(rows, results):
        out = result if isinstance(result, Reject) else encode_line(row, result)
        if isinstance(out, Reject):
            bad.append(out)
        else:
            lines.append(out)
    return lines, bad
