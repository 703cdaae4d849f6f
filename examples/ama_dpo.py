"""AMA end to end: classify -> balance -> export -> annotate-masks -> AMADPOTrainer.

Runs offline on a CPU in about a minute with a tiny random Llama over the bundled MiniLM
tokenizer (a smoke run, not a useful model). For real training pass ``--model`` with a causal
LM from the hub or disk; its tokenizer is used for annotate-masks too, so the weights line up.

    python examples/ama_dpo.py --workdir out/ama-demo
    python examples/ama_dpo.py --model Qwen/Qwen2.5-0.5B-Instruct --max-steps 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def equidata(*args: str) -> None:
    """Run one equidata command (works from a checkout as well as an install)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    print("$ equidata", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "equidata", *args], check=True, env=env)


def tiny_models(tokenizer: Any) -> tuple[Any, Any]:
    """A tiny random policy and reference over the tokenizer's vocabulary."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    def make(seed: int) -> Any:
        torch.manual_seed(seed)
        cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=4, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        return LlamaForCausalLM(cfg)

    return make(0), make(1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="classify -> balance -> export -> annotate-masks -> AMADPOTrainer")
    parser.add_argument("--pairs", default=str(ROOT / "examples" / "pairs.jsonl"))
    parser.add_argument("--workdir", default="out/ama-demo")
    parser.add_argument("--model", default=None, help="causal LM to train (default: a tiny random Llama, offline)")
    parser.add_argument("--max-steps", type=int, default=2)
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from equidata.embedding import resolve_model

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(args.model or resolve_model(None))
    if args.model is None:  # MiniLM is a BERT tokenizer: use [SEP] as end of sequence
        tokenizer.eos_token = "[SEP]"
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    tokenizer.save_pretrained(work / "tokenizer")

    # 1-3: risk groups; the FDC mix (explicit:implicit:mixed = 10:3:1 of 14 rows, taking what a short group has); TRL layout
    equidata("classify", args.pairs, "-o", str(work / "classified.jsonl"), "--quiet")
    equidata("balance", str(work / "classified.jsonl"), "-o", str(work / "mix.jsonl"), "--ratio", "explicit=10,implicit=3,mixed=1", "--total", "14", "--shortfall", "fill", "--quiet")
    equidata("export", str(work / "mix.jsonl"), "-o", str(work / "train.jsonl"), "--format", "trl", "--quiet")
    # 4: per-token weights aligned to the tokenizer the trainer will use
    equidata("annotate-masks", str(work / "train.jsonl"), "-o", str(work / "masked.jsonl"), "--tokenizer", str(work / "tokenizer"))

    # 5: DPO with the weights
    from datasets import Dataset
    from trl import DPOConfig

    from equidata.integrations.trl import AMADPOTrainer

    rows = [json.loads(line) for line in (work / "masked.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.model is None:
        policy, reference = tiny_models(tokenizer)
    else:
        from transformers import AutoModelForCausalLM

        policy, reference = AutoModelForCausalLM.from_pretrained(args.model), AutoModelForCausalLM.from_pretrained(args.model)
    config = DPOConfig(str(work / "dpo"), max_steps=args.max_steps, per_device_train_batch_size=2, report_to=[], save_strategy="no",
                       use_cpu=args.model is None, logging_steps=1)
    trainer = AMADPOTrainer(policy, ref_model=reference, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    result = trainer.train()
    summary = {"pairs": len(rows), "steps": trainer.state.global_step, "loss": result.training_loss}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
