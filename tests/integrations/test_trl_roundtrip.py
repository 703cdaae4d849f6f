"""The exports load with `datasets` and train with TRL's DPOTrainer (two steps, tiny random Llama)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLES, read_jsonl, run_cli, write_jsonl

pytest.importorskip("trl")

# A minimal chat template over the MiniLM vocabulary, for the conversational export.
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["trl", "trl-chat"])
def test_dpo_trains_two_steps_on_export(fmt: str, tmp_path: Path, minilm_tokenizer: Any, tiny_lm: Any) -> None:
    import torch
    from datasets import load_dataset
    from trl import DPOConfig, DPOTrainer

    # Rows as `balance` writes them: classified pairs with their risk fields, plus a general row without scores.
    rows = read_jsonl(EXAMPLES / "pairs.jsonl")
    balanced = [{**r, "risk_group": "explicit", "risk_scores": {"explicit": 0.9, "implicit": 0.05, "mixed": 0.03, "none": 0.02}, "risk_confidence": 0.9} for r in rows[:-1]]
    balanced.append({**rows[-1], "risk_group": "general"})
    out = tmp_path / f"{fmt}.jsonl"
    run_cli("export", str(write_jsonl(tmp_path / "mix.jsonl", balanced)), "-o", str(out), "--format", fmt, "-q", check=True)
    dataset = load_dataset("json", data_files=str(out), split="train")
    assert set(dataset.column_names) == {"prompt", "chosen", "rejected", "id", "risk_group", "risk_scores", "risk_confidence"}  # input fields kept
    assert len(dataset) == len(rows)

    tokenizer = minilm_tokenizer
    if fmt == "trl-chat":
        tokenizer = type(minilm_tokenizer).from_pretrained(minilm_tokenizer.name_or_path)
        tokenizer.pad_token, tokenizer.eos_token = minilm_tokenizer.pad_token, minilm_tokenizer.eos_token
        tokenizer.chat_template = CHAT_TEMPLATE
    model, ref = tiny_lm(0), tiny_lm(1)
    before = [p.detach().clone() for p in model.parameters()]
    args = DPOConfig(
        output_dir=str(tmp_path / "run"), max_steps=2, per_device_train_batch_size=2, report_to=[], save_strategy="no",
        logging_steps=1, use_cpu=True, max_length=128, learning_rate=1e-3, seed=0, dataloader_num_workers=0,
    )
    trainer = DPOTrainer(model=model, ref_model=ref, args=args, train_dataset=dataset, processing_class=tokenizer)
    result = trainer.train()

    assert result.global_step == 2
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
