"""AMA for TRL: a ``DPOTrainer`` that multiplies per-token log-probs by the weights of ``annotate-masks``.

Import this module only with the ``trl`` extra installed (``pip install 'equidata[trl]'``); the rest of
equidata never imports it. Written against TRL 1.16 (the version the extra pins).

What :class:`AMADPOTrainer` adds to ``DPOTrainer``:

1. *Tokenisation*: after TRL builds ``chosen_ids``/``rejected_ids``, each row's annotated
   ``chosen_token_ids``/``rejected_token_ids`` must be a prefix of them; TRL may add trailing special
   tokens beyond that prefix (a tokenizer's own ``[SEP]``, or the EOS it appends when the annotation
   tokenizer had none), which take the weight of the last annotated token. Any other difference
   (another tokenizer, another chat template, a prompt that merges with the response into one
   token) raises :class:`AMAAlignmentError`, which says how to re-annotate.
2. *Collation and truncation*: the collator is wrapped so that the batch also carries
   ``ama_weights``, laid out like ``completion_mask`` (0 on prompt and padding) and truncated the same way.
3. *Loss*: the per-token log-probs of the policy and of the reference model are multiplied by the
   weights before TRL sums them, both in training and when reference log-probs are precomputed.
   Every loss built on those sums (sigmoid, IPO, ...) therefore sees the weighted sums; the
   other TRL metrics (entropy, token accuracy) are left unweighted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

try:
    import torch
    from trl import DPOTrainer
    from trl.data_utils import is_conversational
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("equidata.integrations.trl needs TRL: pip install 'equidata[trl]'") from exc

from equidata.ama.align import template_hash, vocab_hash
from equidata.ama.weights import SIDES
from equidata.errors import EquidataError

WEIGHTS_KEY = "ama_weights"
COLUMNS = {side: f"ama_{side}_weights" for side in SIDES}
_ANNOTATED = ("chosen_token_ids", "rejected_token_ids", "chosen_token_weights", "rejected_token_weights")


class AMAAlignmentError(EquidataError):
    """The trainer's completion ids differ from the ones the weights were annotated for."""


def _reannotate(tokenizer: Any, conversational: bool) -> str:
    flag = " --chat-template" if conversational else ""
    return f"re-annotate with the trainer's tokenizer: equidata annotate-masks DATA -o OUT --tokenizer {getattr(tokenizer, 'name_or_path', 'TOKENIZER')}{flag}"


def check_annotation(example: dict[str, Any], tokenizer: Any) -> None:
    """Check that a dataset row carries annotate-masks fields made for ``tokenizer`` and this data format."""
    conversational = is_conversational(example)
    missing = [c for c in _ANNOTATED if c not in example]
    if missing:
        raise AMAAlignmentError(f"the dataset has no {missing} columns; run `equidata annotate-masks` on it first ({_reannotate(tokenizer, conversational)})")
    meta = example.get("ama") or {}
    problems = []
    if meta.get("vocab_sha256") and meta["vocab_sha256"] != vocab_hash(tokenizer):
        problems.append(f"the weights were aligned to tokenizer {meta.get('tokenizer')!r}, whose vocabulary differs from the trainer's")
    alignment = meta.get("alignment")
    if alignment == "chat-template" and not conversational:
        problems.append("the weights were aligned to a chat template but the rows are plain text (TRL applies no template to them)")
    elif alignment == "plain" and conversational:
        problems.append("the rows are conversational (TRL applies the chat template) but the weights were aligned without --chat-template")
    elif alignment == "chat-template" and meta.get("chat_template_sha256") != template_hash(tokenizer):
        problems.append("the trainer's tokenizer has another chat template than the one the weights were aligned to")
    if problems:
        raise AMAAlignmentError("; ".join(problems) + f"; {_reannotate(tokenizer, conversational)}")


def align_weights(example: dict[str, Any], index: int, tokenizer: Any, conversational: bool) -> dict[str, list[float]]:
    """Weights aligned one to one with TRL's ``chosen_ids``/``rejected_ids`` of one row."""
    special = set(tokenizer.all_special_ids)
    out = {}
    for side in SIDES:
        ids, annotated, weights = example[f"{side}_ids"], example[f"{side}_token_ids"], example[f"{side}_token_weights"]
        n = len(annotated)
        if len(weights) != n or n == 0:
            raise AMAAlignmentError(f"row {index}: {side}_token_weights has {len(weights)} values for {n} annotated tokens")
        extra = ids[n:]
        if list(ids[:n]) != list(annotated) or any(t not in special for t in extra):
            at = next((k for k, (a, b) in enumerate(zip(ids, annotated)) if a != b), min(len(ids), n))
            raise AMAAlignmentError(
                f"row {index}, {side}: TRL's completion ids differ from the annotated ones at token {at} "
                f"(TRL: {tokenizer.decode(ids[at:at + 8])!r}, annotated: {tokenizer.decode(annotated[at:at + 8])!r}); "
                f"{_reannotate(tokenizer, conversational)}. For plain-text rows, also make the prompt end on a token "
                "boundary (e.g. with a trailing space or newline) so that it does not merge with the response."
            )
        out[COLUMNS[side]] = [float(w) for w in weights] + [float(weights[-1])] * len(extra)
    return out


