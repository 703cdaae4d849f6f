"""A tiny random encoder and a risk head over it, so that memory benchmarks can push 1M rows through the model.

``build_tiny_head(folder)`` writes, under ``folder``:

- ``encoder/``: a one-layer, 32-wide BERT with random weights and the bundled MiniLM's tokenizer (same
  vocabulary, same 256-token truncation), saved by sentence-transformers with mean pooling and
  L2 normalisation, the modules all-MiniLM-L6-v2 has;
- ``head/``: a random linear :class:`~equidata.classifier.head.RiskHead` over its 32-d embeddings,
  written by :func:`~equidata.classifier.head.save_head`, whose ``embedding_model`` is that folder.

``equidata classify|evaluate ... --head FOLDER/head`` then runs the whole pipeline (reading, tokenising,
the model call, the head, writing) with a model about 1/20 of MiniLM's cost per row. Its scores mean
nothing: it measures the streaming, not the model.
"""

from __future__ import annotations

import json
from pathlib import Path

DIM = 32


def build_tiny_head(folder: Path, seed: int = 0) -> Path:
    """Write the tiny encoder and its head into ``folder``; return the head's folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    from equidata.classifier.head import HeadConfig, RiskHead, save_head
    from equidata.embedding import resolve_model

    hf_logging.disable_progress_bar()
    torch.manual_seed(seed)
    minilm = resolve_model(None)
    tokenizer = AutoTokenizer.from_pretrained(minilm)
    bert = folder / "tiny-bert"
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=DIM, num_hidden_layers=1, num_attention_heads=2, intermediate_size=2 * DIM)
    BertModel(config).save_pretrained(bert)
    tokenizer.save_pretrained(bert)
    encoder = folder / "encoder"
    max_len = json.loads((Path(minilm) / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
    modules = [Transformer(str(bert), max_seq_length=max_len), Pooling(DIM, "mean"), Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(encoder))
    return save_head(RiskHead(HeadConfig(str(encoder.resolve()), DIM)), folder / "head")
