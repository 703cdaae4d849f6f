"""Duplicate removal: exact (a hash of the normalised text) and semantic (cosine similarity of embeddings).

Both keep, of each set of duplicates, the row that comes first in a priority order (highest
confidence, then input order). Near-duplicates are found greedily in that order: a row is a
duplicate when it is more similar than the threshold to a row already kept, and it points to the
most similar one. So no two kept rows are near-duplicates of each other.

Near-duplicate search is blocked, not all-pairs: above :data:`EXACT_LIMIT` rows, rows are split by
seeded k-means into clusters of about :data:`BLOCK_ROWS`, each row joins the clusters of its two
nearest centroids, and similarities are computed only inside a cluster. The cost grows with
``n * BLOCK_ROWS``, close to linear in ``n``; a pair of near-duplicates is missed only when the two
rows share neither of their two nearest centroids, which is rare at thresholds near 1.

Memory: the embeddings come as :class:`~equidata.balance.cluster.UnitRows`, read one block (a
cluster, or :data:`~equidata.balance.cluster._BLOCK` rows) at a time; only the rows that have a
neighbour above the threshold in their block (the candidates) are held together, for the greedy pass.
"""

from __future__ import annotations

import math

import numpy as np

from equidata.balance.cluster import UnitRows, as_rows, kmeans, top_centroids

EXACT_LIMIT = 4096
BLOCK_ROWS = 512
PROBES = 2
_CHUNK = 2048


def exact_duplicates(keys: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``dup_of[i]``: the position of the kept row with the same key as row ``i``, or -1.

    ``keys`` is ``(n, words)`` unsigned integers (e.g. a 128-bit hash as two uint64 words); the kept
    row of each key is the one that comes first in ``order``.
    """
    n = len(keys)
    dup_of = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return dup_of
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    words = keys.reshape(n, -1)
    by_key = np.lexsort((rank, *words.T[::-1]))  # by key, then priority
    ordered = words[by_key]
    first = np.ones(n, dtype=bool)
    first[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    rep = by_key[np.maximum.accumulate(np.where(first, np.arange(n), 0))]
    dup_of[by_key[~first]] = rep[~first]
    return dup_of


def _blocks(x: UnitRows, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Member rows of each block, and each row's blocks ``(n, probes)``."""
    n = len(x)
    if n <= EXACT_LIMIT:
        return [np.arange(n)], np.zeros((n, 1), dtype=np.int64)
    centroids = kmeans(x, math.ceil(n / BLOCK_ROWS), seed=seed)
    probes = top_centroids(x, centroids, PROBES)
    flat = probes.ravel()
    rows = np.repeat(np.arange(n), PROBES)
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(len(centroids) + 1))
    return [rows[order[bounds[c] : bounds[c + 1]]] for c in range(len(centroids))], probes


def _has_neighbour(x: UnitRows, blocks: list[np.ndarray], threshold: float) -> np.ndarray:
    """Rows with at least one other row above ``threshold`` in one of their blocks."""
    found = np.zeros(len(x), dtype=bool)
    for members in blocks:
        xb = x.take(members)
        for start in range(0, len(members), _CHUNK):
            sims = xb[start : start + _CHUNK] @ xb.T
            rows = np.arange(len(sims))
            sims[rows, rows + start] = -1.0  # not its own neighbour
            found[members[start : start + _CHUNK]] |= (sims > threshold).any(axis=1)
    return found


def near_duplicates(x: np.ndarray | UnitRows, order: np.ndarray, threshold: float, *, seed: int = 0) -> np.ndarray:
    """``dup_of[i]``: the kept row most similar to row ``i`` above ``threshold``, or -1.

    ``x`` holds unit rows (float32); ``order`` is the priority order of the positions.
    """
    rows = as_rows(x)
    dup_of = np.full(len(rows), -1, dtype=np.int64)
    if len(rows) < 2:
        return dup_of
    blocks, membership = _blocks(rows, seed)
    candidates = _has_neighbour(rows, blocks, threshold)
    cand = np.flatnonzero(candidates)
    vecs = rows.take(cand)  # the candidates only, in position order
    slot = np.full(len(rows), -1, dtype=np.int64)
    slot[cand] = np.arange(len(cand))
    reps: list[list[int]] = [[] for _ in blocks]  # per block, the slots of its kept candidates
    for i in order[candidates[order]].tolist():
        best, best_sim = -1, threshold
        xi = vecs[slot[i]]
        for c in membership[i].tolist():
            if reps[c]:
                sims = vecs[reps[c]] @ xi
                j = int(sims.argmax())
                if sims[j] > best_sim:
                    best, best_sim = int(cand[reps[c][j]]), float(sims[j])
        if best >= 0:
            dup_of[i] = best
            continue
        for c in set(membership[i].tolist()):
            reps[c].append(int(slot[i]))
    return dup_of
