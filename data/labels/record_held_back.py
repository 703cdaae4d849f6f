"""Score a head on the held-back dialogues and record, in its ``config.json``, which rows they were and how it did.

Run: ``python data/labels/record_held_back.py HEAD_DIR HELD.jsonl`` (``make head`` does, after training on
the rows ``training_rows.py --hold-back 0`` left out). The entry is ``metrics.held_back``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from equidata.classifier import evaluate_file
from equidata.io.writers import write_json

WHY = (
    "fold 0 of the grouped (normalised text) stratified 5-fold split, seed 0, of the shared labelled HH dialogues, "
    "less those whose user side is a single-turn training prompt: never trained on, so the head's quality is "
    "measured on dialogues it never saw "
    "(tests/test_dialogues.py::test_quality_on_held_back_shared_dialogues)"
)


def record_held_back(head_dir: Path, held: Path) -> dict[str, object]:
    """Evaluate the head at ``head_dir`` on ``held`` (``{idx, chosen, category}`` rows) and add the result to its config."""
    report = evaluate_file(held, head=head_dir, device="cpu")
    entry = {
        "rows": WHY,
        "idx": [json.loads(line)["idx"] for line in held.read_text(encoding="utf-8").splitlines()],
        **{k: report[k] for k in ("n", "macro_f1", "accuracy", "per_group", "confusion")},
    }
    config = json.loads((head_dir / "config.json").read_text(encoding="utf-8"))
    config["metrics"]["held_back"] = entry
    write_json(head_dir / "config.json", config)
    return entry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("head_dir", type=Path)
    ap.add_argument("held", type=Path)
    a = ap.parse_args()
    entry = record_held_back(a.head_dir, a.held)
    print(f"held back: {entry['n']} dialogues, macro-F1 {entry['macro_f1']}, accuracy {entry['accuracy']}")


if __name__ == "__main__":
    main()
