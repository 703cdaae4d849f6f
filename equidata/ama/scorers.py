"""Scorers: give every segment (or token) of a pair's responses a value v.

- :class:`ContrastScorer` (default, offline): a segment also found in the other response gets 0;
  "found" means the same text once case, punctuation and spacing are normalised (or, with
  ``shared_threshold`` below 1, near-identical characters: difflib ratio >= the threshold), never
  merely close in meaning, so "No, there are not." and "Yes, there are." are not shared. A chosen
  segment unique to the chosen response gets ``1 - s``, a rejected one unique to the rejected
  response ``-(1 - s)``, where s is its highest cosine similarity to a segment of the other
  response, clipped to [0, 1].
- :class:`RewardModelScorer`: segment k gets r(prompt, response[:end_k]) - r(prompt, response[:end_{k-1}])
  under a Hugging Face sequence-classification reward model (one output), r(prompt, "") for k = 0.
- :class:`FieldScorer`: values computed elsewhere, read from ``chosen_<F>`` / ``rejected_<F>``.
- :class:`JudgeScorer`: an LLM judge rates each segment of a response, in its conversation, for harm
  and helpfulness in [-1, 1] (the rating prompt is :data:`equidata.judge.prompts.RATE_SYSTEM`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from equidata.ama.align import Completion
from equidata.ama.weights import SIDES, segment_means, token_values
from equidata.embedding import Embedder, default_batch_size, resolve_device
from equidata.errors import EquidataError, ParameterError
from equidata.io import Row
from equidata.schemas import FieldProblem, Pair
from equidata.text import normalise_segment

if TYPE_CHECKING:
    from equidata.judge.client import JudgeClient, JudgeConfig

#: Scorers :func:`build_scorer` builds, by name.
SCORERS = ("contrast", "reward-model", "field", "judge")
#: 1.0: a segment is shared only when its normalised text equals one of the other response's.
DEFAULT_SHARED_THRESHOLD = 1.0


@dataclass
class Item:
    """One pair ready to score: its row, the pair, and per side the segments and completion tokens."""

    row: Row
    pair: Pair
    segments: dict[str, list[tuple[int, int]]]
    completions: dict[str, Completion]

    def text(self, side: str) -> str:
        return self.pair.chosen if side == "chosen" else self.pair.rejected  # type: ignore[return-value]


@dataclass
class SideValues:
    """Values of one response: per segment and per completion token."""

    segments: list[tuple[int, int]]
    segment_values: list[float]
    token_values: list[float]


def from_segments(item: Item, side: str, values: list[float]) -> SideValues:
    segs = item.segments[side]
    return SideValues(segs, values, token_values(item.completions[side].spans, segs, values))


class Scorer(Protocol):
    name: str

    def describe(self) -> str | None: ...

    def score(self, items: list[Item]) -> list[dict[str, SideValues] | FieldProblem]: ...


def same_text(a: str, b: str, threshold: float = DEFAULT_SHARED_THRESHOLD) -> bool:
    """Whether two normalised segments are the same text: equal, or (``threshold`` < 1) a difflib ratio >= it."""
    if a == b:
        return True
    if threshold >= 1.0 or not a or not b:
        return False
    m = SequenceMatcher(None, a, b, autojunk=False)
    return m.real_quick_ratio() >= threshold and m.quick_ratio() >= threshold and m.ratio() >= threshold


class ContrastScorer:
    """Segment contrast between the two responses, embedded with one ``encode`` call per chunk."""

    name = "contrast"

    def __init__(self, embedder: Embedder | None = None, shared_threshold: float = DEFAULT_SHARED_THRESHOLD) -> None:
        if not 0.0 < shared_threshold <= 1.0:
            raise ParameterError("shared_threshold", "in (0, 1]", shared_threshold)
        self.embedder = embedder or Embedder()
        self.shared_threshold = shared_threshold

    def describe(self) -> str:
        return self.embedder.model_name

    def score(self, items: list[Item]) -> list[dict[str, SideValues] | FieldProblem]:
        texts: dict[str, int] = {}
        for item in items:
            for side in SIDES:
                t = item.text(side)
                for s, e in item.segments[side]:
                    texts.setdefault(t[s:e], len(texts))
        emb = self.embedder.encode(list(texts)) if texts else np.zeros((0, 1), dtype=np.float32)
        out: list[dict[str, SideValues] | FieldProblem] = []
        for item in items:
            seg_text = {side: [item.text(side)[s:e] for s, e in item.segments[side]] for side in SIDES}
            c = emb[[texts[t] for t in seg_text["chosen"]]]
            r = emb[[texts[t] for t in seg_text["rejected"]]]
            sim = np.clip(c @ r.T, 0.0, 1.0)
            keys = {side: [normalise_segment(t) for t in seg_text[side]] for side in SIDES}
            values = {
                "chosen": self._values(keys["chosen"], sim.max(axis=1), keys["rejected"], 1.0),
                "rejected": self._values(keys["rejected"], sim.max(axis=0), keys["chosen"], -1.0),
            }
            out.append({side: from_segments(item, side, values[side]) for side in SIDES})
        return out

    def _values(self, segs: list[str], best: np.ndarray, other: list[str], sign: float) -> list[float]:
        """0 for a segment the other response shares (by text), else the signed semantic contrast."""
        return [0.0 if any(same_text(t, o, self.shared_threshold) for o in other) else sign * (1.0 - float(b)) for t, b in zip(segs, best)]


class RewardModelScorer:
    """Segment values as reward increments of a sequence-classification reward model, batched by length."""

    name = "reward-model"

    def __init__(self, model: str, *, device: str = "auto", batch_size: int | None = None, max_length: int = 2048) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from equidata.embedding import locate_model

        self.model_name = model
        self.device = resolve_device(device)
        self.batch_size = batch_size or max(default_batch_size(self.device) // 4, 8)
        try:
            local = locate_model(model, "reward model")
            self.tok = AutoTokenizer.from_pretrained(local)
            dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
            self.model = AutoModelForSequenceClassification.from_pretrained(local, dtype=dtype).to(self.device).eval()
        except OSError as exc:
            raise EquidataError(f"could not load reward model {model!r}: {exc}") from exc
        if self.model.config.num_labels != 1:
            raise ParameterError("reward_model", "a sequence-classification model with one output (num_labels=1)", f"{model} (num_labels={self.model.config.num_labels})")
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token
        if self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = self.tok.pad_token_id
        self.max_length = min(max_length, getattr(self.tok, "model_max_length", max_length) or max_length)

    def describe(self) -> str:
        return self.model_name

    def _encode(self, messages: list[dict[str, str]], partial: str) -> list[int]:
        if getattr(self.tok, "chat_template", None):
            text = self.tok.apply_chat_template([*messages, {"role": "assistant", "content": partial}], tokenize=False)
            ids = self.tok(text, add_special_tokens=False)["input_ids"]
            return ids[-self.max_length :]
        prompt = "\n\n".join(m["content"] for m in messages)
        return self.tok(prompt, partial, truncation="only_first", max_length=self.max_length)["input_ids"]

    def rewards(self, sequences: list[list[int]]) -> list[float]:
        """Reward of each tokenised sequence, in input order (length-sorted batches)."""
        import torch

        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
        out = [0.0] * len(sequences)
        with torch.inference_mode():
            for k in range(0, len(order), self.batch_size):
                idx = order[k : k + self.batch_size]
                batch = self.tok.pad({"input_ids": [sequences[i] for i in idx]}, return_tensors="pt").to(self.device)
                logits = self.model(**batch).logits[:, 0].float().cpu().tolist()
                for i, v in zip(idx, logits):
                    out[i] = v
        return out

    def score(self, items: list[Item]) -> list[dict[str, SideValues] | FieldProblem]:
        seqs, where = [], []
        for item in items:
            for side in SIDES:
                text = item.text(side)
                ends = [0] + [e for _, e in item.segments[side]]
                where.append((len(seqs), len(ends)))
                seqs.extend(self._encode(item.pair.messages, text[:end]) for end in ends)
        rewards = self.rewards(seqs)
        out: list[dict[str, SideValues] | FieldProblem] = []
        pos = iter(where)
        for item in items:
            sides = {}
            for side in SIDES:
                start, n = next(pos)
                r = rewards[start : start + n]
                sides[side] = from_segments(item, side, [b - a for a, b in zip(r, r[1:])])
            out.append(sides)
        return out


class FieldScorer:
    """Values the user computed elsewhere, in ``chosen_<F>`` and ``rejected_<F>``.

    Each holds either per-token numbers (one per response token, or one per completion token
    including template tokens) or per-span objects ``{start, end, value}`` with exclusive ``end``.
    """

    name = "field"

    def __init__(self, field: str) -> None:
        if not field:
            raise ParameterError("values_field", "a field name (values are read from chosen_<F> and rejected_<F>)", field)
        self.field = field

    def describe(self) -> str:
        return self.field

    def score(self, items: list[Item]) -> list[dict[str, SideValues] | FieldProblem]:
        out: list[dict[str, SideValues] | FieldProblem] = []
        for item in items:
            try:
                out.append({side: self._side(item, side) for side in SIDES})
            except FieldProblem as p:
                out.append(p)
        return out

    def _side(self, item: Item, side: str) -> SideValues:
        name = f"{side}_{self.field}"
        raw = item.row.data.get(name)
        if not isinstance(raw, list) or not raw:
            raise FieldProblem(name, "missing" if raw is None else "expected a non-empty list of numbers or {start, end, value} objects")
        if all(isinstance(v, dict) for v in raw):
            return self._spans(item, side, name, raw)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in raw):
            raise FieldProblem(name, "expected finite numbers")
        comp = item.completions[side]
        if len(raw) == len(comp.ids):
            values = [float(v) for v in raw]
        elif len(raw) == comp.response_tokens:
            it = iter(raw)
            values = [float(next(it)) if s is not None else 0.0 for s in comp.spans]
        else:
            raise FieldProblem(name, f"has {len(raw)} values but the response has {comp.response_tokens} tokens ({len(comp.ids)} with template tokens) under this tokenizer")
        segs = item.segments[side]
        return SideValues(segs, segment_means(comp.spans, segs, values), values)

    def _spans(self, item: Item, side: str, name: str, raw: list[dict[str, Any]]) -> SideValues:
        n, prev = len(item.text(side)), 0
        segs, values = [], []
        for k, span in enumerate(raw):
            s, e, v = span.get("start"), span.get("end"), span.get("value")
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in (s, e)) or not prev <= s < e <= n:  # type: ignore[operator]
                raise FieldProblem(name, f"span {k} must have integer 0 <= start < end <= {n}, in order and not overlapping")
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise FieldProblem(name, f"span {k} has no finite 'value'")
            segs.append((s, e))
            values.append(float(v))
            prev = e
        return SideValues(segs, values, token_values(item.completions[side].spans, segs, values))


class JudgeScorer:
    """Segment values from an LLM judge: one request per response, ``{"scores": [...]}`` one per segment.

    A response whose answers break the contract after the retries rejects its row (with the reason).
    ``describe()`` names the judge model, the rating prompt's SHA-256 and the sampling settings, so
    the ``ama`` metadata records them.
    """

    name = "judge"

    def __init__(self, client: JudgeClient) -> None:
        self.client = client

    def describe(self) -> str:
        from equidata.judge.prompts import prompt_sha256

        c = self.client.config
        return f"{c.model} (rating prompt sha256 {prompt_sha256('rate')}, temperature {c.temperature}, seed {c.seed})"

    def close(self) -> None:
        self.client.close()

    def score(self, items: list[Item]) -> list[dict[str, SideValues] | FieldProblem]:
        from equidata.judge.client import Ask, Failure
        from equidata.judge.contract import scores_task
        from equidata.judge.prompts import rate_messages

        asks = []
        for item in items:
            for side in SIDES:
                text = item.text(side)
                segments = [text[s:e] for s, e in item.segments[side]]
                asks.append(Ask(rate_messages(item.pair.messages, segments), scores_task(len(segments))))
        answers = iter(self.client.ask(asks))
        out: list[dict[str, SideValues] | FieldProblem] = []
        for item in items:
            sides, problem = {}, None
            for side in SIDES:
                answer = next(answers)
                if isinstance(answer, Failure):
                    raw = f"; raw answer: {answer.raw[:300]!r}" if answer.raw else ""
                    problem = problem or FieldProblem(side, f"{answer.reason}{raw}")
                else:
                    sides[side] = from_segments(item, side, answer)
            out.append(problem or sides)
        return out


def build_scorer(
    scorer: str = "contrast",
    *,
    model: str | None = None,
    reward_model: str | None = None,
    values_field: str | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    shared_threshold: float = DEFAULT_SHARED_THRESHOLD,
    judge: Callable[[], JudgeConfig] | None = None,
) -> Scorer:
    """The scorer of :data:`SCORERS` named ``scorer``, checking that its own option is given.

    ``model``, ``shared_threshold``: contrast; ``reward_model``: reward-model; ``values_field``: field;
    ``judge`` (called only for the judge scorer): its endpoint settings. Close a judge scorer's
    ``client`` when done.
    """
    if scorer not in SCORERS:
        raise ParameterError("scorer", f"one of {list(SCORERS)}", scorer)
    if scorer == "judge":
        from equidata.judge.client import JudgeClient

        if judge is None:
            raise ParameterError("endpoint", "given with --scorer judge", None)
        return JudgeScorer(JudgeClient(judge()))
    if scorer == "reward-model":
        if not reward_model:
            raise ParameterError("reward_model", "given with --scorer reward-model", reward_model)
        return RewardModelScorer(reward_model, device=device, batch_size=batch_size)
    if scorer == "field":
        if not values_field:
            raise ParameterError("values_field", "given with --scorer field", values_field)
        return FieldScorer(values_field)
    return ContrastScorer(Embedder(model, device=device, batch_size=batch_size), shared_threshold)
