"""``chunk_risk_fields`` gives, row for row, the fields (and so the bytes) the per-row function gave."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from equidata.classifier.head import load_head
from equidata.classifier.predict import chunk_risk_fields, risk_fields, round_scores
from equidata.groups import RISK_GROUPS


def reference(probs: np.ndarray, risk_turn: int) -> dict[str, Any]:
    """The per-row implementation classify used before the chunk one (the oracle)."""
    scores = {g: round(float(p), 6) for g, p in zip(RISK_GROUPS, probs)}
    best = int(np.argmax(probs))
    return {"risk_group": RISK_GROUPS[best], "risk_scores": scores, "risk_confidence": scores[RISK_GROUPS[best]], "risk_turn": risk_turn}


def head_probabilities(n: int, seed: int) -> np.ndarray:
    """What the shipped head gives for ``n`` unit vectors of its embedding size (float32, as in classify)."""
    head = load_head()
    x = np.random.default_rng(seed).normal(size=(n, head.config.embedding_dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return head.predict_proba(x)


def awkward_probabilities() -> np.ndarray:
    """Ties (the first maximum wins), exact halves at the 6th decimal, 0 and 1, tiny values, float64."""
    rows = [[0.25, 0.25, 0.25, 0.25], [0.1, 0.4, 0.4, 0.1], [0.0, 0.0, 1.0, 0.0], [0.0000005, 0.4999995, 0.2500005, 0.25],
            [1e-9, 1e-7, 0.3333333, 0.6666667], [0.1234565, 0.1234575, 0.5, 0.2530860],
            [1 / 128, 3 / 128, 5 / 128, 119 / 128]]  # exact halves of 1e-6 in binary: ties, to even
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunk_fields_equal_per_row_fields_on_head_output(dtype: type) -> None:
    probs = head_probabilities(4000, seed=7).astype(dtype)
    turns = [k % 3 for k in range(len(probs))]
    got = chunk_risk_fields(probs, turns)
    want = [reference(p, t) for p, t in zip(probs, turns)]
    assert got == want
    assert [json.dumps(g) for g in got] == [json.dumps(w) for w in want]  # same floats, same key order, same bytes
    assert {g["risk_group"] for g in got} == set(RISK_GROUPS)  # the head's output covers every group


def test_chunk_fields_on_ties_and_rounding_edges() -> None:
    for dtype in (np.float32, np.float64):
        probs = awkward_probabilities().astype(dtype)
        got = chunk_risk_fields(probs, range(len(probs)))
        assert [json.dumps(g) for g in got] == [json.dumps(reference(p, t)) for t, p in enumerate(probs)]
    assert chunk_risk_fields(awkward_probabilities()[:2], [0, 0])[1]["risk_group"] == "implicit"  # first of the tied maxima


def test_single_row_fields_and_an_empty_chunk() -> None:
    probs = head_probabilities(50, seed=1)
    assert [risk_fields(p, 2) for p in probs] == [reference(p, 2) for p in probs]
    assert risk_fields([0.1, 0.2, 0.3, 0.4]) == reference(np.array([0.1, 0.2, 0.3, 0.4]), 0)
    assert chunk_risk_fields(np.zeros((0, len(RISK_GROUPS)), dtype=np.float32), []) == []


def test_vectorised_rounding_is_pythons_round_for_every_kind_of_float32() -> None:
    rng = np.random.default_rng(19)
    spread = (rng.random(200_000, dtype=np.float32) ** 6).astype(np.float32)  # many tiny values, as confident heads give
    halves = ((rng.integers(0, 10**6, 50_000) + 0.5) / 1e6).astype(np.float32)  # the float32 nearest each half-way point
    around = np.concatenate([np.nextafter(halves, np.float32(0)), halves, np.nextafter(halves, np.float32(1))])
    special = np.array([0.0, -0.0, 1.0, 1e-45, 5e-7, 1.5e-6, 2.5e-6, 1 / 128, 3 / 128, np.nan, np.inf, 3e38], dtype=np.float32)
    x = np.concatenate([spread, around, special]).reshape(-1, 4)
    want = [[round(p, 6) for p in row] for row in x.tolist()]
    assert [list(map(repr, r)) for r in round_scores(x)] == [list(map(repr, r)) for r in want]
    assert [list(map(repr, r)) for r in round_scores(x.astype(np.float64))] == [list(map(repr, r)) for r in want]  # float64: Python's round
