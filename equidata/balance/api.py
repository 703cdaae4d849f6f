"""``balance_file``: dedupe classified rows, pick each risk group's quota, mix in general data.

Every row read gets one fate in the manifest, decided in this order: ``rejected:<reason>`` (bad
row), ``low_confidence`` (below ``min_confidence``), ``duplicate_of:<line>`` (exact, then near
duplicate of the kept row on that line of the same file), then ``selected`` or ``over_quota``.
Groups left out of the ratio have a quota of 0. Selected rows are written in input order, the
safety rows first and then the general rows, which get ``risk_group: general``.

Memory is bounded: each input is read twice, once to keep a compact table of what selection needs
(:mod:`equidata.balance.rows`) and once to write the selected rows and the manifest; embeddings
are read from a ``.npy`` file a block at a time (:mod:`equidata.balance.vectors`).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from equidata.balance.dedup import exact_duplicates, near_duplicates
from equidata.balance.params import BalanceParams
from equidata.balance.quotas import Plan, plan
from equidata.balance.rows import GENERAL, IS_DUPLICATE, IS_LOW, IS_OVER, IS_SELECTED, Rows, readable, scan, texts, write_rows
from equidata.balance.select import by_confidence, select
from equidata.balance.vectors import EmbeddingFile, GroupRows, compute, lazy
from equidata.embedding import Embedder
from equidata.groups import RISK_GROUPS
from equidata.io import STDIN, ErrorPolicy, atomic_output, check_paths, rejects_file, sidecar_path


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


def _select_group(rows: Rows, group: str, n: int, strategy: str, seed: list[int], vectors: Callable[[], EmbeddingFile] | None) -> None:
    pos = rows.alive(group)
    keep = select(strategy, n, rows.confidence[pos], seed=seed, vectors=(lambda: GroupRows(vectors(), pos)) if vectors else None)
    rows.fate[pos] = IS_OVER
    rows.fate[pos[keep]] = IS_SELECTED


def _counts(rows: Rows, group: str, wanted: int) -> GroupCounts:
    fates = rows.count(group)
    c = GroupCounts(group, sum(fates.values()), fates.get(IS_LOW, 0), fates.get(IS_DUPLICATE, 0), wanted=wanted,
                    selected=fates.get(IS_SELECTED, 0), over_quota=fates.get(IS_OVER, 0))
    c.available = c.selected + c.over_quota
    return c


def _embeddings(rows: Rows, path: str | Path | None, weights: dict[str, int], embedder: Callable[[], Embedder], stack: ExitStack) -> Callable[[], EmbeddingFile]:
    """The stored embeddings file (checked now), or one computed on first use for the rows still in the running."""
    if path is not None:
        stored = EmbeddingFile(path, len(rows))
        return lambda: stored

    def make() -> EmbeddingFile:
        wanted = np.sort(np.concatenate([rows.alive(g) for g in weights]))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="equidata-balance-")))
        return compute(texts(rows, wanted), wanted, embedder(), folder / "embeddings.npy")

    return lazy(make)


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


def _shown(path: str | Path) -> str:
    """The input's name in messages and the manifest (not the name of a spooled copy)."""
    return "<stdin>" if str(path) == STDIN else str(path)


