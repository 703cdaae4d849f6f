"""Time the near-dedup block assignment alone: exact nearest centroids against the two-level CoarseIndex.

For each group size G, fits the k = ceil(G / 512) k-means centroids that `balance` fits for a group of
G rows (on rows made like `bench_balance.py`'s: 2,000 topics, 384-d, float16), then assigns
--rows rows to their two nearest centroids both ways and reports seconds per 100k rows, the time
extrapolated to the G rows of the group (the cost per row is fixed by k; the index is built once per
group, timed apart), and how often the two agree. Below COARSE_FROM centroids both ways are exact. Writes bench-out/bench_assign.json.

    python benchmarks/bench_assign.py                  # groups of 500k (1M rows) and 2.5M (5M rows)
    python benchmarks/bench_assign.py 2500000 --rows 20000
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_balance import DIM, OUT, TOPICS, _unit  # noqa: E402

from equidata.balance.cluster import COARSE_FROM, CoarseIndex, kmeans, top_centroids  # noqa: E402
from equidata.balance.dedup import BLOCK_ROWS, PROBES  # noqa: E402


def rows_like_bench(n: int, seed: int = 0) -> np.ndarray:
    """Unit float32 rows around random topics, stored as float16 like the benchmark's embeddings."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(TOPICS, DIM)))
    x = _unit(centres[rng.integers(TOPICS, size=n)] + rng.normal(size=(n, DIM)) / np.sqrt(DIM))
    return _unit(x.astype(np.float16).astype(np.float32)).astype(np.float32)


def measure_group(group: int, rows: int) -> dict:
    """Exact and indexed assignment of ``rows`` rows to the centroids of a ``group``-row group."""
    x = rows_like_bench(max(rows, 20000))
    centroids = kmeans(x, math.ceil(group / BLOCK_ROWS), seed=0)
    x = x[:rows]
    start = time.perf_counter()
    exact = top_centroids(x, centroids, PROBES, exact=True)
    exact_s = time.perf_counter() - start
    start = time.perf_counter()
    CoarseIndex(centroids)
    build_s = time.perf_counter() - start  # once per group: top_centroids builds it again below
    start = time.perf_counter()
    fast = top_centroids(x, centroids, PROBES)
    fast_s = time.perf_counter() - start - build_s
    return {"group_rows": group, "centroids": len(centroids), "rows_timed": rows, "index_build_s": round(build_s, 2),
            "exact_s_per_100k": round(exact_s * 1e5 / rows, 2), "index_s_per_100k": round(fast_s * 1e5 / rows, 2),
            "exact_s_whole_group": round(exact_s * group / rows), "index_s_whole_group": round(build_s + fast_s * group / rows),
            "nearest_same": round(float((exact[:, 0] == fast[:, 0]).mean()), 4),
            "nearest_among_two": round(float((fast == exact[:, :1]).any(axis=1).mean()), 4),
            "index_used": len(centroids) >= COARSE_FROM}


def main(groups: list[int], rows: int) -> None:
    OUT.mkdir(exist_ok=True)
    results = [measure_group(g, rows) for g in groups]
    (OUT / "bench_assign.json").write_text(json.dumps(results, indent=2) + "\n")
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", type=int, nargs="*", default=[500_000, 2_500_000])
    ap.add_argument("--rows", type=int, default=50_000, help="rows assigned and timed per group size")
    args = ap.parse_args()
    main(args.groups, args.rows)
