"""Fine-tune the embedding model together with a linear risk head (``train --encoder finetune``).

The frozen-MiniLM heads stall near 0.46 macro-F1 on the paper authors' labels; training the
encoder's layers with the head is what moved the grouped-CV score past 0.50 (see the model card).
Every parameter of the transformer but its token-embedding matrix is trained; the tensors that
changed (keyed as in the Hugging Face model, so they do not depend on the sentence-transformers
version) ship with the head as float16 (``encoder.safetensors``, about 21 MB for MiniLM) and are laid over the base model
when the head loads. The returned model already carries that float16 rounding, so what is
cross-validated is exactly what ships.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from equidata.classifier.head import HeadConfig, RiskHead
from equidata.classifier.settings import FinetuneParams
from equidata.classifier.train import class_weights
from equidata.embedding import Embedder, transformer_of
from equidata.groups import RISK_GROUPS

#: Batches are cut from length-sorted blocks of this many batches (then shuffled): less padding.
_BUCKET = 16


@dataclass
class Finetuned:
    """A fine-tuned encoder and its head; ``encoder`` holds the tensors that differ from the base model."""

    embedder: Embedder
    head: RiskHead
    encoder: dict[str, torch.Tensor]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 4)`` probabilities, through the same length-sorted inference path as ``classify``."""
        return self.head.predict_proba(self.embedder.encode(texts))


def _batches(lengths: np.ndarray, batch_size: int, gen: torch.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length: shuffle, sort within blocks, shuffle the batches."""
    perm = torch.randperm(len(lengths), generator=gen).numpy()
    out: list[np.ndarray] = []
    block = batch_size * _BUCKET
    for start in range(0, len(perm), block):
        part = perm[start : start + block]
        part = part[np.argsort(lengths[part], kind="stable")]
        out += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [out[i] for i in torch.randperm(len(out), generator=gen).tolist()]


def _trainable_encoder(st: Any) -> tuple[Any, list[torch.nn.Parameter]]:
    """Freeze everything but the transformer's layers (its token embeddings stay frozen too)."""
    transformer = transformer_of(st)
    for p in st.parameters():
        p.requires_grad_(False)
    frozen = transformer.get_input_embeddings().weight
    trainable = [p for p in transformer.parameters() if p is not frozen]
    for p in trainable:
        p.requires_grad_(True)
    return transformer, trainable


def _warmup_then_decay(opt: torch.optim.Optimizer, steps: int, warmup: float) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over the first ``warmup`` share of ``steps``, then linear decay to zero."""
    warm = max(1, int(warmup * steps))
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))


def finetune(texts: Sequence[str], y: np.ndarray, params: FinetuneParams, *, model: str, device: str = "auto", batch_size: int | None = None) -> Finetuned:
    """Train the encoder of ``model`` and a linear head on ``texts`` labelled ``y`` (indices into groups)."""
    torch.manual_seed(params.seed)
    embedder = Embedder(model, device=device, batch_size=batch_size, fp16=False)
    st = embedder.model
    transformer, encoder_params = _trainable_encoder(st)
    base = {k: v.detach().clone() for k, v in transformer.state_dict().items()}
    config = HeadConfig(embedding_model=model, embedding_dim=embedder.dim, dropout=params.dropout, input_scale=params.scale, training=asdict(params))
    head = RiskHead(config).to(embedder.device)
    opt = torch.optim.AdamW(
        [{"params": encoder_params, "lr": params.lr}, {"params": list(head.parameters()), "lr": params.head_lr}],
        weight_decay=params.weight_decay,
    )
    sched = _warmup_then_decay(opt, params.epochs * -(-len(texts) // params.batch_size), params.warmup)
    weights = class_weights(np.bincount(y, minlength=len(RISK_GROUPS)), params.class_weight)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights.to(embedder.device))
    labels = torch.as_tensor(y, dtype=torch.long)
    lengths = np.array([len(t) for t in texts])
    gen = torch.Generator().manual_seed(params.seed)
    st.train()
    head.train()
    for _ in range(params.epochs):
        for idx in _batches(lengths, params.batch_size, gen):
            emb = torch.nn.functional.normalize(st(embedder.features([texts[i] for i in idx]))["sentence_embedding"], dim=-1)
            loss = loss_fn(head.raw_log_proba(emb), labels[idx].to(embedder.device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    st.eval()
    changed: dict[str, Any] = {}
    with torch.no_grad():
        for name, value in transformer.state_dict().items():
            if not torch.equal(value, base[name]):
                value.copy_(value.half().float())  # what ships is float16
                changed[name] = value.detach().cpu().clone()
    return Finetuned(embedder, head.cpu().eval(), changed)
