"""The annotate-masks step: score pairs, then turn values into per-token weights.

It runs as two batch transforms over :func:`equidata.engines.local.run_chunked`:
:class:`ScoreStep` (pairs → segment and token values) and :class:`MaskStep` (values → weights).
With a ``zero`` or fixed baseline they are composed into one pass; ``mean`` needs the dataset's
mean token value first, so the scored rows go to a temporary file and a second pass masks them.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from equidata import __version__
from equidata.ama.align import Aligner
from equidata.ama.scorers import Item, Scorer
from equidata.ama.segments import split_segments
from equidata.ama.weights import DECIMALS, SIDES, Baseline, MaskRule
from equidata.engines.base import SchemaStep, Step
from equidata.engines.local import DEFAULT_CHUNK_SIZE, Progress, run_chunked
from equidata.errors import EquidataWarning, ParameterError
from equidata.io import RecordSource, Reject, Row, RunCounts, check_paths, encode_line, rejects_file
from equidata.schemas import FieldProblem, extract_pair

_PRIVATE = "_ama_response_tokens"  # per side, which completion tokens are response text (temporary field)
#: Above this share of kept response tokens on both sides, the weights barely change the DPO loss.
NEARLY_ALL_ONES = 0.95
#: The scorers that value what a response says rather than how its text differs from the other one.
SIGNAL_SCORERS = {"reward-model": "--scorer reward-model --reward-model MODEL", "judge": "--scorer judge", "field": "--scorer field --values-field F (your own values)"}


def _round(values: list[float]) -> list[float]:
    return [round(float(v), DECIMALS) + 0.0 for v in values]


class ScoreStep(SchemaStep):
    """Batch transform: extract and check pairs, align tokens, score, add value fields."""

    def __init__(self, aligner: Aligner, scorer: Scorer, *, prompt_field: str | None = None, prefer: str = "safer", source: str | None = None) -> None:
        self.aligner, self.scorer = aligner, scorer
        self.prompt_field, self.prefer, self.source = prompt_field, prefer, source

    def _item(self, row: Row) -> Item:
        pair = extract_pair(self.schema, row.data, self.prefer)  # type: ignore[arg-type]
        if not pair.has_responses:
            raise FieldProblem("chosen", "no chosen/rejected responses to annotate")
        for side, text in (("chosen", pair.chosen), ("rejected", pair.rejected)):
            if not text or not text.strip():
                raise FieldProblem(side, "empty response")
        if pair.chosen == pair.rejected:
            raise FieldProblem("rejected", "chosen and rejected responses are identical")
        segments = {side: split_segments(text) for side, text in (("chosen", pair.chosen), ("rejected", pair.rejected))}
        return Item(row, pair, segments, {})

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        self.detect(rows)
        out: list[dict[str, Any] | Reject] = []
        items, where = [], []
        for row in rows:
            try:
                item = self._item(row)
                if self.aligner.mode == "chat-template":
                    c, r = self.aligner.align_chat(item.pair.messages, item.pair.chosen, item.pair.rejected)  # type: ignore[arg-type]
                    item.completions = {"chosen": c, "rejected": r}
            except FieldProblem as p:
                out.append(Reject.of(row, p.reason, p.field))
                continue
            if isinstance(unwritable := encode_line(row, row.data), Reject):  # its output line could not be written: reject it before scoring (and the mean baseline)
                out.append(unwritable)
                continue
            where.append(len(out))
            out.append(row.data)
            items.append(item)
        if self.aligner.mode == "plain" and items:
            comps = self.aligner.align_plain([item.text(side) for item in items for side in SIDES])
            for k, item in enumerate(items):
                item.completions = {"chosen": comps[2 * k], "rejected": comps[2 * k + 1]}
        for pos, item, scored in zip(where, items, self.scorer.score(items)):
            if isinstance(scored, FieldProblem):
                out[pos] = Reject.of(item.row, scored.reason, scored.field)
                continue
            fields: dict[str, Any] = {}
            for side in SIDES:
                v = scored[side]
                fields[f"{side}_segments"] = [{"start": s, "end": e, "value": round(x, DECIMALS) + 0.0} for (s, e), x in zip(v.segments, v.segment_values)]
            for side in SIDES:
                fields[f"{side}_token_ids"] = item.completions[side].ids
            for side in SIDES:
                fields[f"{side}_token_reward"] = _round(scored[side].token_values)
            fields[_PRIVATE] = {side: [s is not None for s in item.completions[side].spans] for side in SIDES}
            out[pos] = {**item.row.data, **fields}
        return out


@dataclass
class MaskStats:
    """Running totals for the summary: kept response tokens per side, fallbacks, segment values."""

    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    kept: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    fallbacks: int = 0
    values: list[float] = field(default_factory=list)

    def kept_share(self, side: str) -> float:
        return self.kept[side] / self.tokens[side] if self.tokens[side] else 0.0


class MaskStep(Step):
    """Batch transform over scored rows: weights by the mask rule, the guard, and the ``ama`` record."""

    def __init__(self, rule: MaskRule, meta: dict[str, Any]) -> None:
        self.rule, self.meta = rule, meta
        self.stats = MaskStats()

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        """Weights for one scored row; kept-token counts are taken after the guard (what a trainer sees)."""
        out = dict(data)
        response = out.pop(_PRIVATE)
        values = {side: out.pop(f"{side}_token_reward") for side in SIDES}
        fallback = False
        for side in SIDES:
            is_resp = response[side]
            kept = sum(1 for v, r in zip(values[side], is_resp) if r and self.rule.kept(v, side))
            n_resp = sum(is_resp)
            self.stats.tokens[side] += n_resp
            if kept == 0:
                fallback = True
                self.stats.kept[side] += n_resp
                out[f"{side}_token_weights"] = [1.0] * len(values[side])
            else:
                self.stats.kept[side] += kept
                out[f"{side}_token_weights"] = [self.rule.weight(v, side) for v in values[side]]
            for seg in out[f"{side}_segments"]:
                seg["weight"] = 1.0 if kept == 0 else self.rule.weight(seg["value"], side)
                self.stats.values.append(seg["value"])
        self.stats.fallbacks += fallback
        for side in SIDES:
            out[f"{side}_token_reward"] = values[side]
        out["ama_fallback"] = fallback
        out["ama"] = self.meta
        return out

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        return [self.apply(row.data) for row in rows]


@dataclass
class AnnotateResult:
    """Row accounting plus the mask summary."""

    counts: RunCounts
    stats: MaskStats
    baseline: float
    scorer: str = "contrast"

    def nearly_all_ones(self) -> str | None:
        """A warning when both sides keep more than :data:`NEARLY_ALL_ONES` of their tokens, else None."""
        shares = {side: self.stats.kept_share(side) for side in SIDES}
        if not self.counts.written or min(shares.values()) <= NEARLY_ALL_ONES:
            return None
        others = "; ".join(flag for name, flag in SIGNAL_SCORERS.items() if name != self.scorer)
        return (
            f"the mask is nearly all ones ({shares['chosen']:.1%} of chosen and {shares['rejected']:.1%} of rejected tokens kept), "
            f"so AMA will act like plain DPO; for a real signal use {others}"
        )

    def histogram(self, bins: int = 10) -> list[tuple[float, float, int]]:
        """Histogram of segment values: (low, high, count) per bin."""
        if not self.stats.values:
            return []
        counts, edges = np.histogram(np.asarray(self.stats.values), bins=bins)
        return [(float(lo), float(hi), int(c)) for lo, hi, c in zip(edges, edges[1:], counts)]


class AnnotateStep(Step):
    """Score then mask in one batch transform; resumable through the local engine's checkpoint.

    Its identity is the ``ama`` record (tokenizer and template hashes, scorer, baseline, weights)
    plus the pair settings. Its checkpointed state is the schema and the kept-token counts; the
    segment-value histogram after a resume covers only the rows processed since.
    """

    def __init__(self, score: ScoreStep, mask: MaskStep) -> None:
        self.score, self.mask = score, mask

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        return [r if isinstance(r, Reject) else self.mask.apply(r) for r in self.score(rows)]

    def fingerprint(self) -> dict[str, Any]:
        return {"ama": self.mask.meta, "prompt_field": self.score.prompt_field, "prefer": self.score.prefer}

    def state(self) -> dict[str, Any]:
        stats = self.mask.stats
        return {"schema": self.score.schema_state(), "tokens": stats.tokens, "kept": stats.kept, "fallbacks": stats.fallbacks}

    def restore(self, state: dict[str, Any]) -> None:
        self.score.restore_schema(state["schema"])
        self.mask.stats = MaskStats(dict(state["tokens"]), dict(state["kept"]), state["fallbacks"])


def annotate_file(
    input: str | Path,
    output: str | Path,
    *,
    aligner: Aligner,
    scorer: Scorer,
    baseline: Baseline | str = "zero",
    weights: str = "binary",
    temperature: float = 0.1,
    prompt_field: str | None = None,
    prefer: str = "safer",
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    resume: bool = False,
) -> AnnotateResult:
    """Add AMA segments, token weights and token values to every pair of ``input``.

    ``resume`` continues an interrupted run (fixed baselines only: ``mean`` needs two passes).
    """
    baseline = baseline if isinstance(baseline, Baseline) else Baseline.parse(baseline)
    if resume and baseline.kind == "mean":
        raise ParameterError("resume", "used with a fixed baseline (zero or a number); --baseline mean scores the data in two passes", "mean")
    MaskRule(0.0, weights, temperature)  # validate before any work
    source = RecordSource.open(input)
    rejects = rejects_file(on_error, rejects, output, source.path)  # next to the output, also for the two-pass mean
    check_paths({"input": input}, {"--output": output, "--rejects": rejects})
    score = ScoreStep(aligner, scorer, prompt_field=prompt_field, prefer=prefer, source=source.name)
    kwargs: dict[str, Any] = {"on_error": on_error, "rejects": rejects, "chunk_size": chunk_size}

    def meta(value: float) -> dict[str, Any]:
        return {
            **aligner.metadata(), "scorer": scorer.name, "scorer_source": scorer.describe(), "baseline": baseline.kind,
            "baseline_value": round(value, DECIMALS) + 0.0, "weights": weights, "temperature": temperature if weights == "soft" else None,
            "equidata_version": __version__,
        }

    if baseline.kind != "mean":
        step = AnnotateStep(score, MaskStep(MaskRule(baseline.value, weights, temperature), meta(baseline.value)))
        counts = run_chunked(source, step, output, progress=progress, resume=resume, **kwargs)
        return _warned(AnnotateResult(counts, step.mask.stats, baseline.value, scorer.name))

    with tempfile.TemporaryDirectory(prefix="equidata-ama-") as tmp:
        scored, summed = Path(tmp) / "scored.jsonl", _Summed(score)
        counts = run_chunked(source, summed, scored, progress=progress, **kwargs)
        mask = MaskStep(MaskRule(summed.mean, weights, temperature), meta(summed.mean))
        second = run_chunked(RecordSource.open(scored), mask, output, chunk_size=chunk_size)
    assert second.written == counts.written
    return _warned(AnnotateResult(counts, mask.stats, summed.mean, scorer.name))


class _Summed(Step):
    """The score step, also summing the response token values it writes: the first pass of ``--baseline mean``."""

    def __init__(self, score: ScoreStep) -> None:
        self.score, self.total, self.n = score, 0.0, 0

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        out = self.score(rows)
        for r in out:
            if not isinstance(r, Reject):
                for side in SIDES:
                    vals = [v for v, resp in zip(r[f"{side}_token_reward"], r[_PRIVATE][side]) if resp]
                    self.total += sum(vals)
                    self.n += len(vals)
        return out

    @property
    def mean(self) -> float:
        """The mean response token value so far (0 with none)."""
        return self.total / self.n if self.n else 0.0


def _warned(result: AnnotateResult) -> AnnotateResult:
    """Issue the :meth:`AnnotateResult.nearly_all_ones` warning, if any (the CLI prints it on stderr)."""
    message = result.nearly_all_ones()
    if message:
        warnings.warn(message, EquidataWarning, stacklevel=3)
    return result
