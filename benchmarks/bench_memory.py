"""Peak RSS of a whole-file command (``classify``, ``stats``, ``evaluate``) on a small and a large input of the same kind.

Run: ``python benchmarks/bench_memory.py [--command classify] [--rows 20000 80000] [--device cpu] [--json FILE]``

    python benchmarks/bench_memory.py --command stats --rows 100000 1000000

Inputs: prompts for ``classify``; classified rows (synthetic groups and four-decimal confidences,
no model needed) for ``stats``; prompts labelled with the paper's categories for ``evaluate``.
Each run is a fresh ``python -m equidata COMMAND`` subprocess; its peak resident set is the
kernel's ``ru_maxrss`` for that child alone (see ``peak.py``). Goal: the largest run stays within
1.2x the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak import measure, rss_summary  # noqa: E402
from synth import prompts, write_prompts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("explicit", "implicit", "mixed", "none")
LABELS = ("EHD", "IHD", "MHD", "No risk")


def write_rows(path: Path, rows: int, make: Any) -> Path:
    """``rows`` synthetic prompts, each row extended by ``make(rng)``."""
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(prompts(rows)):
            fh.write(json.dumps({"id": f"p{i:07d}", "prompt": text, **make(rng)}) + "\n")
    return path


def classified(rng: random.Random) -> dict[str, Any]:
    conf = round(rng.uniform(0.25, 1.0), 4)
    group = rng.choice(GROUPS)
    return {"risk_group": group, "risk_scores": {g: conf if g == group else round((1 - conf) / 3, 4) for g in GROUPS}, "risk_confidence": conf}


def command(name: str, rows: int, device: str, work: Path) -> list[str]:
    """The CLI arguments of one run, after writing its input."""
    if name == "classify":
        return ["classify", str(write_prompts(work / f"prompts-{rows}.jsonl", rows)), "-o", str(work / f"out-{rows}.jsonl"), "--device", device, "-q"]
    if name == "stats":
        return ["stats", str(write_rows(work / f"classified-{rows}.jsonl", rows, classified)), "--json"]
    labelled = write_rows(work / f"labelled-{rows}.jsonl", rows, lambda rng: {"category": rng.choice(LABELS)})
    return ["evaluate", str(labelled), "--device", device, "--json"]


def peak_rss(name: str, rows: int, device: str, work: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "equidata", *command(name, rows, device, work)]
    seconds, rss = measure(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return {"command": name, "rows": rows, "peak_rss_mib": round(rss, 1), "seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--command", choices=["classify", "stats", "evaluate"], default="classify")
    ap.add_argument("--rows", type=int, nargs="+", default=[20_000, 80_000])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="equidata-mem-") as tmp:
        runs = [peak_rss(args.command, n, args.device, Path(tmp)) for n in args.rows]
    for r in runs:
        print(json.dumps(r), flush=True)
    rss_summary(runs, args.json)


if __name__ == "__main__":
    main()
