"""``balance_file``: dedupe classified rows, pick each risk group's quota, mix in general data.

Every row read gets one fate in the manifest, decided in this order: ``rejected:<reason>`` (bad
row), ``low_confidence`` (below ``min_confidence``), ``duplicate_of:<line>`` (exact, then near
duplicate of the kept row on that line of the same file), then ``selected`` or ``over_quota``.
Groups left out of the ratio have a quota of 0. Selected rows are written in input order, the
safety rows first and then the general rows, which get ``risk_group: general``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import numpy as np

from equidata.balance.dedup import exact_duplicates, near_duplicates
from equidata.balance.quotas import DEFAULT_RATIO, SHORTFALL, Plan, integer_weights, parse_group_numbers, parse_pair_ratio, plan
from equidata.balance.select import STRATEGIES, by_confidence, select
from equidata.classifier.predict import RiskClassifier
from equidata.classifier.train import normalise_text
from equidata.embedding import Embedder
from equidata.errors import InputError, ParameterError
from equidata.groups import RISK_GROUPS
from equidata.io import ErrorPolicy, RecordSource, Reject, Row, atomic_output, dumps_line, sidecar_path
from equidata.schemas import FieldProblem, Schema, detect_schema

GENERAL = "general"
SELECTED, OVER_QUOTA, LOW_CONFIDENCE = "selected", "over_quota", "low_confidence"


@dataclass
class GroupCounts:
    """One summary line: ``rows = low_confidence + duplicates + selected + over_quota``."""

    group: str
    rows: int = 0
    low_confidence: int = 0
    duplicates: int = 0
    available: int = 0
    wanted: int = 0
    selected: int = 0
    over_quota: int = 0


@dataclass
class BalanceReport:
    """Per-group accounting; the group rows plus the rejected rows add up to the rows read."""

    groups: list[GroupCounts]
    read: int
    rejected: int
    written: int
    manifest_path: Path
    rejects_path: Path | None = None
    embeddings: str = "none"

    def check(self) -> None:
        total = sum(g.rows for g in self.groups) + self.rejected
        parts = [g.low_confidence + g.duplicates + g.selected + g.over_quota == g.rows for g in self.groups]
        if total != self.read or not all(parts) or self.written != sum(g.selected for g in self.groups):
            raise AssertionError(f"row accounting broke: {self}")


@dataclass
class _Rows:
    """Every record of one input file: manifest fields for all, data and scores for the valid ones."""

    label: str
    name: str
    unit: str = "line"
    lines: list[int] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    groups: list[str | None] = field(default_factory=list)
    fates: list[str | None] = field(default_factory=list)
    encoded: list[bytes | None] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def alive(self, group: str | None = None) -> np.ndarray:
        """Positions of rows with no fate yet (optionally only of ``group``)."""
        return np.array([i for i, (f, g) in enumerate(zip(self.fates, self.groups)) if f is None and (group is None or g == group)], dtype=np.int64)


def _risk(data: dict[str, Any]) -> tuple[str, float]:
    group = data.get("risk_group")
    if group not in RISK_GROUPS:
        why = "missing; is this `equidata classify` output?" if group is None else f"expected one of {list(RISK_GROUPS)}, got {group!r}"
        raise FieldProblem("risk_group", why)
    conf = data.get("risk_confidence")
    if conf is None and isinstance(data.get("risk_scores"), dict):
        conf = data["risk_scores"].get(group)
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.0 <= conf <= 1.0:
        raise FieldProblem("risk_confidence", f"expected a number in [0, 1], got {conf!r}")
    return group, float(conf)


def _dedup_key(schema: Schema, data: dict[str, Any]) -> tuple[str, str]:
    """(text, key): the prompt that was classified, and the normalised prompt conversation."""
    prompt = schema.prompt(data)
    turns = [[m["role"], normalise_text(m["content"])] for m in prompt.context]
    return prompt.classified_text(), json.dumps([turns, normalise_text(prompt.text)], ensure_ascii=False)


def _read(path: str | Path, label: str, policy: ErrorPolicy, sink: IO[bytes] | None, prompt_field: str | None) -> _Rows:
    source = RecordSource.open(path)
    policy.source = source.name
    rows = _Rows(label, source.name, source.unit)
    schema: Schema | None = None

    def reject(rej: Reject) -> None:
        policy.reject(rej)
        if sink is not None:
            sink.write(dumps_line({"source": label, **rej.to_json()}))
        rows.fates.append(f"rejected:{rej.reason}")
        rows.groups.append(None)
        rows.encoded.append(None)
        rows.confidence.append(math.nan)
        rows.keys.append("")
        rows.texts.append("")

    for rec in source:
        policy.counts.read += 1
        rows.lines.append(rec.line)
        rows.ids.append(rec.data.get("id") if isinstance(rec, Row) else None)
        if isinstance(rec, Reject):
            reject(rec)
            continue
        schema = schema or detect_schema(rec.data, prompt_field, source=source.name)
        try:
            text, key = _dedup_key(schema, rec.data)
            group, conf = (GENERAL, 1.0) if label == GENERAL else _risk(rec.data)
        except FieldProblem as p:
            reject(Reject.of(rec, p.reason, p.field))
            continue
        data = {**rec.data, "risk_group": GENERAL} if label == GENERAL else rec.data
        rows.fates.append(None)
        rows.groups.append(group)
        rows.encoded.append(dumps_line(data))
        rows.confidence.append(conf)
        rows.keys.append(key)
        rows.texts.append(text)
    return rows


class _Embeddings:
    """Unit float32 embeddings of input rows: from a ``classify --keep-embeddings`` file or computed."""

    def __init__(self, rows: _Rows, path: str | Path | None, embedder: Callable[[], Embedder]) -> None:
        self.rows, self.embedder, self.stored = rows, embedder, None
        if path is not None:
            try:
                stored = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise InputError(f"not a readable .npy embeddings file: {exc}", path=str(path)) from exc
            n = len(rows.lines)
            if stored.ndim != 2 or stored.shape[1] < 1 or not np.issubdtype(stored.dtype, np.floating):
                raise InputError(f"expected a 2-D float array of embeddings, got shape {stored.shape} and dtype {stored.dtype}", path=str(path))
            if stored.shape[0] != n:
                raise InputError(
                    f"holds {stored.shape[0]} embeddings but the input has {n} rows; pass the file written by the "
                    "`classify --keep-embeddings` run that produced this input", path=str(path),
                )
            self.stored = stored

    @property
    def origin(self) -> str:
        return f"stored ({self.stored.shape[1]}-d)" if self.stored is not None else "computed"

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        if self.stored is not None:
            x = np.asarray(self.stored[positions], dtype=np.float32)  # rows of classify output = rows read here
        else:
            x = self.embedder().encode([self.rows.texts[i] for i in positions.tolist()])
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _mark_duplicates(rows: _Rows, positions: np.ndarray, dup_of: np.ndarray) -> None:
    for pos, rep in zip(positions.tolist(), dup_of.tolist()):
        if rep >= 0:
            rows.fates[pos] = f"duplicate_of:{rows.lines[positions[rep]]}"


def _select_group(rows: _Rows, group: str, n: int, strategy: str, seed: list[int], vectors: Callable[[np.ndarray], np.ndarray] | None) -> None:
    pos = rows.alive(group)
    conf = np.asarray([rows.confidence[i] for i in pos.tolist()])
    keep = select(strategy, n, conf, seed=seed, vectors=(lambda: vectors(pos)) if vectors else None)  # type: ignore[misc]
    chosen = set(pos[keep].tolist())
    for i in pos.tolist():
        rows.fates[i] = SELECTED if i in chosen else OVER_QUOTA


def _counts(rows: _Rows, group: str, wanted: int) -> GroupCounts:
    fates = Counter(f.split(":", 1)[0] for f, g in zip(rows.fates, rows.groups) if g == group)
    c = GroupCounts(group, sum(fates.values()), fates[LOW_CONFIDENCE], fates["duplicate_of"], wanted=wanted, selected=fates[SELECTED], over_quota=fates[OVER_QUOTA])
    c.available = c.selected + c.over_quota
    return c


def _general_plan(per: Fraction, safety: Plan, weights: dict[str, int], available: int, shortfall: str) -> tuple[Plan, int, int]:
    """Safety plan (shrunk under ``scale`` when general rows run short), general wanted and taken."""
    size = sum(safety.taken.values())
    wanted = math.floor(size * per)
    if wanted <= available:
        return safety, wanted, wanted
    if shortfall == "fill":
        return safety, wanted, available
    fitting = math.floor((available + 1) / per)
    while math.floor(fitting * per) > available:
        fitting -= 1
    shrunk = plan(weights, safety.available, total=min(size, fitting), shortfall="scale")
    return Plan(safety.wanted, safety.available, shrunk.taken), wanted, math.floor(sum(shrunk.taken.values()) * per)


def _check(name: str, value: float | None, lo: float, hi: float, must: str) -> None:
    if value is not None and not lo <= value <= hi:
        raise ParameterError(name, must, value)


def balance_file(
    input: str | Path,
    output: str | Path = "-",
    *,
    ratio: str | None = None,
    per_group: str | None = None,
    total: int | None = None,
    shortfall: str = "scale",
    general: str | Path | None = None,
    general_ratio: str | None = None,
    general_total: int | None = None,
    strategy: str = "diverse",
    min_confidence: float | None = None,
    dedup: bool = True,
    dedup_threshold: float = 0.95,
    embeddings: str | Path | None = None,
    model: str | None = None,
    head: str | Path | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    prompt_field: str | None = None,
    seed: int = 0,
    manifest: str | Path | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
) -> BalanceReport:
    """Balance classified rows by risk group (FDC), write them to ``output`` and a manifest of every row.

    Near-dedup and ``diverse`` need embeddings: ``embeddings`` (a ``classify --keep-embeddings``
    file), else computed with the encoder of the risk head ``head`` (default: the shipped head, so
    the result equals the stored-embeddings path after a default ``classify``), or with ``model``
    when given.
    """
    if per_group is not None and (ratio is not None or total is not None):
        raise ParameterError("per_group", "used without --ratio and --total (it sets both)", per_group)
    if general is not None and (general_ratio is None) == (general_total is None):
        raise ParameterError("general_ratio", "given, or --general-total instead (exactly one), with --general", general_ratio)
    if general is None and (general_ratio is not None or general_total is not None):
        raise ParameterError("general", "a file when --general-ratio or --general-total is given", general)
    _check("total", total, 0, math.inf, "a non-negative integer")
    _check("general_total", general_total, 0, math.inf, "a non-negative integer")
    _check("min_confidence", min_confidence, 0.0, 1.0, "a number in [0, 1]")
    _check("dedup_threshold", dedup_threshold, 1e-9, 1.0, "a cosine similarity in (0, 1]")
    if strategy not in STRATEGIES:
        raise ParameterError("strategy", f"one of {list(STRATEGIES)}", strategy)
    if shortfall not in SHORTFALL:
        raise ParameterError("shortfall", f"one of {list(SHORTFALL)}", shortfall)
    quotas = parse_group_numbers(per_group, "per_group", integer=True) if per_group else parse_group_numbers(ratio or DEFAULT_RATIO, "ratio")
    weights = integer_weights(quotas)
    if per_group:
        total = sum(int(q) for q in quotas.values())
    per = parse_pair_ratio(general_ratio) if general_ratio is not None else None

    manifest_path = Path(manifest) if manifest else sidecar_path(output, "manifest.jsonl", input)
    with ExitStack() as stack:
        sink, rejects_path = None, None
        if on_error == "skip":
            rejects_path = Path(rejects) if rejects else sidecar_path(output, "rejects.jsonl", input)
            sink = stack.enter_context(atomic_output(rejects_path))
        policy = ErrorPolicy(on_error, str(input))
        rows = _read(input, "input", policy, sink, prompt_field)
        extra = _read(general, GENERAL, policy, sink, prompt_field) if general is not None else None

        vectors = _Embeddings(rows, embeddings, _lazy_embedder(model, head, device, batch_size))
        conf = np.asarray(rows.confidence)
        if min_confidence is not None:
            for i in rows.alive().tolist():
                if conf[i] < min_confidence:
                    rows.fates[i] = LOW_CONFIDENCE
        for part in (rows, extra) if dedup else ():
            if part is not None:
                pos = part.alive()
                order = by_confidence(np.asarray([part.confidence[i] for i in pos.tolist()]))
                _mark_duplicates(part, pos, exact_duplicates([part.keys[i] for i in pos.tolist()], order))
        if dedup:
            for k, group in enumerate(RISK_GROUPS):
                pos = rows.alive(group)
                if group in weights and len(pos) > 1:
                    near = near_duplicates(vectors(pos), by_confidence(conf[pos]), dedup_threshold, seed=seed + k)
                    _mark_duplicates(rows, pos, near)

        safety = plan(weights, {g: len(rows.alive(g)) for g in weights}, total=total, shortfall=shortfall)
        general_wanted = general_taken = 0
        if extra is not None:
            available = len(extra.alive())
            if per is not None:
                safety, general_wanted, general_taken = _general_plan(per, safety, weights, available, shortfall)
            else:
                general_wanted = general_total or 0
                general_taken = min(general_wanted, available)
        for k, group in enumerate(RISK_GROUPS):
            _select_group(rows, group, safety.taken.get(group, 0), strategy, [seed, k], vectors if strategy == "diverse" else None)
        if extra is not None:
            _select_group(extra, GENERAL, general_taken, "random", [seed, len(RISK_GROUPS)], None)

        parts = [p for p in (rows, extra) if p is not None]
        with atomic_output(output) as out:
            written = 0
            for part in parts:
                for fate, line in zip(part.fates, part.encoded):
                    if fate == SELECTED:
                        out.write(line)  # type: ignore[arg-type]
                        written += 1
        with atomic_output(manifest_path) as man:
            for part in parts:
                for line, id_, group, fate in zip(part.lines, part.ids, part.groups, part.fates):
                    man.write(dumps_line({"source": part.label, part.unit: line, "id": id_, "risk_group": group, "fate": fate}))

    groups = [_counts(rows, g, safety.wanted.get(g, 0)) for g in RISK_GROUPS]
    if extra is not None:
        groups.append(_counts(extra, GENERAL, general_wanted))
    report = BalanceReport(groups, policy.counts.read, policy.counts.rejected, written, manifest_path, rejects_path, vectors.origin if dedup or strategy == "diverse" else "not needed")
    report.check()
    return report


def _lazy_embedder(model: str | None, head: str | Path | None, device: str, batch_size: int | None) -> Callable[[], Embedder]:
    """Build the embedder on first use only (no model load when stored embeddings are given).

    ``model`` names a plain embedding model; without it, the encoder of the risk head (fine-tuned or
    not) that ``classify`` uses.
    """
    cache: list[Embedder] = []

    def get() -> Embedder:
        if not cache:
            if model:
                cache.append(Embedder(model, device=device, batch_size=batch_size))
            else:
                cache.append(RiskClassifier(head, device=device, batch_size=batch_size).embedder)
        return cache[0]

    return get
