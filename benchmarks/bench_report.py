"""Time and peak RSS of ``equidata report`` on classified files with embeddings, at two sizes.

Run: ``python benchmarks/bench_report.py [--rows 200000 1000000] [--json FILE]``

Each size gets a synthetic classified JSONL (``benchmarks/synth.py`` prompts with risk fields) and a
384-d float16 embeddings file, then one fresh ``python -m equidata report ... --embeddings`` subprocess;
its peak resident set comes from ``os.wait4``. Goal: memory does not grow with rows (the largest run
within 1.2x the smallest), since only tallies and fixed-size samples are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak import measure, rss_summary  # noqa: E402
from synth import prompts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("explicit", "implicit", "mixed", "none")
DIM = 384


def write_classified(work: Path, rows: int, seed: int = 0) -> tuple[Path, Path]:
    """A classified JSONL and its embeddings, written in blocks by plain writes.

    No memory map: its pages would count in this process's RSS, and a child forked from it starts
    with that RSS in its own peak (``ru_maxrss``), which once doubled the 1M-row figure.
    """
    path, npy = work / f"classified-{rows}.jsonl", work / f"classified-{rows}.npy"
    rng = np.random.default_rng(seed)
    block = 50_000
    with open(path, "w", encoding="utf-8") as fh, open(npy, "wb") as vec:
        np.lib.format.write_array_header_1_0(vec, {"descr": "<f2", "fortran_order": False, "shape": (rows, DIM)})
        for start in range(0, rows, block):
            n = min(block, rows - start)
            texts = prompts(n, seed + start)
            scores = rng.dirichlet(np.ones(len(GROUPS)), size=n).round(6)
            best = scores.argmax(axis=1)
            for k, text in enumerate(texts):
                row = {"id": f"p{start + k:07d}", "prompt": text, "risk_group": GROUPS[best[k]],
                       "risk_scores": dict(zip(GROUPS, scores[k].tolist())), "risk_confidence": float(scores[k, best[k]])}
                fh.write(json.dumps(row) + "\n")
            centres = np.eye(len(GROUPS), DIM)[best] * 2.0
            vec.write((centres + rng.standard_normal((n, DIM))).astype("<f2").tobytes())
    return path, npy


def run_report(rows: int, work: Path) -> dict[str, Any]:
    path, npy = write_classified(work, rows)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "equidata", "report", str(path), "--embeddings", str(npy), "-o", str(work / f"report-{rows}.html"), "-q"]
    seconds, rss = measure(cmd, env=env, cwd=ROOT)
    out = {"rows": rows, "input_mib": round((path.stat().st_size + npy.stat().st_size) / 2**20), "peak_rss_mib": round(rss, 1),
           "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds)}
    path.unlink()
    npy.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="equidata-report-") as tmp:
        runs = []
        for n in args.rows:
            runs.append(run_report(n, Path(tmp)))
            print(json.dumps(runs[-1]), flush=True)
    rss_summary(runs, args.json)


if __name__ == "__main__":
    main()
