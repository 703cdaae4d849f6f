"""Streaming tallies and samples of classified, balanced and masked files, for ``check``, ``report`` and ``show``.

Each tally takes one row at a time and keeps state whose size depends on the number of groups
and histogram bins, never on the number of rows, so both commands read any input in bounded memory.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from equidata.ama.weights import SIDES
from equidata.engines.local import Progress
from equidata.errors import InputError
from equidata.groups import RISK_GROUPS
from equidata.io import ErrorPolicy, RecordSource, Row

GROUP_FIELD, CONFIDENCE_FIELD = "risk_group", "risk_confidence"
BINS = 20  # histogram bins over [0, 1]
PROGRESS_EVERY = 1024  # rows between progress callbacks (finer than an engine chunk)
FATES = ("selected", "duplicate", "over_quota", "low_confidence", "rejected")


def read_valid(path: str | Path, progress: Progress | None = None) -> Iterator[Row]:
    """The rows of ``path``; a record that cannot be parsed is an input error naming file and line."""
    source = RecordSource.open(path)
    pending = 0
    for rec in ErrorPolicy("fail", source.name).rows(source):
        yield rec
        pending += 1
        if progress and pending == PROGRESS_EVERY:
            progress(pending)
            pending = 0
    if progress and pending:
        progress(pending)


class Reservoir:
    """A uniform sample of at most ``size`` items from a stream of unknown length (Algorithm R, seeded)."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seen, self.items = size, 0, []
        self._rng = random.Random(seed)

    def add(self, item: Any) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
            return
        j = self._rng.randrange(self.seen)
        if j < self.size:
            self.items[j] = item


def field_error(path: str | Path, row: Row, name: str, reason: str) -> InputError:
    """An input error for ``row`` of ``path`` at field ``name``."""
    return InputError(reason, path=str(path), line=row.line, unit=row.unit, field=name)


def ordered_groups(names: Any) -> list[str]:
    """The four risk groups in their fixed order, then any other group (e.g. ``general``) sorted."""
    names = set(names)
    return [g for g in RISK_GROUPS if g in names] + sorted(names - set(RISK_GROUPS))


def _bin(value: float) -> int:
    return min(max(int(value * BINS), 0), BINS - 1)


def confidence_of(data: dict[str, Any]) -> float | None:
    """The row's ``risk_confidence`` when it is a number in [0, 1], else None."""
    value = data.get(CONFIDENCE_FIELD)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    return None


@dataclass
class GroupTally:
    """Rows per group, and per group a confidence histogram and the rows below ``threshold``."""

    threshold: float = 0.5
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    scored: Counter[str] = field(default_factory=Counter)
    below: Counter[str] = field(default_factory=Counter)
    hist: dict[str, list[int]] = field(default_factory=dict)
    ungrouped: Row | None = None  # the first row without a group, for the error message

    def add(self, row: Row) -> None:
        self.rows += 1
        group = row.data.get(GROUP_FIELD)
        if not isinstance(group, str):
            self.ungrouped = self.ungrouped or row
            return
        self.counts[group] += 1
        conf = confidence_of(row.data)
        if conf is None:
            return
        self.scored[group] += 1
        self.below[group] += conf < self.threshold
        self.hist.setdefault(group, [0] * BINS)[_bin(conf)] += 1

    def require_groups(self, path: str | Path) -> None:
        """Raise when some row had no group (the file is not classified output)."""
        if self.ungrouped is not None:
            raise field_error(path, self.ungrouped, GROUP_FIELD, f"missing; is this `equidata classify` output? fields found: {sorted(self.ungrouped.data)}")

    def groups(self) -> list[str]:
        return ordered_groups(self.counts)

    def risk_shares(self) -> dict[str, float]:
        """Share of each risk group among the rows of the four risk groups (``general`` rows left out)."""
        n = sum(self.counts[g] for g in RISK_GROUPS)
        return {g: self.counts[g] / n if n else 0.0 for g in RISK_GROUPS}

    def share_below(self) -> float:
        """Share of rows with a confidence that lie below the threshold."""
        n = sum(self.scored.values())
        return sum(self.below.values()) / n if n else 0.0


@dataclass
class MaskTally:
    """AMA masks per side: response tokens, kept weight, a histogram of each row's kept share."""

    rows: int = 0
    fallbacks: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    kept: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SIDES, 0.0))
    hist: dict[str, list[int]] = field(default_factory=lambda: {s: [0] * BINS for s in SIDES})

    def add(self, row: Row, path: str | Path) -> dict[str, float]:
        """Tally one ``annotate-masks`` row; returns its kept share per side."""
        shares = {}
        for side in SIDES:
            name = f"{side}_token_weights"
            weights = row.data.get(name)
            if not isinstance(weights, list) or not all(isinstance(w, (int, float)) for w in weights):
                raise field_error(path, row, name, "missing or not a list of numbers; is this `equidata annotate-masks` output?")
            kept = float(sum(weights))
            self.tokens[side] += len(weights)
            self.kept[side] += kept
            shares[side] = kept / len(weights) if weights else 0.0
            self.hist[side][_bin(shares[side])] += 1
        self.rows += 1
        self.fallbacks += bool(row.data.get("ama_fallback"))
        return shares

    def kept_share(self, side: str) -> float:
        """Kept weight over all tokens of ``side`` (the mean weight a trainer applies)."""
        return self.kept[side] / self.tokens[side] if self.tokens[side] else 0.0


def fate_kind(fate: str) -> str:
    """``duplicate_of:12`` -> ``duplicate``, ``rejected:malformed JSON`` -> ``rejected``."""
    kind = fate.split(":", 1)[0]
    return "duplicate" if kind == "duplicate_of" else kind


@dataclass
class ManifestTally:
    """Fates of the rows ``balance`` read, per source file and group."""

    fates: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (source, group, fate kind)

    def add(self, row: Row, path: str | Path) -> None:
        fate = row.data.get("fate")
        if not isinstance(fate, str):
            raise field_error(path, row, "fate", "missing; is this a `balance` manifest?")
        group = row.data.get(GROUP_FIELD)
        self.fates[(str(row.data.get("source", "input")), group if isinstance(group, str) else "(none)", fate_kind(fate))] += 1

    def by_group(self) -> dict[str, Counter[str]]:
        """Fate counts per group, all sources together."""
        out: dict[str, Counter[str]] = {}
        for (_, group, kind), n in self.fates.items():
            out.setdefault(group, Counter())[kind] += n
        return {g: out[g] for g in ordered_groups(out)}

    def selected(self) -> Counter[str]:
        return Counter({g: c["selected"] for g, c in self.by_group().items() if c["selected"]})
