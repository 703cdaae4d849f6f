"""Seeded spherical k-means on unit vectors, written for byte-stable results.

Used twice by ``balance``: to block near-duplicate search (so it is not all-pairs) and to spread a
group's selection evenly over topics (``--strategy diverse``). Centroids are seeded by k-means++
and fitted on a seeded sample of at most ``sample`` rows; then every row is assigned to its most
similar centroid(s), :data:`_BLOCK` rows at a time.

The rows come as an array or as any :class:`UnitRows` (e.g. a memory-mapped embeddings file read
in blocks), so no function here needs all the rows in memory at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

_BLOCK = 8192


class UnitRows(Protocol):
    """Unit float32 rows fetched on demand: ``take(idx)`` returns the rows at sorted positions ``idx``."""

    def __len__(self) -> int: ...

    def take(self, idx: np.ndarray) -> np.ndarray: ...


class InMemory:
    """:class:`UnitRows` over an array already in memory."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __len__(self) -> int:
        return len(self.x)

    def take(self, idx: np.ndarray) -> np.ndarray:
        return self.x[idx]


def as_rows(x: np.ndarray | UnitRows) -> UnitRows:
    """Wrap an array as :class:`UnitRows`; pass anything else through."""
    return InMemory(x) if isinstance(x, np.ndarray) else x


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def top_centroids(x: np.ndarray | UnitRows, centroids: np.ndarray, probes: int = 1) -> np.ndarray:
    """``(n, probes)`` indices of each row's most similar centroids, best first (blocked matmul)."""
    rows = as_rows(x)
    out = np.empty((len(rows), probes), dtype=np.int64)
    for start in range(0, len(rows), _BLOCK):
        sims = rows.take(np.arange(start, min(start + _BLOCK, len(rows)))) @ centroids.T
        if probes == 1:
            out[start : start + _BLOCK, 0] = sims.argmax(axis=1)
        else:
            part = np.argpartition(-sims, probes - 1, axis=1)[:, :probes]
            order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
            out[start : start + _BLOCK] = np.take_along_axis(part, order, axis=1)
    return out


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: each next centre drawn with probability proportional to squared distance,
    so small, distinct topics get a centre of their own."""
    chosen = [int(rng.integers(len(x)))]
    dist = np.maximum(2.0 - 2.0 * (x @ x[chosen[0]]), 0.0).astype(np.float64)
    for _ in range(1, k):
        total = dist.sum()
        nxt = int(rng.choice(len(x), p=dist / total)) if total > 0 else int(rng.integers(len(x)))
        chosen.append(nxt)
        dist = np.minimum(dist, np.maximum(2.0 - 2.0 * (x @ x[nxt]), 0.0))
    return x[chosen].copy()


def kmeans(x: np.ndarray | UnitRows, k: int, *, seed: int | Sequence[int], iterations: int = 10, sample: int = 20000) -> np.ndarray:
    """Fit ``k`` unit centroids to the unit rows of ``x`` (float32); returns ``(k, dim)``.

    Only the fitting sample (at most ``sample`` rows) is held in memory.
    """
    rng = np.random.default_rng(seed)
    rows = as_rows(x)
    n = len(rows)
    k = max(1, min(k, n))
    fit = rows.take(np.arange(n) if n <= sample else np.sort(rng.choice(n, sample, replace=False)))
    centroids = _plus_plus(fit, k, rng)
    for _ in range(iterations):
        labels = top_centroids(fit, centroids)[:, 0]
        order = np.argsort(labels, kind="stable")
        present, starts = np.unique(labels[order], return_index=True)
        sums = np.add.reduceat(fit[order], starts, axis=0)
        centroids[present] = _normalise(sums)  # empty clusters keep their old centroid
    return centroids


def cluster_labels(x: np.ndarray | UnitRows, k: int, *, seed: int | Sequence[int]) -> np.ndarray:
    """Hard cluster label of every row."""
    return top_centroids(x, kmeans(x, k, seed=seed))[:, 0]
