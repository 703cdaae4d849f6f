"""Evaluation metrics: the report from a confusion matrix is the report from the rows."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from equidata.classifier.metrics import classification_report, confusion_counts, confusion_report
from equidata.groups import RISK_GROUPS


def sklearn_on_rows(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """The report as scikit-learn computes it from every row (what evaluate returned before it kept only counts)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = list(range(len(RISK_GROUPS)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4),
        "per_group": {
            g: {"precision": round(float(p[k]), 4), "recall": round(float(r[k]), 4), "f1": round(float(f[k]), 4), "support": int(s[k])}
            for k, g in enumerate(RISK_GROUPS)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def noisy_predictions(n: int, seed: int, right: float = 0.6, shares: tuple[float, ...] = (0.2, 0.3, 0.05, 0.45)) -> tuple[np.ndarray, np.ndarray]:
    """Skewed true groups; each prediction right with probability ``right``, else a random group."""
    rng = np.random.default_rng(seed)
    y = rng.choice(len(shares), size=n, p=shares)
    wrong = rng.integers(0, len(RISK_GROUPS), size=n)
    return y, np.where(rng.random(n) < right, y, wrong)


@pytest.mark.parametrize("n, seed", [(1, 0), (7, 1), (2271, 2), (200_000, 3)])
def test_the_report_from_counts_is_the_report_from_rows(n: int, seed: int) -> None:
    y, pred = noisy_predictions(n, seed)
    got = classification_report(y, pred)
    assert json.dumps(got) == json.dumps(sklearn_on_rows(y, pred))
    assert all(isinstance(v, int) for row in got["confusion"] for v in row)


def test_groups_never_true_or_never_predicted_score_zero_as_before() -> None:
    y, pred = noisy_predictions(500, 4, shares=(0.5, 0.5, 0.0, 0.0))
    pred[pred == 3] = 0  # "none" never predicted; "mixed" predicted but never true
    got = classification_report(y, pred)
    assert got == sklearn_on_rows(y, pred)
    assert got["per_group"]["none"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert got["per_group"]["mixed"]["support"] == 0 and got["per_group"]["mixed"]["precision"] == 0.0


def test_counts_of_chunks_add_up_to_the_whole_file() -> None:
    y, pred = noisy_predictions(10_000, 5)
    chunks = sum(confusion_counts(y[i : i + 4096], pred[i : i + 4096]) for i in range(0, len(y), 4096))
    assert confusion_report(chunks) == sklearn_on_rows(y, pred)