def balance_file(
    input: str | Path,
    output: str | Path = "-",
    params: BalanceParams | None = None,
    *,
    general: str | Path | None = None,
    embeddings: str | Path | None = None,
    model: str | None = None,
    head: str | Path | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    prompt_field: str | None = None,
    manifest: str | Path | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
) -> BalanceReport:
    """Balance classified rows by risk group (FDC), write them to ``output`` and a manifest of every row.

    ``params`` says what is kept (default: :class:`BalanceParams`'s defaults); ``general`` holds the
    general-domain rows to mix in. Near-dedup and ``diverse`` need embeddings: ``embeddings`` (a
    ``classify --keep-embeddings`` file), else computed with the encoder of the risk head ``head``
    (default: the shipped head, so the result equals the stored-embeddings path after a default
    ``classify``), or with ``model`` when given.
    """
    params = params or BalanceParams()
    params.check_general(general)
    weights = params.weights()
    manifest_path = Path(manifest) if manifest else sidecar_path(output, "manifest.jsonl", input, "manifest")
    rejects_path = rejects_file(on_error, rejects, output, input)
    check_paths({"input": input, "--general": general, "--embeddings": embeddings}, {"--output": output, "--manifest": manifest_path, "--rejects": rejects_path})
    with ExitStack() as stack:
        sink = stack.enter_context(atomic_output(rejects_path, skip_empty=True)) if rejects_path is not None else None
        policy = ErrorPolicy(on_error, str(input), sink)
        rows = scan(readable(input, stack), "input", policy, prompt_field, name=_shown(input))
        extra = scan(readable(general, stack), GENERAL, policy, prompt_field, name=_shown(general)) if general is not None else None
        vectors = _embeddings(rows, embeddings, weights, _lazy_embedder(model, head, device, batch_size), stack)
        _drop(rows, extra, params, weights, vectors)
        safety, general_wanted = _choose(rows, extra, params, weights, vectors)
        with atomic_output(output) as out, atomic_output(manifest_path) as man:
            written = sum(write_rows(part, out, man) for part in (rows, extra) if part is not None)

    groups = [_counts(rows, g, safety.wanted.get(g, 0)) for g in RISK_GROUPS]
    if extra is not None:
        groups.append(_counts(extra, GENERAL, general_wanted))
    origin = f"stored ({vectors().dim}-d)" if embeddings is not None else "computed"
    report = BalanceReport(
        groups, policy.counts.read, policy.counts.rejected, written, manifest_path, rejects_path if policy.counts.rejected else None,
        origin if params.dedup or params.strategy == "diverse" else "not needed",
    )
    report.check()
    return report


def _drop(rows: Rows, extra: Rows | None, params: BalanceParams, weights: dict[str, int], vectors: Callable[[], EmbeddingFile]) -> None:
    """Mark the rows below ``min_confidence``, then the exact duplicates, then (per risk group) the near duplicates."""
    if params.min_confidence is not None:
        low = rows.alive()
        rows.fate[low[rows.confidence[low] < params.min_confidence]] = IS_LOW
    if not params.dedup:
        return
    for part in (rows, extra):
        if part is not None:
            pos = part.alive()
            part.mark_duplicates(pos, exact_duplicates(part.key[pos], by_confidence(part.confidence[pos])))
    for k, group in enumerate(RISK_GROUPS):
        pos = rows.alive(group)
        if group in weights and len(pos) > 1:
            near = near_duplicates(GroupRows(vectors(), pos), by_confidence(rows.confidence[pos]), params.dedup_threshold, seed=params.seed + k)
            rows.mark_duplicates(pos, near)


def _choose(rows: Rows, extra: Rows | None, params: BalanceParams, weights: dict[str, int], vectors: Callable[[], EmbeddingFile]) -> tuple[Plan, int]:
    """Plan each group's quota (and the general rows'), select the rows; the safety plan and the general rows wanted."""
    safety = plan(weights, {g: len(rows.alive(g)) for g in weights}, total=params.wanted_total(), shortfall=params.shortfall)
    general_wanted = general_taken = 0
    if extra is not None:
        available = len(extra.alive())
        per = params.general_per()
        if per is not None:
            safety, general_wanted, general_taken = _general_plan(per, safety, weights, available, params.shortfall)
        else:
            general_wanted = params.general_total or 0
            general_taken = min(general_wanted, available)
    for k, group in enumerate(RISK_GROUPS):
        _select_group(rows, group, safety.taken.get(group, 0), params.strategy, [params.seed, k], vectors if params.strategy == "diverse" else None)
    if extra is not None:
        _select_group(extra, GENERAL, general_taken, "random", [params.seed, len(RISK_GROUPS)], None)
    return safety, general_wanted


def _lazy_embedder(model: str | None, head: str | Path | None, device: str, batch_size: int | None) -> Callable[[], Embedder]:
    """Build the embedder on first use only (no model load when stored embeddings are given).

    ``model`` names a plain embedding model; without it, the encoder of the risk head (fine-tuned or
    not) that ``classify`` uses.
    """

    def make() -> Embedder:
        from equidata.classifier.predict import load_encoder  # torch, and only when embeddings are computed

        return Embedder(model, device=device, batch_size=batch_size) if model else load_encoder(head, device=device, batch_size=batch_size)

    return lazy(make)