@dataclass
class AMADataCollator:
    """Wrap a preference collator: add ``ama_weights`` laid out and truncated like ``completion_mask``."""

    base: Callable[..., dict[str, Any]]

    def __call__(self, examples: list[dict[str, Any]], return_tensors: str | None = None) -> dict[str, Any]:
        batch = self.base(examples)
        mask = batch["completion_mask"]
        keep_end = getattr(self.base, "truncation_mode", "keep_start") == "keep_end"
        weights = torch.zeros(mask.shape, dtype=torch.float32)
        rows = [ex[COLUMNS["chosen"]] for ex in examples] + [ex[COLUMNS["rejected"]] for ex in examples]
        for i, row in enumerate(rows):
            pos = mask[i].nonzero().flatten()
            k = len(pos)
            if k:
                weights[i, pos] = torch.tensor(row[-k:] if keep_end else row[:k], dtype=torch.float32)
        batch[WEIGHTS_KEY] = weights
        return batch


class AMADPOTrainer(DPOTrainer):
    """``DPOTrainer`` whose sequence log-probs are AMA-weighted sums over completion tokens.

    Train it on rows that ``equidata annotate-masks`` wrote (TRL ``prompt``/``chosen``/``rejected``
    columns plus the annotation columns), with the same tokenizer, and ``--chat-template`` for
    conversational rows. With every weight 1 it computes exactly what ``DPOTrainer`` computes.
    """

    @property
    def data_collator(self) -> Any:
        return self._ama_collator

    @data_collator.setter
    def data_collator(self, value: Any) -> None:
        # Trainer.__init__ assigns the collator TRL built (or the user's); wrap it on the way in, so that
        # reference log-prob precomputation, which runs inside __init__, already sees the weights.
        self._ama_collator = value if value is None or isinstance(value, AMADataCollator) else AMADataCollator(value)

    def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
        tokenizer = getattr(processing_class, "tokenizer", processing_class)
        first = next(iter(dataset))
        check_annotation(first, tokenizer)
        conversational = is_conversational(first)
        dataset = super()._prepare_dataset(dataset, processing_class, args, dataset_name)
        kwargs: dict[str, Any] = {"with_indices": True, "fn_kwargs": {"tokenizer": tokenizer, "conversational": conversational}}
        if hasattr(dataset, "_fingerprint"):  # a map-style Dataset (IterableDataset takes neither option)
            kwargs.update(num_proc=args.dataset_num_proc, desc=f"Aligning AMA weights of {dataset_name} dataset")
        return dataset.map(align_weights, **kwargs)

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        self._signature_columns = [*self._signature_columns, *(c for c in COLUMNS.values() if c not in self._signature_columns)]

    @contextlib.contextmanager
    def _weighted(self, models: list[Any], weights: torch.Tensor) -> Iterator[None]:
        """Multiply the fused head's per-token log-probs by ``weights`` (shifted like the labels) while active."""
        shifted = weights[:, 1:]

        def hook(module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> Any:
            if not kwargs.get("fused_lm_head"):
                return output
            lp = output.log_probs
            w = shifted.to(device=lp.device, dtype=lp.dtype)
            n = w.size(1)
            output.log_probs = torch.cat([lp[:, :-n], lp[:, -n:] * w], dim=1) if lp.size(1) > n else lp * w
            return output

        unique = {id(m): m for m in (self.accelerator.unwrap_model(m) for m in models if m is not None)}
        handles = [m.register_forward_hook(hook, with_kwargs=True) for m in unique.values()]
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    @staticmethod
    def _split(inputs: dict[str, Any]) -> tuple[dict[str, Any], torch.Tensor]:
        if WEIGHTS_KEY not in inputs:
            raise AMAAlignmentError(f"the batch has no {WEIGHTS_KEY!r}; AMADPOTrainer needs its own collator wrapper (AMADataCollator)")
        return {k: v for k, v in inputs.items() if k != WEIGHTS_KEY}, inputs[WEIGHTS_KEY]

    def _compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool) -> Any:
        inputs, weights = self._split(inputs)
        with self._weighted([model, self.model, self.ref_model], weights):
            return super()._compute_loss(model, inputs, return_outputs)

    def compute_ref_log_probs(self, model: Any, inputs: dict[str, Any]) -> Any:
        inputs, weights = self._split(inputs)
        with self._weighted([model], weights):
            return super().compute_ref_log_probs(model, inputs)
