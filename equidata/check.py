"""``check``: a CI gate over classified, balanced or masked data.

Each check gives a :class:`CheckResult`; the gate passes when all of them pass. Bad usage or
unreadable input raises (exit 2) instead of failing a check (exit 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from equidata.ama.weights import SIDES
from equidata.balance.quotas import parse_group_numbers
from equidata.engines.local import Progress
from equidata.errors import ParameterError
from equidata.groups import RISK_GROUPS
from equidata.io import RecordSource
from equidata.tally import GroupTally, ManifestTally, MaskTally, read_valid

DEFAULT_KEPT_SHARE = "0.01:0.99"


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, whether it passed, the measured value, the limit and a sentence."""

    name: str
    passed: bool
    value: Any
    limit: str
    detail: str


@dataclass
class CheckReport:
    """All results of one ``check`` run."""

    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": sum(not r.passed for r in self.results), "checks": [asdict(r) for r in self.results]}


def parse_pair(spec: str, name: str, must: str) -> tuple[float, float]:
    """Parse ``"A:B"`` into two finite numbers."""
    left, sep, right = spec.partition(":")
    try:
        a, b = float(left), float(right)
    except ValueError:
        a = b = math.nan
    if not sep or not (math.isfinite(a) and math.isfinite(b)):
        raise ParameterError(name, must, spec)
    return a, b


def parse_bounds(spec: str, name: str = "kept_share") -> tuple[float, float]:
    """``"LO:HI"`` with 0 <= LO <= HI <= 1."""
    lo, hi = parse_pair(spec, name, "LO:HI with 0 <= LO <= HI <= 1, e.g. 0.05:0.95")
    if not 0.0 <= lo <= hi <= 1.0:
        raise ParameterError(name, "LO:HI with 0 <= LO <= HI <= 1, e.g. 0.05:0.95", spec)
    return lo, hi


def parse_confidence_limit(spec: str) -> tuple[float, float]:
    """``"THRESHOLD:MAX_SHARE"``, both in [0, 1]."""
    must = "THRESHOLD:MAX_SHARE with both in [0, 1], e.g. 0.5:0.2 (at most 20% of rows below confidence 0.5)"
    threshold, share = parse_pair(spec, "max_share_below_confidence", must)
    if not (0.0 <= threshold <= 1.0 and 0.0 <= share <= 1.0):
        raise ParameterError("max_share_below_confidence", must, spec)
    return threshold, share


def check_ratio(tally: GroupTally, ratio: str, tolerance: float) -> list[CheckResult]:
    """Each risk group's share within ``tolerance`` of the ratio's (a group left out of it: 0)."""
    weights = parse_group_numbers(ratio, "ratio")
    total = sum(weights.values())
    shares = tally.risk_shares()
    results = []
    for group in RISK_GROUPS:
        want = float(weights.get(group, 0) / total)
        got = shares[group]
        results.append(CheckResult(
            f"ratio:{group}", abs(got - want) <= tolerance, round(got, 4), f"{want:.4f} ± {tolerance:g}",
            f"{tally.counts[group]} of {sum(tally.counts[g] for g in RISK_GROUPS)} risk-group rows",
        ))
    return results


def _merge(mine: Iterator[int], theirs: Iterator[int], unit: str) -> tuple[int, int, list[str]]:
    """Merge input line numbers with the manifest's (both ascending): (missing, unexpected, first notes)."""
    missing = extra = last = 0
    notes: list[str] = []

    def note(text: str) -> None:
        if len(notes) < 3:
            notes.append(text)

    m, t = next(mine, None), next(theirs, None)
    while m is not None or t is not None:
        if t is not None and t <= last:
            extra += 1
            note(f"manifest entry for input {unit} {t} repeated or out of input order")
            t = next(theirs, None)
        elif t is None or (m is not None and m < t):
            missing += 1
            note(f"input {unit} {m} has no manifest entry")
            m = next(mine, None)
        elif m is None or t < m:
            extra += 1
            note(f"manifest names input {unit} {t}, which the input does not have")
            last, t = t, next(theirs, None)
        else:
            last, m, t = t, next(mine, None), next(theirs, None)
    return missing, extra, notes


