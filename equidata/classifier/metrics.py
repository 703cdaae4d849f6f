"""Classification metrics over the four risk groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from equidata.groups import RISK_GROUPS


def classification_report(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-group precision/recall/F1/support and the confusion matrix.

    Labels are indices into :data:`RISK_GROUPS`; ``confusion[i][j]`` counts true ``i`` predicted ``j``.
    """
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


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 over the four groups (fast path used when tuning the prior correction)."""
    scores = []
    for k in range(len(RISK_GROUPS)):
        tp = np.sum((y_pred == k) & (y_true == k))
        denom = np.sum(y_pred == k) + np.sum(y_true == k)
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))
