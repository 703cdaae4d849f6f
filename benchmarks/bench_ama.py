"""Benchmark `annotate-masks --scorer contrast`: pairs/s on 5k synthetic pairs, and kept-token shares.

The 5k pairs recombine the sentences of examples/pairs.jsonl, most of them extended with one of 4096
place/time/person details so that nearly every segment is new text to embed; about half the pairs share an
opening sentence and a fifth repeat a chosen sentence in the rejected reply, as real preference data does. Run: ``PYTHONPATH=. python benchmarks/bench_ama.py [--pairs N]``.
Prints the results and writes them to ``bench-out/ama.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from equidata.ama import Aligner, ContrastScorer, annotate_file, load_tokenizer, split_segments
from equidata.embedding import DEFAULT_MODEL
from equidata.io import write_jsonl

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "pairs.jsonl"
DETAILS = [f"{a} {b} {c}".rstrip() for a in ("at home", "at work", "near the station", "with friends", "in the evening", "after school", "on the weekend", "in a small town",
            "during the holidays", "in the city", "at the office", "on a budget", "for a week", "at night", "in the morning", "with family")
           for b in ("today", "this year", "next time", "as soon as possible", "every day", "once a month", "for now", "in the long run",
                     "if you can", "without delay", "from time to time", "right away", "when needed", "later on", "most days", "at first")
           for c in ("", "for you", "for your sister", "for the team", "for them", "for a friend", "for everyone", "for the kids",
                     "for my partner", "for the neighbours", "for your boss", "for the class", "for the group", "for the family", "for us", "for him")]
OPENINGS = ["I understand your question.", "Thanks for asking.", "Here is what I think.", "That is a difficult situation.", "Let me help with that.", "Good question."]


def synthetic_pairs(n: int, seed: int = 0) -> list[dict[str, str]]:
    """``n`` pairs recombined from the example sentences (deterministic for a seed)."""
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    pools = {side: [r[side][s:e] for r in rows for s, e in split_segments(r[side])] for side in ("chosen", "rejected")}
    prompts = [r["prompt"] for r in rows]
    rng = random.Random(seed)

    def vary(sentence: str) -> str:  # most sentences get a detail, so nearly every segment is new text
        return f"{sentence.rstrip('.!?')} {rng.choice(DETAILS)}." if rng.random() < 0.8 else sentence

    out = []
    for i in range(n):
        chosen = [vary(t) for t in rng.sample(pools["chosen"], rng.randint(2, 4))]
        rejected = [vary(t) for t in rng.sample(pools["rejected"], rng.randint(1, 3))]
        if rng.random() < 0.5:
            opening = rng.choice(OPENINGS)
            chosen, rejected = [opening, *chosen], [opening, *rejected]
        if rng.random() < 0.2:
            rejected.append(rng.choice(chosen))
        out.append({"id": f"syn-{i:05d}", "prompt": rng.choice(prompts), "chosen": " ".join(chosen), "rejected": " ".join(rejected)})
    return out


def run(path: Path, out: Path, aligner: Aligner, scorer: ContrastScorer) -> dict[str, float]:
    start = time.perf_counter()
    result = annotate_file(path, out, aligner=aligner, scorer=scorer)
    seconds = time.perf_counter() - start
    s = result.stats
    return {
        "pairs": result.counts.written, "seconds": round(seconds, 2), "pairs_per_s": round(result.counts.written / seconds, 1),
        "chosen_kept_share": round(s.kept_share("chosen"), 4), "rejected_kept_share": round(s.kept_share("rejected"), 4), "fallback_rows": s.fallbacks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--tokenizer", default=DEFAULT_MODEL, help="tokenizer to align to (default: the bundled MiniLM, offline)")
    args = parser.parse_args()
    aligner = Aligner(load_tokenizer(args.tokenizer), name=args.tokenizer)
    scorer = ContrastScorer()
    scorer.embedder.encode(["warm-up"])  # load the model outside the timed runs
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        synthetic = tmp_path / "synthetic.jsonl"
        write_jsonl(synthetic, synthetic_pairs(args.pairs))
        results = {
            "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "synthetic": run(synthetic, tmp_path / "synthetic.out.jsonl", aligner, scorer),
            "examples_pairs": run(EXAMPLES, tmp_path / "examples.out.jsonl", aligner, scorer),
        }
    print(json.dumps(results, indent=2))
    out_dir = ROOT / "bench-out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "ama.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