def check_accounting(manifest: str | Path, input: str | Path, output_groups: GroupTally | None, progress: Progress | None) -> list[CheckResult]:
    """Every record of ``input`` has exactly one manifest entry, and the selected rows are the output's.

    ``balance`` writes its manifest in input order, so input and manifest are merged in one pass.
    """
    tally = ManifestTally()
    source = RecordSource.open(input)
    unit = source.unit

    def manifest_lines() -> Iterator[int]:
        for row in read_valid(manifest, progress):
            tally.add(row, manifest)
            if row.data.get("source", "input") == "input":
                line = row.data.get(unit)
                yield line if isinstance(line, int) else 0

    missing, extra, first = _merge((rec.line for rec in source), manifest_lines(), unit)
    read = sum(n for (src, _, _), n in tally.fates.items() if src == "input")
    results = [CheckResult(
        "manifest:accounted", missing == extra == 0, missing + extra,
        "0 input rows missing or unexpected", "; ".join(first) or f"all input rows accounted for ({read})",
    )]
    if output_groups is not None:
        selected = tally.selected()
        written = {g: n for g, n in output_groups.counts.items() if n}
        diff = {g: (selected.get(g, 0), written.get(g, 0)) for g in sorted(set(selected) | set(written)) if selected.get(g, 0) != written.get(g, 0)}
        results.append(CheckResult(
            "manifest:selected", not diff, sum(written.values()), f"{sum(selected.values())} selected in the manifest",
            "; ".join(f"{g}: {s} selected, {w} in the file" for g, (s, w) in diff.items()) or "selected rows match the file per group",
        ))
    return results


def check_masks(tally: MaskTally, bounds: tuple[float, float]) -> list[CheckResult]:
    """Each side's kept-token share (mean token weight) within ``bounds``."""
    lo, hi = bounds
    return [
        CheckResult(
            f"kept_share:{side}", tally.rows > 0 and lo <= tally.kept_share(side) <= hi, round(tally.kept_share(side), 4), f"{lo:g}..{hi:g}",
            f"{tally.tokens[side]} tokens in {tally.rows} pairs, {tally.fallbacks} fallbacks to all-ones",
        )
        for side in SIDES
    ]


def check_file(
    path: str | Path,
    *,
    ratio: str | None = None,
    tolerance: float = 0.05,
    min_rows: int = 1,
    max_share_below_confidence: str | None = None,
    manifest: str | Path | None = None,
    input: str | Path | None = None,
    masks: str | Path | None = None,
    kept_share: str | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Run the requested checks on ``path`` (and the manifest and masks files named).

    ``kept_share`` bounds apply to ``masks`` (default: ``path`` itself when only ``kept_share`` is given).
    """
    if not 0.0 <= tolerance <= 1.0:
        raise ParameterError("tolerance", "a share in [0, 1]", tolerance)
    if min_rows < 0:
        raise ParameterError("min_rows", "a non-negative integer", min_rows)
    if (manifest is None) != (input is None):
        raise ParameterError("manifest", "given together with --input (the file balance read)", str(manifest or ""))
    if ratio is not None:
        parse_group_numbers(ratio, "ratio")
    threshold, max_share = parse_confidence_limit(max_share_below_confidence) if max_share_below_confidence else (0.5, None)
    bounds = parse_bounds(kept_share or DEFAULT_KEPT_SHARE)
    inline = masks is None and kept_share is not None  # the masks are FILE itself: one pass (FILE may be stdin)

    tally, mask_tally = GroupTally(threshold), MaskTally()
    for row in read_valid(path, progress):
        tally.add(row)
        if inline:
            mask_tally.add(row, path)
    if masks is not None:
        for row in read_valid(masks, progress):
            mask_tally.add(row, masks)
    results = [CheckResult("rows", tally.rows >= min_rows, tally.rows, f">= {min_rows}", f"{tally.rows} rows in {path}")]
    if ratio is not None or max_share is not None or manifest is not None:
        tally.require_groups(path)
    if ratio is not None:
        results += check_ratio(tally, ratio, tolerance)
    if max_share is not None:
        share = tally.share_below()
        results.append(CheckResult(
            "confidence", share <= max_share, round(share, 4), f"<= {max_share:g}",
            f"{sum(tally.below.values())} of {sum(tally.scored.values())} rows below confidence {threshold:g}",
        ))
    if manifest is not None and input is not None:
        results += check_accounting(manifest, input, tally, progress)
    if masks is not None or inline:
        results += check_masks(mask_tally, bounds)
    return CheckReport(results)
