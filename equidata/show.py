"""``show``: pick a few rows of a file to read (first, least or most confident, or a seeded random sample)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from pathlib import Path

from equidata.engines.local import Progress
from equidata.errors import ParameterError
from equidata.io import Row
from equidata.tally import GROUP_FIELD, Reservoir, confidence_of, read_valid

SORTS = ("input", "confidence", "-confidence", "random")
BULKY = ("_token_ids", "_token_weights", "_token_reward", "_segments")


def pick_rows(path: str | Path, *, group: str | None = None, n: int = 10, sort: str = "input", seed: int = 0, progress: Progress | None = None) -> list[Row]:
    """``n`` rows of ``path`` (only ``group``'s when given), streaming: memory holds ``n`` rows.

    ``sort``: ``input`` (the first n), ``confidence`` (least confident first), ``-confidence``
    (most confident first) or ``random`` (a uniform sample seeded by ``seed``, in input order).
    """
    if sort not in SORTS:
        raise ParameterError("sort", f"one of {list(SORTS)}", sort)
    if n < 0:
        raise ParameterError("n", "a non-negative integer", n)
    rows: Iterator[Row] = (r for r in read_valid(path, progress) if group is None or r.data.get(GROUP_FIELD) == group)
    if sort == "input":
        return list(itertools.islice(rows, n))
    if sort == "random":
        sample = Reservoir(n, seed)
        for row in rows:
            sample.add(row)
        return sorted(sample.items, key=lambda r: r.index)
    scored = (r for r in rows if confidence_of(r.data) is not None)
    pick = heapq.nsmallest if sort == "confidence" else heapq.nlargest
    return pick(n, scored, key=lambda r: confidence_of(r.data))  # type: ignore[arg-type,return-value]


def default_fields(row: Row) -> list[str]:
    """Every field but the per-token lists and segment spans of annotate-masks output."""
    return [k for k in row.data if not k.endswith(BULKY)]
