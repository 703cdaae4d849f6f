"""Write the labelled HH dialogues as training rows for ``equidata train``: the text stays in ../shared.

Run: ``python data/labels/training_rows.py ../shared/data/hh-harmless-dialogues.jsonl [LABELS.jsonl ...] -o OUT.jsonl
[--hold-back FOLD --held-back HELD.jsonl --single SINGLE.json]``

Each output line is ``{"idx", "chosen", "category"}``: the dialogue's HH transcript (from the shared file)
and its label, for the shared file's own ``label`` rows and for every ``{"idx", "label"}`` line of the
LABELS files (e.g. ``data/labels/hh-dialogues-team.jsonl``). An ``idx`` labelled twice is an error.

``--hold-back FOLD`` leaves out fold FOLD of the shared labelled dialogues (grouped 5-fold split by
normalised text, seed 0, as ``benchmarks/dialogue_sweep.py`` splits them) and writes those rows to
``--held-back``, so a head trained on OUT can be scored on dialogues it never saw (``make head`` holds
back fold 0). BeaverTails prompts come from HH-RLHF, so a one-turn dialogue can be a single-turn training
prompt word for word: ``--single`` names the single-turn labels the head also trains on, and held-back
dialogues whose user side is one of those prompts (normalised) are left out of HELD too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from equidata.classifier.data import load_labelled
from equidata.classifier.train import grouped_folds, normalise_text
from equidata.groups import RISK_GROUPS
from equidata.schemas import detect_schema

#: The split the held-back fold comes from: grouped (normalised text) stratified folds, and its seed.
FOLDS, SEED = 5, 0


def held_back_idx(shared: list[dict[str, Any]], fold: int) -> set[int]:
    """The ``idx`` of the shared labelled dialogues (``shared``, in file order) in ``fold``."""
    schema = detect_schema(shared[0])
    texts = [schema.prompt(r).classified_text() for r in shared]
    y = np.array([RISK_GROUPS.index(r["label"]) for r in shared])
    _, test = grouped_folds(y, texts, FOLDS, SEED)[fold]
    return {shared[i]["idx"] for i in test}


def training_rows(
    dialogues: Path, labels: list[Path], hold_back: int | None = None, single: Path | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The labelled dialogues to train on and those held back (fold ``hold_back`` of the shared labels), in ``idx`` order.

    Held-back dialogues whose user side is a prompt of the ``single`` label file are in neither list.
    """
    rows = [json.loads(line) for line in dialogues.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_idx = {r["idx"]: r for r in rows}
    shared = [r for r in rows if r.get("label")]
    label = {r["idx"]: r["label"] for r in shared}
    for path in labels:
        for line in path.read_text(encoding="utf-8").splitlines():
            extra = json.loads(line)
            if extra["idx"] in label:
                raise SystemExit(f"{path}: idx {extra['idx']} is labelled twice")
            label[extra["idx"]] = extra["label"]
    held = held_back_idx(shared, hold_back) if hold_back is not None else set()
    seen = {normalise_text(t) for t in load_labelled(single).texts} if single else set()
    schema = detect_schema(rows[0])
    out = [{"idx": i, "chosen": by_idx[i]["chosen"], "category": label[i]} for i in sorted(label)]
    unseen = [r for r in out if r["idx"] in held and normalise_text(schema.prompt(by_idx[r["idx"]]).classified_text()) not in seen]
    return [r for r in out if r["idx"] not in held], unseen


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dialogues", type=Path)
    ap.add_argument("labels", type=Path, nargs="*")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--hold-back", type=int, choices=range(FOLDS), metavar="FOLD", help=f"leave out this fold (0-{FOLDS - 1}) of the shared labels")
    ap.add_argument("--held-back", type=Path, help="where the held-back rows go (required with --hold-back)")
    ap.add_argument("--single", type=Path, help="single-turn labels trained on beside: their prompts are left out of --held-back")
    a = ap.parse_args()
    if (a.hold_back is None) != (a.held_back is None):
        ap.error("--hold-back and --held-back go together")
    train, held = training_rows(a.dialogues, a.labels, a.hold_back, a.single)
    _write(a.output, train)
    if a.held_back:
        _write(a.held_back, held)
        print(f"{a.held_back}: {len(held)} held-back dialogues never trained on (fold {a.hold_back})", file=sys.stderr)


if __name__ == "__main__":
    main()
