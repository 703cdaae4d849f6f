"""Shared fixtures: the shared labelled data, a CLI runner through the real entry point, a tiny LM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_DATA = ROOT.parent / "shared" / "data" / "erlhf-beavertails-dev.json"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m equidata ARGS`` (the real entry point) and capture stdout/stderr as bytes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "equidata", *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"equidata {' '.join(args)} exited {proc.returncode}:\n{proc.stderr.decode()}")
    return proc


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


def read_jsonl(path: Path | str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


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
