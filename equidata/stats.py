"""Summaries of classified data: group counts, shares and confidence quantiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from equidata.errors import InputError
from equidata.groups import RISK_GROUPS
from equidata.io import RecordSource, Reject

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def group_stats(path: str | Path, *, group_field: str = "risk_group", confidence_field: str = "risk_confidence") -> dict[str, Any]:
    """Per-group count, share and confidence quantiles of a classified file.

    Groups other than the four risk groups (e.g. ``general`` rows mixed in by ``balance``) are
    listed after them. A row without the group field is an input error.
    """
    source = RecordSource.open(path)
    conf: dict[str, list[float]] = {}
    for rec in source:
        if isinstance(rec, Reject):
            raise InputError(rec.reason, path=source.name, line=rec.line, unit=rec.unit, field=rec.field)
        group = rec.data.get(group_field)
        if not isinstance(group, str):
            why = f"missing; is this `equidata classify` output? fields found: {sorted(rec.data)}" if group is None else f"expected text, got {type(group).__name__}"
            raise InputError(why, path=source.name, line=rec.line, unit=rec.unit, field=group_field)
        value = rec.data.get(confidence_field)
        conf.setdefault(group, []).append(float(value) if isinstance(value, (int, float)) else np.nan)
    total = sum(len(v) for v in conf.values())
    order = [g for g in RISK_GROUPS if g in conf] + sorted(set(conf) - set(RISK_GROUPS))
    groups = {}
    for g in order:
        values = np.asarray(conf[g], dtype=np.float64)
        known = values[~np.isnan(values)]
        q = np.quantile(known, QUANTILES).round(4).tolist() if known.size else [None] * len(QUANTILES)
        groups[g] = {"count": len(values), "share": round(len(values) / total, 4), "confidence": dict(zip([f"p{int(x * 100)}" for x in QUANTILES], q))}
    return {"rows": total, "groups": groups}
