"""Shared fixtures: the shared labelled data, a CLI runner in this process, a tiny LM (helpers: :mod:`tests.helpers`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SHARED_DATA

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Any]:
    """Run ``equidata.cli.main`` in this process (no interpreter start-up) in ``tmp_path``.

    Returns the :class:`tests.torture.Outcome` with stderr's whitespace folded (rich wraps lines);
    anything but ``SystemExit`` escaping ``main`` (a traceback for the user) fails the test.
    """
    from tests.torture import run_main

    def run(*args: str, stdin: bytes = b"") -> Any:
        outcome = run_main(list(args), tmp_path, stdin)
        assert outcome.traceback is None, outcome.traceback
        return replace(outcome, stderr=" ".join(outcome.stderr.split()))

    return run


@pytest.fixture(scope="session")
def shared_data() -> list[dict[str, Any]]:
    """The paper authors' labelled BeaverTails prompts (read from ../shared, never copied)."""
    if not SHARED_DATA.is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return json.loads(SHARED_DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def minilm_tokenizer() -> Any:
    """The bundled MiniLM fast tokenizer with pad/eos set, usable by TRL offline."""
    from transformers import AutoTokenizer

    from equidata.embedding import resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model(None))
    tok.pad_token = tok.pad_token or "[PAD]"
    tok.eos_token = "[SEP]"
    return tok


@pytest.fixture
def tiny_lm(minilm_tokenizer: Any) -> Any:
    """A factory for a tiny randomly initialised Llama over the MiniLM vocabulary."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    def make(seed: int = 0) -> Any:
        torch.manual_seed(seed)
        cfg = LlamaConfig(
            vocab_size=len(minilm_tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
            pad_token_id=minilm_tokenizer.pad_token_id, eos_token_id=minilm_tokenizer.eos_token_id,
            bos_token_id=minilm_tokenizer.cls_token_id,
        )
        return LlamaForCausalLM(cfg)

    return make
