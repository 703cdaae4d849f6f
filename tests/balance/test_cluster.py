"""balance k-means assignment: the two-level CoarseIndex against exact nearest centroids."""

from __future__ import annotations

import numpy as np

from equidata.balance import cluster
from equidata.balance.cluster import CoarseIndex, kmeans, top_centroids

DIM, TOPICS = 64, 300


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def topics(n: int, seed: int = 0) -> np.ndarray:
    """Unit rows around ``TOPICS`` random topic directions (cosine ~0.9 to their topic), as float32."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(TOPICS, DIM)))
    return _unit(centres[rng.integers(TOPICS, size=n)] + 0.5 * rng.normal(size=(n, DIM)) / np.sqrt(DIM)).astype(np.float32)


def test_coarse_index_agrees_with_exact_assignment_and_is_deterministic() -> None:
    x = topics(20000)
    centroids = kmeans(x, cluster.COARSE_FROM, seed=0, iterations=2, sample=6000)
    exact = top_centroids(x, centroids, 2, exact=True)
    fast = top_centroids(x, centroids, 2)
    assert np.array_equal(fast, CoarseIndex(centroids).nearest(x, 2))  # from COARSE_FROM centroids on, the index is used
    assert np.array_equal(fast, top_centroids(x, centroids, 2))
    assert (fast[:, 0] == exact[:, 0]).mean() >= 0.99  # nearest block
    assert (fast == exact[:, :1]).any(axis=1).mean() >= 0.995  # the nearest block is one of the row's two
    assert (fast[:, 0] != fast[:, 1]).all()
    sims = np.einsum("nd,npd->np", x, centroids[fast])
    assert (sims[:, 0] >= sims[:, 1]).all()  # best first


def test_fewer_centroids_than_the_coarse_limit_are_assigned_exactly() -> None:
    x = topics(3000, seed=1)
    centroids = kmeans(x, 50, seed=0)
    sims = x @ centroids.T
    assert np.array_equal(top_centroids(x, centroids)[:, 0], sims.argmax(axis=1))
    assert np.array_equal(top_centroids(x, centroids, 3), np.argsort(-sims, axis=1, kind="stable")[:, :3])
