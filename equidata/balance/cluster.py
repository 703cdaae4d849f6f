"""Seeded spherical k-means on unit vectors, written for byte-stable results.

Used twice by ``balance``: to block near-duplicate search (so it is not all-pairs) and to spread a
group's selection evenly over topics (``--strategy diverse``). Centroids are seeded by k-means++
and fitted on a seeded sample of at most ``sample`` rows; then every row is assigned to its most
similar centroid(s), :data:`_BLOCK` rows at a time: exactly below :data:`COARSE_FROM` centroids,
through a two-level :class:`CoarseIndex` from there on, so the assignment of ``n`` rows to
``k ~ n`` centroids costs ``n * sqrt(k)`` products rather than ``n * k``.

The rows come as an array or as any :class:`UnitRows` (e.g. a memory-mapped embeddings file read
in blocks), so no function here needs all the rows in memory at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

_BLOCK = 8192
COARSE_FROM = 1024  # centroids from which rows are assigned through a CoarseIndex (4x fewer products there)
COARSE_PROBES = 16  # coarse groups searched per row


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


def _best(sims: np.ndarray, probes: int) -> np.ndarray:
    """Column indices of each row's ``probes`` largest values, largest first."""
    if probes == 1:
        return sims.argmax(axis=1)[:, None]
    part = np.argpartition(-sims, probes - 1, axis=1)[:, :probes]
    order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


class CoarseIndex:
    """Centroids grouped under ``isqrt(COARSE_PROBES * k)`` coarse centroids, for near-linear assignment.

    A row is compared with every coarse centroid, then only with the centroids grouped under its
    :data:`COARSE_PROBES` most similar coarse ones: about ``2 * sqrt(COARSE_PROBES * k)`` dot
    products instead of ``k``. The groups are a seeded k-means of the centroids themselves, each
    coarse centroid the normalised mean of its group, so the index is a function of the centroids.
    """

    def __init__(self, centroids: np.ndarray) -> None:
        coarse = kmeans(centroids, math.isqrt(COARSE_PROBES * len(centroids)), seed=0)
        group = top_centroids(centroids, coarse, exact=True)[:, 0]
        self.ids = np.argsort(group, kind="stable")  # centroid ids, group by group
        self.fine = centroids[self.ids]
        _, self.starts, self.sizes = np.unique(group[self.ids], return_index=True, return_counts=True)
        self.coarse = _normalise(np.add.reduceat(self.fine, self.starts, axis=0))  # empty groups dropped
        self.probes = min(COARSE_PROBES, len(self.coarse))

    def nearest(self, xb: np.ndarray, probes: int) -> np.ndarray:
        """``(len(xb), probes)`` centroid ids, best first, among the groups of each row's nearest coarse centroids."""
        cells = _best(xb @ self.coarse.T, self.probes).ravel()  # (row, probe) pairs, row-major
        width = int(self.sizes.max())
        sims = np.full((len(cells), width), -np.inf, dtype=np.float32)
        by_cell = np.argsort(cells, kind="stable")
        bounds = np.searchsorted(cells[by_cell], np.arange(len(self.coarse) + 1))
        for c in np.flatnonzero(np.diff(bounds)).tolist():  # one product per coarse group
            pairs, s, m = by_cell[bounds[c] : bounds[c + 1]], int(self.starts[c]), int(self.sizes[c])
            sims[pairs, :m] = xb[pairs // self.probes] @ self.fine[s : s + m].T
        best = _best(sims.reshape(len(xb), -1), probes)  # padding is -inf, never among the best
        pair = np.arange(len(xb))[:, None] * self.probes + best // width
        return self.ids[self.starts[cells[pair]] + best % width]


def top_centroids(x: np.ndarray | UnitRows, centroids: np.ndarray, probes: int = 1, *, exact: bool = False) -> np.ndarray:
    """``(n, probes)`` indices of each row's most similar centroids, best first, :data:`_BLOCK` rows at a time.

    From :data:`COARSE_FROM` centroids on (unless ``exact``) through a :class:`CoarseIndex`: each
    row's best centroids among the groups of its nearest coarse centroids, near-linear in ``n``.
    """
    rows = as_rows(x)
    index = CoarseIndex(centroids) if not exact and len(centroids) >= COARSE_FROM else None
    out = np.empty((len(rows), probes), dtype=np.int64)
    # the index makes many small products, for which BLAS threads cost more than they give
    with nullcontext() if index is None else threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(rows), _BLOCK):
            xb = rows.take(np.arange(start, min(start + _BLOCK, len(rows))))
            out[start : start + _BLOCK] = _best(xb @ centroids.T, probes) if index is None else index.nearest(xb, probes)
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
        labels = top_centroids(fit, centroids, exact=True)[:, 0]
        order = np.argsort(labels, kind="stable")
        present, starts = np.unique(labels[order], return_index=True)
        sums = np.add.reduceat(fit[order], starts, axis=0)
        centroids[present] = _normalise(sums)  # empty clusters keep their old centroid
    return centroids


def cluster_labels(x: np.ndarray | UnitRows, k: int, *, seed: int | Sequence[int]) -> np.ndarray:
    """Hard cluster label of every row."""
    return top_centroids(x, kmeans(x, k, seed=seed))[:, 0]
