"""Pick ``n`` rows of a group: ``random`` (seeded), ``confident`` or ``diverse`` (k-means strata)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from equidata.balance.cluster import UnitRows, cluster_labels
from equidata.errors import ParameterError

STRATEGIES = ("diverse", "random", "confident")


def by_confidence(confidence: np.ndarray) -> np.ndarray:
    """Positions by confidence, highest first; ties keep input order."""
    return np.lexsort((np.arange(len(confidence)), -confidence.astype(np.float64)))


def select(
    strategy: str,
    n: int,
    confidence: np.ndarray,
    *,
    seed: int | Sequence[int],
    vectors: Callable[[], np.ndarray | UnitRows] | None = None,
) -> np.ndarray:
    """Sorted positions (into the group's candidates) of the ``n`` rows kept.

    ``diverse`` fits ``min(n, max(2, isqrt(candidates)))`` seeded k-means clusters on the rows' unit
    embeddings (``vectors()``), then takes rows round-robin across clusters, each cluster in a
    seeded random order, so every cluster gives an equal share until it runs out.
    """
    if strategy not in STRATEGIES:
        raise ParameterError("strategy", f"one of {list(STRATEGIES)}", strategy)
    size = len(confidence)
    if n >= size:
        return np.arange(size)
    if n <= 0:
        return np.arange(0)
    rng = np.random.default_rng(seed)
    if strategy == "confident":
        return np.sort(by_confidence(confidence)[:n])
    if strategy == "random":
        return np.sort(rng.permutation(size)[:n])
    assert vectors is not None, "diverse selection needs embeddings"
    labels = cluster_labels(vectors(), min(n, max(2, math.isqrt(size))), seed=seed)
    shuffled = rng.permutation(size)
    by_cluster = shuffled[np.argsort(labels[shuffled], kind="stable")]  # clusters, each in random order
    clusters = labels[by_cluster]
    rank = np.arange(size) - np.searchsorted(clusters, clusters)  # position inside its cluster
    take = by_cluster[np.lexsort((clusters, rank))[:n]]  # round-robin: rank 0 of every cluster, then rank 1, ...
    return np.sort(take)
