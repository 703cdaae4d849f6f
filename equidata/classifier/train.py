"""Fit a risk head on embeddings, tune its prior correction, and cross-validate it honestly.

Cross-validation folds are grouped by normalised prompt text, so a duplicated prompt never sits
on both sides of a split (the shared BeaverTails file has ~500 duplicates with conflicting labels).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from equidata.classifier.head import HeadConfig, RiskHead
from equidata.classifier.metrics import classification_report, macro_f1
from equidata.classifier.settings import TrainParams, weight_exponent
from equidata.errors import ParameterError
from equidata.groups import RISK_GROUPS
from equidata.text import normalise_text

_BIAS_GRID = np.linspace(-2.0, 2.0, 41)


def _soft_targets(y: np.ndarray, texts: list[str], soft_dedup: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row indices to train on and their target distributions (one row per duplicate group if soft)."""
    k = len(RISK_GROUPS)
    if not soft_dedup:
        return np.arange(len(y)), np.eye(k, dtype=np.float32)[y]
    _, first, inverse = np.unique([normalise_text(t) for t in texts], return_index=True, return_inverse=True)
    sums = np.zeros((len(first), k))
    np.add.at(sums, inverse.ravel(), np.eye(k)[y])
    return first, (sums / sums.sum(axis=1, keepdims=True)).astype(np.float32)


def class_weights(counts: np.ndarray, class_weight: str | float | None) -> torch.Tensor:
    """Per-group loss weights from (possibly fractional) group counts; see :class:`TrainParams`."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 1e-9)
    return torch.tensor((counts.sum() / (len(counts) * counts)) ** weight_exponent(class_weight), dtype=torch.float32)


@contextmanager
def _one_thread() -> Iterator[None]:
    """Small-matrix training is fastest, and contention-free, on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@_one_thread()
def _fit_net(X: np.ndarray, y: np.ndarray, texts: list[str], params: TrainParams, config: HeadConfig) -> RiskHead:
    """Soft-target cross-entropy, AdamW with a one-cycle schedule, seeded init and shuffling."""
    rows, targets = _soft_targets(y, texts, params.soft_dedup)
    torch.manual_seed(params.seed)
    head = RiskHead(config)
    xt, tt = torch.as_tensor(X[rows], dtype=torch.float32), torch.as_tensor(targets)
    weights = class_weights(targets.sum(axis=0), params.class_weight)
    steps_per_epoch = -(-len(rows) // params.batch_size)
    opt = torch.optim.AdamW(head.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=params.lr, total_steps=params.epochs * steps_per_epoch, pct_start=0.1)
    gen = torch.Generator().manual_seed(params.seed)
    head.train()
    for _ in range(params.epochs):
        perm = torch.randperm(len(rows), generator=gen)
        for start in range(0, len(perm), params.batch_size):
            idx = perm[start : start + params.batch_size]
            loss = -(tt[idx] * weights * head.raw_log_proba(xt[idx])).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return head.eval()


def tune_bias(log_proba: np.ndarray, y: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Per-group additive log-prior correction that maximises macro-F1 (coordinate ascent on a grid)."""
    bias = np.zeros(log_proba.shape[1])
    best = macro_f1(y, np.argmax(log_proba, axis=1))
    for _ in range(rounds):
        for k in range(len(bias)):
            for value in _BIAS_GRID:
                trial = bias.copy()
                trial[k] = value
                score = macro_f1(y, np.argmax(log_proba + trial, axis=1))
                if score > best + 1e-9:
                    best, bias = score, trial
    return bias


def grouped_folds(y: np.ndarray, texts: Sequence[str], folds: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified (train, test) row indices where no normalised prompt text is on both sides."""
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.array([normalise_text(t) for t in texts])
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def fit_head(X: np.ndarray, y: np.ndarray, texts: list[str], params: TrainParams, *, embedding_model: str) -> RiskHead:
    """Fit a head on ``X`` (n, dim) and group indices ``y``.

    With ``tune_bias`` the prior correction is tuned on out-of-fold predictions of an inner
    3-fold split (grouped by normalised text), never on rows the net was fitted on.
    """
    config = HeadConfig(
        embedding_model=embedding_model,
        embedding_dim=int(X.shape[1]),
        design=params.design,
        hidden=params.hidden,
        dropout=params.dropout,
        training=asdict(params),
    )
    head = _fit_net(X, y, texts, params, config)
    if params.tune_bias:
        oof = np.zeros((len(y), len(RISK_GROUPS)))
        for tr, te in grouped_folds(y, texts, 3, params.seed):
            inner = _fit_net(X[tr], y[tr], [texts[i] for i in tr], params, config)
            with torch.inference_mode():
                oof[te] = inner.raw_log_proba(torch.as_tensor(X[te])).numpy()
        head.bias.copy_(torch.as_tensor(tune_bias(oof, y), dtype=torch.float32))
    return head


FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def cross_validate(fit_predict: FitPredict, y: np.ndarray, texts: Sequence[str], *, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Grouped K-fold CV: per-fold macro-F1/accuracy (mean and std) and a pooled report.

    ``fit_predict(train_rows, test_rows)`` fits on the training rows and returns probabilities for
    the test rows; folds never split a normalised prompt text.
    """
    if folds < 2:
        raise ParameterError("folds", "an integer >= 2", folds)
    pred = np.zeros(len(y), dtype=np.int64)
    f1s, accs = [], []
    for tr, te in grouped_folds(y, texts, folds, seed):
        pred[te] = fit_predict(tr, te).argmax(axis=1)
        f1s.append(macro_f1(y[te], pred[te]))
        accs.append(float(np.mean(pred[te] == y[te])))
    return {
        "folds": folds,
        "grouped_by": "normalised prompt text",
        "macro_f1_mean": round(float(np.mean(f1s)), 4),
        "macro_f1_std": round(float(np.std(f1s)), 4),
        "accuracy_mean": round(float(np.mean(accs)), 4),
        "accuracy_std": round(float(np.std(accs)), 4),
        "pooled": classification_report(y, pred),
    }
