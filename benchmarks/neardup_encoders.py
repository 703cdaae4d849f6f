"""Does near-duplicate search change when balance gets the shipped head's risk-tuned embeddings?

`classify --keep-embeddings` keeps the classifier's own embeddings; with the shipped head those come
from the fine-tuned MiniLM, while `balance` without `--embeddings` uses the base MiniLM. On the shared
labelled prompts (unique after whitespace normalisation) this counts the pairs at or above the
near-duplicate threshold under each encoder and their overlap, and the similarity of every prompt to a
lightly edited copy (one word clipped, lower-cased, the question mark moved).

    python benchmarks/neardup_encoders.py [../shared/data/erlhf-beavertails-dev.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from equidata.classifier import RiskClassifier
from equidata.embedding import Embedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "erlhf-beavertails-dev.json"


def edited(text: str, rng: np.random.Generator) -> str:
    words = text.split()
    k = int(rng.integers(len(words)))
    if len(words[k]) > 3:
        words[k] = words[k][:-1]
    return " ".join(words).lower().rstrip("?") + " ?"


def main(path: Path) -> None:
    texts = sorted({" ".join(r["question_y"].split()) for r in json.loads(path.read_text(encoding="utf-8"))})
    rng = np.random.default_rng(0)
    copies = [edited(t, rng) for t in texts]
    encoders = {"base MiniLM": Embedder(device="cpu"), "shipped head's encoder": RiskClassifier(device="cpu").embedder}
    pairs = {}
    for name, enc in encoders.items():
        x = enc.encode(texts)
        sims = np.triu(x @ x.T, 1)
        pairs[name] = {t: {tuple(p) for p in np.argwhere(sims >= t)} for t in (0.9, 0.95)}
        edit_sim = (x * enc.encode(copies)).sum(axis=1)
        print(f"{name}: edited-copy similarity median {np.median(edit_sim):.3f}, share >= 0.95 {np.mean(edit_sim >= 0.95):.3f}")
    a, b = pairs.values()
    for t in (0.9, 0.95):
        print(f"cosine >= {t}: {len(a[t])} pairs (base), {len(b[t])} (risk-tuned), {len(a[t] & b[t])} in both")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
