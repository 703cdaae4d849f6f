"""Classification metrics over the four risk groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from equidata.groups import RISK_GROUPS


def confusion_counts(y_true: Sequence[int], y_pred: Sequence[int]) -> np.ndarray:
    """The ``(4, 4)`` confusion matrix of group indices: ``[i][j]`` counts true ``i`` predicted ``j``."""
    k = len(RISK_GROUPS)
    cells = np.asarray(y_true, dtype=np.int64) * k + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(cells, minlength=k * k).reshape(k, k)


def classification_report(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-group precision/recall/F1/support and the confusion matrix.

    Labels are indices into :data:`RISK_GROUPS`; ``confusion[i][j]`` counts true ``i`` predicted ``j``.
    """
    return confusion_report(confusion_counts(y_true, y_pred))


def confusion_report(confusion: np.ndarray) -> dict[str, Any]:
    """:func:`classification_report` from the confusion matrix alone (16 counts, whatever the number of rows).

    scikit-learn is given each cell once, weighted by its count: its sums of weights are exact
    integers, so every score is the same float as from the rows themselves.
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = list(range(len(RISK_GROUPS)))
    y_true, y_pred = np.nonzero(confusion)
    weight = confusion[y_true, y_pred]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0, sample_weight=weight)
    return {
        "n": int(confusion.sum()),
        "accuracy": round(float(accuracy_score(y_true, y_pred, sample_weight=weight)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0, sample_weight=weight)), 4),
        "per_group": {
            g: {"precision": round(float(p[k]), 4), "recall": round(float(r[k]), 4), "f1": round(float(f[k]), 4), "support": int(s[k])}
            for k, g in enumerate(RISK_GROUPS)
        },
        "confusion": confusion.tolist(),
    }


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 over the four groups (fast path used when tuning the prior correction)."""
    scores = []
    for k in range(len(RISK_GROUPS)):
        tp = np.sum((y_pred == k) & (y_true == k))
        denom = np.sum(y_pred == k) + np.sum(y_true == k)
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))
