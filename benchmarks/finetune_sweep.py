"""Grouped-CV sweep of ``train --encoder finetune`` settings, several seeds each.

Run: ``python benchmarks/finetune_sweep.py LABELS [--variants shipped e3 ...] [--seeds 0 1 2]
[--model NAME_OR_PATH] [--device cuda] [--workers N] [--deadline SECONDS] [--json FILE]``

Each (variant, seed) job is a full grouped 5-fold cross-validation of the shipped
:class:`FinetuneParams` changed as the variant says, fitted through :func:`recipe_fitter` as
``make head`` fits. Seeds change initialisation and batch order; the folds stay those of seed 0 (the
shipped head's) for every seed, so all jobs are scored on the same splits and the spread over seeds
is the noise a setting must beat. ``--workers`` runs jobs in parallel processes (on one H100, 9 workers gave about 3x the
throughput of one); ``--deadline`` stops starting jobs after that many seconds. Not part of
``make bench``: on 2 CPU cores one job takes about 7 minutes, on an H100 about 30 seconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from equidata.classifier.data import load_labelled  # noqa: E402
from equidata.classifier.settings import FinetuneParams  # noqa: E402
from equidata.classifier.api import recipe_fitter  # noqa: E402
from equidata.classifier.train import cross_validate  # noqa: E402
from equidata.embedding import DEFAULT_MODEL  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "e3": {"epochs": 3},
    "e6-lr3e-5": {"epochs": 6, "lr": 3e-5},
    "lr1e-4": {"lr": 1e-4},
    "head-lr3e-4": {"head_lr": 3e-4},
    "dropout0.3": {"dropout": 0.3},
    "batch16": {"batch_size": 16},
    "cw-none": {"class_weight": "none"},
    "cw-sqrt": {"class_weight": "sqrt"},
}


def _init_worker(threads: int) -> None:
    """Split the CPU cores between workers: oversubscribed OpenMP threads slow every job several-fold."""
    import torch

    torch.set_num_threads(threads)


def run_job(job: tuple[str, str, str, int, str, float]) -> dict[str, Any] | None:
    """Cross-validate one (variant, seed); None once the deadline (a wall-clock time) has passed."""
    labels, model, variant, seed, device, deadline = job
    if time.time() > deadline:
        return None
    data = load_labelled(labels)
    params = replace(FinetuneParams(), seed=seed, **VARIANTS[variant])
    start = time.perf_counter()
    fit = recipe_fitter(params, data.texts, data.y, model=model, device=device, batch_size=None)
    cv = cross_validate(lambda tr, te: fit(tr)[2](te), data.y, data.texts, folds=5, seed=0)
    return {
        "variant": variant, "seed": seed, "params": asdict(params), "model": model, "device": device,
        "macro_f1": cv["macro_f1_mean"], "accuracy": cv["accuracy_mean"], "seconds": round(time.perf_counter() - start, 1),
    }


def summarise(results: list[dict[str, Any]]) -> list[str]:
    """One line per variant: mean and spread over seeds, best accuracy first."""
    by: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by.setdefault(r["variant"], []).append(r)
    lines = [f"{'variant':<12} seeds  macro-F1 (mean ± sd)  accuracy (mean ± sd)"]
    for name, rs in sorted(by.items(), key=lambda kv: -np.mean([r["accuracy"] for r in kv[1]])):
        f1, acc = [r["macro_f1"] for r in rs], [r["accuracy"] for r in rs]
        lines.append(f"{name:<12} {len(rs):>5}  {np.mean(f1):.3f} ± {np.std(f1):.3f}        {np.mean(acc):.3f} ± {np.std(acc):.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", help="labelled prompts, e.g. ../shared/data/erlhf-beavertails-dev.json")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--model", default=DEFAULT_MODEL, help="embedding model to fine-tune (name or folder)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--deadline", type=float, default=float("inf"), help="seconds after which no job starts")
    ap.add_argument("--json", type=Path, help="write one JSON line per finished job here (the file is replaced)")
    a = ap.parse_args()
    deadline = time.time() + a.deadline
    if a.json:
        a.json.write_text("", encoding="utf-8")  # filled as jobs finish, so a killed run keeps what it had
    jobs = [(a.labels, a.model, v, s, a.device, deadline) for s in a.seeds for v in a.variants]
    results = []
    threads = max(1, (os.cpu_count() or 1) // a.workers)
    with multiprocessing.get_context("spawn").Pool(a.workers, initializer=_init_worker, initargs=(threads,)) as pool:
        for r in pool.imap_unordered(run_job, jobs):
            if r is None:
                continue
            results.append(r)
            print(f"{r['variant']} seed {r['seed']}: macro-F1 {r['macro_f1']:.4f} accuracy {r['accuracy']:.4f} ({r['seconds']}s)", flush=True)
            if a.json:
                with a.json.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r) + "\n")
    print("\n".join(summarise(results)), flush=True)


if __name__ == "__main__":
    main()
