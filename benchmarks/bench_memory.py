"""Peak RSS of ``equidata classify`` on 20k and on 80k rows of the same kind of prompts.

Run: ``python benchmarks/bench_memory.py [--rows 20000 80000] [--device cpu] [--json FILE]``

Each run is a fresh ``python -m equidata classify`` subprocess; its peak resident set comes from
``os.wait4`` (the kernel's ``ru_maxrss`` for that child alone). Goal: the largest run stays within
1.2x the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import write_prompts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def peak_rss(rows: int, device: str, work: Path) -> dict[str, Any]:
    src = write_prompts(work / f"prompts-{rows}.jsonl", rows)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "equidata", "classify", str(src), "-o", str(work / f"out-{rows}.jsonl"), "--device", device, "-q"]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return {"rows": rows, "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "seconds": round(time.perf_counter() - t, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[20_000, 80_000])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="equidata-mem-") as tmp:
        runs = [peak_rss(n, args.device, Path(tmp)) for n in args.rows]
    for r in runs:
        print(json.dumps(r), flush=True)
    ratio = runs[-1]["peak_rss_mib"] / runs[0]["peak_rss_mib"]
    summary = {"rss_ratio_largest_to_smallest": round(ratio, 3), "goal": "<= 1.2", "met": ratio <= 1.2}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, **summary}, indent=2) + "\n")


if __name__ == "__main__":
    main()
