"""Synthetic but realistic prompts for the benchmarks: the example prompts recombined with openers and closers.

Deterministic for a seed; lengths centre on ~60 characters like real safety prompts.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "prompts.jsonl"
OPENERS = ["", "", "", "", "", "", "Hey, ", "Quick question: ", "Honestly, ", "For a novel I'm writing, ", "My friend wants to know: ", "Hypothetically, "]
CLOSERS = ["", "", "", "", "", "", " Thanks!", " Be specific.", " Please explain.", " Asking for a friend.", " Step by step?", " Keep it short."]


def prompts(n: int, seed: int = 0) -> list[str]:
    """``n`` prompts built from the bundled examples."""
    base = [json.loads(line)["prompt"] for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = rng.choice(base)
        if rng.random() < 0.04:  # two questions in one prompt
            text = f"{text} Also, {rng.choice(base)[0].lower()}{rng.choice(base)[1:]}"
        out.append(f"{rng.choice(OPENERS)}{text}{rng.choice(CLOSERS)}")
    return out


def write_prompts(path: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` prompts as JSONL rows ``{"id", "prompt"}``."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, text in enumerate(prompts(n, seed)):
            fh.write(json.dumps({"id": f"p{i:07d}", "prompt": text}) + "\n")
    return path


if __name__ == "__main__":
    texts = prompts(10000)
    print(f"mean length {sum(map(len, texts)) / len(texts):.1f} chars")
