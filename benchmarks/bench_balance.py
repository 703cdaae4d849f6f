"""Benchmark `equidata balance` with dedup on synthetic classified rows with stored embeddings.

Generates N rows (50k and 200k by default) in four risk groups: clustered 384-d float16 unit vectors
(2,000 topics), 5% planted near-duplicates (cosine ~0.99 to an earlier row) and 1% exact
duplicates (same text up to case and spaces). Runs the real CLI, `balance IN --embeddings EMB
--total 14000` (diverse selection, dedup on), in a child process, and reports wall time, peak RSS
and the share of planted near-duplicates found. Results print as a table and go to
bench-out/bench_balance.json.

    python benchmarks/bench_balance.py                          # 50k and 200k rows
    python benchmarks/bench_balance.py 20000                    # other sizes
    python benchmarks/bench_balance.py 200000 --against DIR     # also run the checkout in DIR on the same
                                                                # data and say if output and manifest are byte-identical
    python benchmarks/bench_balance.py 5000000 --data DIR       # keep the generated data in DIR and reuse it
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak import measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-out"
DIM, TOPICS = 384, 2000
GROUPS = (("explicit", 0.5), ("implicit", 0.25), ("mixed", 0.1), ("none", 0.15))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def make_data(n: int, folder: Path, seed: int = 0) -> tuple[Path, Path, np.ndarray]:
    """Write N classified rows and their embeddings; return paths and the planted near-dup pairs."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(TOPICS, DIM)))
    topic = rng.integers(TOPICS, size=n)
    emb = np.empty((n, DIM), dtype=np.float16)
    for start in range(0, n, 50_000):
        t = topic[start : start + 50_000]
        emb[start : start + len(t)] = _unit(centres[t] + rng.normal(size=(len(t), DIM)) / np.sqrt(DIM))
    near = rng.choice(np.arange(n // 2, n), n // 20, replace=False)
    sources = rng.integers(0, n // 2, size=len(near))
    emb[near] = _unit(emb[sources].astype(np.float32) + 0.15 * rng.normal(size=(len(near), DIM)) / np.sqrt(DIM))
    topic[near] = topic[sources]
    exact = rng.choice(np.setdiff1d(np.arange(n // 2, n), near), n // 100, replace=False)
    exact_src = rng.integers(0, n // 2, size=len(exact))
    text_of = np.arange(n)
    text_of[exact] = exact_src
    emb[exact] = emb[exact_src]
    topic[exact] = topic[exact_src]
    names, shares = zip(*GROUPS)
    group = rng.choice(names, size=n, p=shares)
    group[near] = group[sources]
    group[exact] = group[exact_src]
    conf = rng.uniform(0.3, 1.0, size=n).round(4)
    path = folder / f"classified-{n}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = f"Synthetic prompt {text_of[i]} on topic {topic[i]}"
            if text_of[i] != i:
                text = "  " + text.upper() + " "
            g = str(group[i])
            scores = {name: (float(conf[i]) if name == g else round((1 - float(conf[i])) / 3, 4)) for name in names}
            fh.write(json.dumps({"id": i, "prompt": text, "risk_group": g, "risk_scores": scores, "risk_confidence": float(conf[i])}) + "\n")
    npy = folder / f"classified-{n}.npy"
    np.save(npy, emb)
    searched = group[near] != "none"  # `none` is not in the default ratio, so it is not searched
    return path, npy, np.stack([near[searched], sources[searched]], axis=1)


def cached_data(n: int, folder: Path | None) -> tuple[Path, Path, np.ndarray]:
    """:func:`make_data` in ``folder`` (kept, and reused when already there), or in bench-out (removed afterwards)."""
    if folder is None:
        return make_data(n, OUT)
    folder.mkdir(parents=True, exist_ok=True)
    pairs_path = folder / f"pairs-{n}.npy"
    if not pairs_path.exists():
        np.save(pairs_path, make_data(n, folder)[2])
    return folder / f"classified-{n}.jsonl", folder / f"classified-{n}.npy", np.load(pairs_path)


def run_balance(src: Path, npy: Path, out: Path, root: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `equidata balance` child process (the checkout at ``root``).

    It runs in ``root``: ``python -m`` puts the working folder first on the import path.
    """
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "equidata", "balance", str(src.resolve()), "-o", str(out.resolve()), "--embeddings", str(npy.resolve()), "--total", "14000", "-q"]
    return measure(cmd, env=env, cwd=root)


def same_bytes(a: Path, b: Path) -> bool:
    """Output and manifest of two runs are byte-identical."""
    return all(filecmp.cmp(a.with_name(a.stem + suffix), b.with_name(b.stem + suffix), shallow=False) for suffix in (".jsonl", ".manifest.jsonl"))


def main(sizes: list[int], against: Path | None = None, data: Path | None = None) -> None:
    OUT.mkdir(exist_ok=True)
    results = []
    for n in sizes:
        src, npy, pairs = cached_data(n, data)
        out = OUT / f"balanced-{n}.jsonl"
        wall, rss = run_balance(src, npy, out)
        compared = {}
        if against is not None:
            ref = OUT / f"reference-{n}.jsonl"
            ref_wall, ref_rss = run_balance(src, npy, ref, against)
            compared = {"reference_seconds": round(ref_wall, 2), "reference_peak_rss_mib": round(ref_rss), "identical_to_reference": same_bytes(out, ref)}
        fates = {}
        with out.with_name(f"{out.stem}.manifest.jsonl").open() as fh:
            for i, line in enumerate(fh):
                fates[i] = json.loads(line)["fate"]
        # a planted pair is found when the copy is marked a duplicate, or the source a duplicate of the copy
        found = [fates[a].startswith("duplicate_of") or fates[b] == f"duplicate_of:{a + 1}" for a, b in pairs.tolist()]
        selected = sum(f == "selected" for f in fates.values())
        dups = sum(f.startswith("duplicate_of") for f in fates.values())
        results.append({"rows": n, "seconds": round(wall, 2), "peak_rss_mib": round(rss), "duplicates": dups, "selected": selected,
                        "planted_near_dups_found": round(float(np.mean(found)), 4), **compared})
        for p in (src, npy) if data is None else ():
            p.unlink()
    (OUT / "bench_balance.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'rows':>8} {'seconds':>8} {'peak RSS MiB':>13} {'duplicates':>11} {'selected':>9} {'near-dups found':>16}")
    for r in results:
        print(f"{r['rows']:>8} {r['seconds']:>8} {r['peak_rss_mib']:>13} {r['duplicates']:>11} {r['selected']:>9} {r['planted_near_dups_found']:>16}")
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"time x{b['seconds'] / a['seconds']:.2f} for rows x{b['rows'] / a['rows']:.1f}")
    for r in results:
        if "identical_to_reference" in r:
            print(f"{r['rows']} rows: reference {r['reference_seconds']} s, {r['reference_peak_rss_mib']} MiB; output and manifest "
                  + ("byte-identical" if r["identical_to_reference"] else "DIFFER"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", type=int, nargs="*", default=[50_000, 200_000])
    ap.add_argument("--against", type=Path, help="another checkout (its repository root) to run on the same data and compare bytes with")
    ap.add_argument("--data", type=Path, help="keep the generated data in this folder and reuse it on later runs")
    args = ap.parse_args()
    main(args.sizes, args.against, args.data)
