"""Write the labelled HH dialogues as training rows for ``equidata train``: the text stays in ../shared.

Run: ``python data/labels/training_rows.py ../shared/data/hh-harmless-dialogues.jsonl [LABELS.jsonl ...] -o OUT.jsonl``

Each output line is ``{"idx", "chosen", "category"}``: the dialogue's HH transcript (from the shared file)
and its label, for the shared file's own ``label`` rows and for every ``{"idx", "label"}`` line of the
LABELS files (e.g. ``data/labels/hh-dialogues-team.jsonl``). An ``idx`` labelled twice is an error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def training_rows(dialogues: Path, labels: list[Path]) -> list[dict[str, object]]:
    """The labelled dialogues, in ``idx`` order."""
    rows = {r["idx"]: r for r in map(json.loads, dialogues.read_text(encoding="utf-8").splitlines())}
    label = {i: r["label"] for i, r in rows.items() if r.get("label")}
    for path in labels:
        for line in path.read_text(encoding="utf-8").splitlines():
            extra = json.loads(line)
            if extra["idx"] in label:
                raise SystemExit(f"{path}: idx {extra['idx']} is labelled twice")
            label[extra["idx"]] = extra["label"]
    return [{"idx": i, "chosen": rows[i]["chosen"], "category": label[i]} for i in sorted(label)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dialogues", type=Path)
    ap.add_argument("labels", type=Path, nargs="*")
    ap.add_argument("-o", "--output", type=Path, required=True)
    a = ap.parse_args()
    a.output.parent.mkdir(parents=True, exist_ok=True)
    a.output.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in training_rows(a.dialogues, a.labels)), encoding="utf-8")


if __name__ == "__main__":
    main()
