"""Compare two `balance` runs of `bench_balance.py` data: which rows each selected, and what that costs.

For each manifest: rows selected and duplicates per group, the share of planted near-duplicates
found, and cluster coverage (distinct topics among the selected rows of each group; the topic is in
the synthetic prompt, "... on topic T"). Then the rows whose fate differs between the two runs.

    python benchmarks/balance_diff.py DATA_DIR 5000000 NEW.manifest.jsonl OLD.manifest.jsonl
    python benchmarks/balance_diff.py DATA_DIR 5000000 NEW.manifest.jsonl     # the summary of one run

DATA_DIR is the `bench_balance.py --data` folder (classified-N.jsonl, pairs-N.npy).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

_TOPIC = re.compile(r"ON TOPIC (\d+)", re.IGNORECASE)


def fates(manifest: Path) -> list[str]:
    """Fate of every input row, in input order."""
    with manifest.open() as fh:
        return [json.loads(line)["fate"] for line in fh]


def summary(fate: list[str], group: list[str], topic: np.ndarray, pairs: np.ndarray) -> dict:
    """Per-group selected, duplicates and distinct selected topics; planted near-duplicates found."""
    sel = np.array([f == "selected" for f in fate])
    dup = np.array([f.startswith("duplicate_of") for f in fate])
    g = np.array(group)
    found = [dup[a] or fate[b] == f"duplicate_of:{a + 1}" for a, b in pairs.tolist()]
    return {"planted_near_dups_found": round(float(np.mean(found)), 4), "duplicates": int(dup.sum()),
            "groups": {name: {"selected": int((sel & (g == name)).sum()), "duplicates": int((dup & (g == name)).sum()),
                              "selected_topics": len(np.unique(topic[sel & (g == name)]))} for name in sorted(set(group))}}


def main(data: Path, n: int, new: Path, old: Path | None) -> None:
    group, topic = [], np.empty(n, dtype=np.int64)
    with (data / f"classified-{n}.jsonl").open() as fh:
        for i, line in enumerate(fh):
            row = json.loads(line)
            group.append(row["risk_group"])
            topic[i] = int(_TOPIC.search(row["prompt"]).group(1))
    pairs = np.load(data / f"pairs-{n}.npy")
    a = fates(new)
    if old is None:
        print(json.dumps({"rows": n, "new": summary(a, group, topic, pairs)}, indent=2))
        return
    b = fates(old)
    changed = Counter(f"{x.split(':')[0]} -> {y.split(':')[0]}" for x, y in zip(b, a) if x != y)
    result = {"rows": n, "new": summary(a, group, topic, pairs), "old": summary(b, group, topic, pairs),
              "selected_only_new": sum(x == "selected" and y != "selected" for x, y in zip(a, b)),
              "selected_only_old": sum(y == "selected" and x != "selected" for x, y in zip(a, b)),
              "fate_changes_old_to_new": dict(changed.most_common())}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("rows", type=int)
    ap.add_argument("new", type=Path)
    ap.add_argument("old", type=Path, nargs="?")
    args = ap.parse_args()
    main(args.data, args.rows, args.new, args.old)
