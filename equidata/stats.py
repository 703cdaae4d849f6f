"""Summaries of classified data: group counts, shares and confidence quantiles.

One streaming pass. Memory is flat in the rows: per group, a count of each distinct confidence
value (``classify`` writes them to four decimals, so at most 10,001 per group), from which the
quantiles are computed exactly as ``numpy.quantile`` would compute them over all the values.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from equidata.errors import InputError
from equidata.groups import RISK_GROUPS
from equidata.io import ErrorPolicy, RecordSource

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def counted_quantiles(counts: Counter[float], quantiles: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """``numpy.quantile`` (linear method) of the values that ``counts`` holds, without expanding them."""
    values = np.asarray(sorted(counts), dtype=np.float64)
    ends = np.cumsum([counts[v] for v in values.tolist()])
    virtual = (ends[-1] - 1) * np.asarray(quantiles)
    below = np.floor(virtual).astype(np.int64)
    a = values[np.searchsorted(ends, below, side="right")]
    b = values[np.searchsorted(ends, np.minimum(below + 1, ends[-1] - 1), side="right")]
    gamma, diff = virtual - below, b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)  # numpy's own two-sided interpolation


def group_stats(path: str | Path, *, group_field: str = "risk_group", confidence_field: str = "risk_confidence") -> dict[str, Any]:
    """Per-group count, share and confidence quantiles of a classified file.

    Groups other than the four risk groups (e.g. ``general`` rows mixed in by ``balance``) are
    listed after them. A row without the group field is an input error.
    """
    source = RecordSource.open(path)
    rows: Counter[str] = Counter()
    conf: dict[str, Counter[float]] = {}
    for rec in ErrorPolicy("fail", source.name).rows(source):
        group = rec.data.get(group_field)
        if not isinstance(group, str):
            why = f"missing; is this `equidata classify` output? fields found: {sorted(rec.data)}" if group is None else f"expected text, got {type(group).__name__}"
            raise InputError(why, path=source.name, line=rec.line, unit=rec.unit, field=group_field)
        rows[group] += 1
        value = rec.data.get(confidence_field)
        if isinstance(value, (int, float)) and not np.isnan(value):
            conf.setdefault(group, Counter())[float(value)] += 1
    total = sum(rows.values())
    order = [g for g in RISK_GROUPS if g in rows] + sorted(set(rows) - set(RISK_GROUPS))
    groups = {}
    for g in order:
        q = counted_quantiles(conf[g]).round(4).tolist() if g in conf else [None] * len(QUANTILES)
        groups[g] = {"count": rows[g], "share": round(rows[g] / total, 4), "confidence": dict(zip([f"p{int(x * 100)}" for x in QUANTILES], q))}
    return {"rows": total, "groups": groups}
