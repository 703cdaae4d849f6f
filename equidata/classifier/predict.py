"""``RiskClassifier``: embedding model + risk head, and the classify batch transform."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from equidata.classifier.head import DEFAULT_HEAD_DIR, HeadConfig, head_files, load_head
from equidata.embedding import MINILM_ENV, Embedder, resolve_model
from equidata.engines.base import GroupCountingStep
from equidata.errors import EquidataError, ParameterError
from equidata.groups import RISK_FIELDS, RISK_GROUPS
from equidata.io import Reject, Row
from equidata.schemas import TURNS, FieldProblem, Prompt

SCORE_DECIMALS = 6


class RiskClassifier:
    """Sort prompts into explicit / implicit / mixed / none.

    >>> clf = RiskClassifier()                       # bundled MiniLM + shipped head, offline
    >>> clf.predict(["How do I make a walkway slippery?"])
    ['implicit']
    """

    def __init__(
        self,
        head: str | Path | None = None,
        *,
        model: str | None = None,
        device: str = "auto",
        batch_size: int | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        self.head_dir = Path(head) if head else DEFAULT_HEAD_DIR
        self.head = load_head(self.head_dir)
        self.embedder = load_encoder(
            self.head_dir, model=model, device=device, batch_size=batch_size, trust_remote_code=trust_remote_code, config=self.head.config,
        )

    def identity(self) -> dict[str, Any]:
        """What makes the scores what they are, by part: checked before a run is resumed."""
        from equidata.engines.checkpoint import model_fingerprint

        emb = self.embedder
        device = "cuda" if emb.device.startswith("cuda") else emb.device
        return {
            "model": model_fingerprint(resolve_model(emb.model_name)),
            "head": hashlib.sha256(b"".join(p.read_bytes() for p in head_files(self.head_dir, self.head.config))).hexdigest(),
            "device / batch size / fp16": f"{device} / {emb.batch_size} / {emb.fp16}",
        }

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 4)`` probabilities over :data:`RISK_GROUPS`."""
        if not texts:
            return np.zeros((0, len(RISK_GROUPS)), dtype=np.float32)
        return self.head.predict_proba(self.embedder.encode(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable group of each text."""
        return [RISK_GROUPS[k] for k in self.predict_proba(texts).argmax(axis=1)]


def load_encoder(
    head: str | Path | None = None,
    *,
    model: str | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    trust_remote_code: bool = False,
    config: HeadConfig | None = None,
) -> Embedder:
    """The embedding model the head in ``head`` (default: the shipped one) was trained on, fine-tuned weights laid over.

    ``model`` names the same model another way (a local copy); a different model is refused, since the
    head only understands its own embeddings. ``config``: the head's, if already loaded.
    """
    head_dir = Path(head) if head else DEFAULT_HEAD_DIR
    config = config or load_head(head_dir).config
    trained_on = config.embedding_model
    if model and model != trained_on and resolve_model(model) != resolve_model(trained_on):
        raise EquidataError(
            f"the head in {head_dir} was trained on embeddings of {trained_on!r}, not {model!r}; "
            f"train a head for that model with `equidata train LABELS -o DIR --model {model}` and pass --head DIR "
            f"(for a local copy of the bundled MiniLM, set {MINILM_ENV}={model} instead of --model)"
        )
    weights = config.encoder_weights
    return Embedder(
        trained_on, device=device, batch_size=batch_size, trust_remote_code=trust_remote_code,
        encoder_weights=head_dir / weights if weights else None,
    )


def risk_fields(probs: np.ndarray, risk_turn: int = 0) -> dict[str, Any]:
    """The fields classify adds to a row, from one probability vector (rounded for stable bytes).

    ``risk_turn`` is the 0-based index, among the row's user turns, of the turn that carried the most risk.
    """
    return chunk_risk_fields(np.asarray(probs)[None, :], [risk_turn])[0]


def chunk_risk_fields(probs: np.ndarray, risk_turns: Sequence[int]) -> list[dict[str, Any]]:
    """:func:`risk_fields` of every row of ``probs`` (``(n, 4)``), rounded and compared a whole chunk at once.

    ``argmax(axis=1)`` picks the same first maximum as ``np.argmax`` of each row, and
    :func:`round_scores` gives the floats Python's ``round`` gives, so the bytes are those of the per-row function.
    """
    out = []
    for row, best, risk_turn in zip(round_scores(probs), probs.argmax(axis=1).tolist(), risk_turns):
        scores = dict(zip(RISK_GROUPS, row))
        group = RISK_GROUPS[best]
        out.append(dict(zip(RISK_FIELDS, (group, scores, scores[group], risk_turn))))
    return out


def round_scores(probs: np.ndarray) -> list[list[float]]:
    """``[[round(float(p), SCORE_DECIMALS) for p in row] for row in probs]``, vectorised for float32 (what heads give).

    A float32 has 24 significant bits and 10**6 = 2**6 * 15625 has 14, so ``p * 10**6`` in float64 is exact;
    ``rint`` then rounds that exact value half to even, as ``round`` does, and dividing the integer by
    10**6 gives the float nearest ``k / 10**6``, which is what ``round`` returns. NumPy's own ``round``
    is not used: it scales without that guarantee. Other dtypes take Python's ``round``.
    """
    if probs.dtype != np.float32:
        return [[round(p, SCORE_DECIMALS) for p in row] for row in probs.tolist()]
    scale = float(10**SCORE_DECIMALS)
    return (np.rint(probs.astype(np.float64) * scale) / scale).tolist()  # type: ignore[no-any-return]


def riskiest_turn(turn_probs: np.ndarray) -> int:
    """The user turn that, read alone, scores the lowest ``none`` probability (the first one on a tie)."""
    return int(np.argmin(turn_probs[:, RISK_GROUPS.index("none")]))


class ClassifyStep(GroupCountingStep):
    """Batch transform: detect the schema on the first row, extract prompts, add risk fields.

    ``turns="all"`` classifies a dialogue from all its user turns (:meth:`Prompt.classified_text`)
    and also scores each user turn alone, for ``risk_turn``; ``"last"`` reads only the last user turn.
    Each chunk is embedded in one call: the rows' texts first, then their single turns.
    """

    def __init__(self, classifier: RiskClassifier, *, prompt_field: str | None = None, source: str | None = None, turns: str = "all") -> None:
        if turns not in TURNS:
            raise ParameterError("turns", f"one of {list(TURNS)}", turns)
        self.classifier, self.prompt_field, self.source, self.turns = classifier, prompt_field, source, turns
        self.group_counts: Counter[str] = Counter()

    def fingerprint(self) -> dict[str, Any]:
        """Model, head and settings, for the resume check of :func:`~equidata.engines.local.run_chunked`."""
        return {**self.classifier.identity(), "prompt field": self.prompt_field, "turns": self.turns}

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        self.detect(rows)
        out: list[dict[str, Any] | Reject] = []
        prompts: list[Prompt] = []
        where: list[int] = []
        for row in rows:
            try:
                prompts.append(self.schema.prompt(row.data))  # type: ignore[union-attr]
            except FieldProblem as p:
                out.append(Reject.of(row, p.reason, p.field))
                continue
            where.append(len(out))
            out.append(row.data)
        split = [turns if self.turns == "all" and len(turns := p.user_turns) > 1 else [] for p in prompts]
        texts = [p.classified_text(self.turns) for p in prompts]
        probs = self.classifier.predict_proba(texts + [t for turns in split for t in turns])
        for pos, fields in zip(where, chunk_risk_fields(probs[: len(texts)], _risk_turns(prompts, split, probs[len(texts) :]))):
            self.group_counts[fields["risk_group"]] += 1
            out[pos] = {**out[pos], **fields}  # type: ignore[dict-item]
        return out


def _risk_turns(prompts: list[Prompt], split: list[list[str]], turn_probs: np.ndarray) -> list[int]:
    """Each prompt's ``risk_turn``: its riskiest turn where its turns were scored alone (``turn_probs``, in order), else its last."""
    out, start = [], 0
    for prompt, turns in zip(prompts, split):
        if turns:
            out.append(riskiest_turn(turn_probs[start : start + len(turns)]))
            start += len(turns)
        else:
            out.append(len(prompt.user_turns) - 1)
    return out
