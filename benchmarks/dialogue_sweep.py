"""Grouped-CV sweep of heads trained on single-turn prompts plus dialogues, scored on both.

Run: ``python benchmarks/dialogue_sweep.py SINGLE DIALOGUES [--team TEAM] [--jobs VARIANT:SEED ...]
[--device cuda] [--workers N] [--deadline SECONDS] [--json FILE] [--tiny N]``

SINGLE is the authors' single-turn labels (``erlhf-beavertails-dev.json``), DIALOGUES the HH file whose
labelled rows are evaluated (``hh-harmless-dialogues.jsonl``), TEAM extra dialogue labels (``idx``,
``label``) used for training only. Each (variant, seed) job runs 5 joint folds: fold k fine-tunes the
shipped recipe on single-turn fold k's training rows, the TEAM dialogues and the labelled dialogues
outside dialogue fold k, then scores the single-turn and dialogue rows of fold k. Both splits are
grouped by normalised text (single-turn folds are the shipped head's), so no prompt or dialogue is
trained and tested on. Each job also keeps its out-of-fold dialogue scores for the last user turn and
for every user turn alone (``--turns last``, ``risk_turn`` and rules over single turns). ``--tiny N``
keeps N rows of each file and one epoch: a smoke test for a CPU.
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
from equidata.classifier import FinetuneParams, finetune  # noqa: E402
from equidata.classifier.metrics import classification_report, macro_f1  # noqa: E402
from equidata.classifier.train import grouped_folds  # noqa: E402
from equidata.text import normalise_text  # noqa: E402
from equidata.embedding import DEFAULT_MODEL  # noqa: E402
from equidata.groups import PAPER_LABEL_MAP, RISK_GROUPS  # noqa: E402
from equidata.schemas import Prompt, detect_schema  # noqa: E402


def _context_text(p: Prompt) -> str:
    """All turns, role-prefixed, most recent first (the assistant's turns as context)."""
    msgs = [*p.context, {"role": "user", "content": p.text}]
    return "\n".join(f"{m['role']}: {m['content']}" for m in reversed(msgs))


TEXTS = {
    "users": lambda p: p.classified_text("all"),
    "chrono": lambda p: "\n".join(p.user_turns),
    "context": _context_text,
    "last": lambda p: p.classified_text("last"),
}

#: text: how a dialogue is read; team / shared: train on TEAM rows / on the labelled dialogues outside the fold;
#: repeat: dialogue rows repeated in training; params: changes to the shipped FinetuneParams.
VARIANTS: dict[str, dict[str, Any]] = {
    "single-only": {"team": False, "shared": False},
    "mix": {},
    "mix-x2": {"repeat": 2},
    "mix-noteam": {"team": False},
    "mix-team-only": {"shared": False},
    "mix-chrono": {"text": "chrono"},
    "mix-context": {"text": "context"},
    "mix-last": {"text": "last"},
    "mix-e5": {"params": {"epochs": 5}},
}


def load(single: str, dialogues: str, team: str | None, tiny: int) -> dict[str, Any]:
    """Single-turn texts and labels, the labelled dialogues' prompts, the team dialogues' prompts."""
    st = load_labelled(single)
    rows = [json.loads(line) for line in Path(dialogues).read_text(encoding="utf-8").splitlines() if line.strip()]
    schema = detect_schema(rows[0])
    by_idx = {r["idx"]: r for r in rows}
    shared = [r for r in rows if r.get("label")]
    extra = []
    if team:
        extra = [json.loads(line) for line in Path(team).read_text(encoding="utf-8").splitlines() if line.strip()]
    keys = {normalise_text(schema.prompt(r).classified_text()) for r in shared}
    extra = [t for t in extra if normalise_text(schema.prompt(by_idx[t["idx"]]).classified_text()) not in keys]
    if tiny:
        st.texts, st.y, shared, extra = st.texts[:tiny], st.y[:tiny], shared[:tiny], extra[:tiny]
    group = lambda lab: RISK_GROUPS.index(PAPER_LABEL_MAP[lab])  # noqa: E731
    return {
        "st_texts": st.texts, "st_y": st.y,
        "d_prompts": [schema.prompt(r) for r in shared], "d_y": np.array([group(r["label"]) for r in shared]),
        "t_prompts": [schema.prompt(by_idx[t["idx"]]) for t in extra], "t_y": np.array([group(t["label"]) for t in extra], dtype=np.int64),
    }


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _scores(y: np.ndarray, pred: np.ndarray, folds: list[np.ndarray]) -> dict[str, float]:
    return {
        "macro_f1": round(float(np.mean([macro_f1(y[te], pred[te]) for te in folds])), 4),
        "accuracy": round(float(np.mean([np.mean(pred[te] == y[te]) for te in folds])), 4),
    }


def run_job(job: tuple[dict[str, Any], str, int, str, str, float, bool]) -> dict[str, Any] | None:
    """One (variant, seed): 5 joint folds; None once the deadline has passed."""
    data, variant, seed, model, device, deadline, tiny = job
    if time.time() > deadline:
        return None
    spec = {"text": "users", "team": True, "shared": True, "repeat": 1, "params": {}, **VARIANTS[variant]}
    params = replace(FinetuneParams(), seed=seed, **({"epochs": 1} if tiny else {}), **spec["params"])
    text = TEXTS[spec["text"]]
    st_texts, st_y, d_y, t_y = data["st_texts"], data["st_y"], data["d_y"], data["t_y"]
    d_texts = [text(p) for p in data["d_prompts"]]
    t_texts = [text(p) for p in data["t_prompts"]]
    d_last = [p.classified_text("last") for p in data["d_prompts"]]
    d_turns = [p.user_turns for p in data["d_prompts"]]
    st_folds = grouped_folds(st_y, st_texts, 5, 0)
    d_folds = grouped_folds(d_y, [p.classified_text() for p in data["d_prompts"]], 5, 0)
    k = len(RISK_GROUPS)
    st_p, d_p, last_p = np.zeros((len(st_y), k)), np.zeros((len(d_y), k)), np.zeros((len(d_y), k))
    turn_p: list[list[list[float]]] = [[] for _ in d_y]
    start = time.perf_counter()
    for (st_tr, st_te), (d_tr, d_te) in zip(st_folds, d_folds):
        texts = [st_texts[i] for i in st_tr]
        y = [st_y[st_tr]]
        for _ in range(spec["repeat"]):
            if spec["team"]:
                texts += t_texts
                y.append(t_y)
            if spec["shared"]:
                texts += [d_texts[i] for i in d_tr]
                y.append(d_y[d_tr])
        ft = finetune(texts, np.concatenate(y), params, model=model, device=device)
        st_p[st_te] = ft.predict_proba([st_texts[i] for i in st_te])
        flat = [t for i in d_te for t in d_turns[i]]
        probs = ft.predict_proba([d_texts[i] for i in d_te] + [d_last[i] for i in d_te] + flat)
        d_p[d_te], last_p[d_te] = probs[: len(d_te)], probs[len(d_te) : 2 * len(d_te)]
        pos = 2 * len(d_te)
        for i in d_te:
            turn_p[i] = probs[pos : pos + len(d_turns[i])].round(4).tolist()
            pos += len(d_turns[i])
    d_te_folds = [te for _, te in d_folds]
    return {
        "variant": variant, "seed": seed, "spec": spec, "params": asdict(params), "model": model, "device": device,
        "rows": {"single": len(st_y), "dialogues": len(d_y), "team": len(t_y) if spec["team"] else 0},
        "single_turn": _scores(st_y, st_p.argmax(1), [te for _, te in st_folds]),
        "dialogue": _scores(d_y, d_p.argmax(1), d_te_folds),
        "dialogue_last_turn": _scores(d_y, last_p.argmax(1), d_te_folds),
        "dialogue_pooled": classification_report(d_y, d_p.argmax(1)),
        "seconds": round(time.perf_counter() - start, 1),
        "oof": {"y": d_y.tolist(), "dialogue": d_p.round(4).tolist(), "last": last_p.round(4).tolist(), "turns": turn_p},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("single")
    ap.add_argument("dialogues")
    ap.add_argument("--team", help="extra dialogue labels (idx, label), training only")
    ap.add_argument("--jobs", nargs="+", default=[f"{v}:0" for v in VARIANTS], help="VARIANT:SEED pairs, in start order (default: every variant, seed 0)")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--deadline", type=float, default=float("inf"), help="seconds after which no job starts")
    ap.add_argument("--json", type=Path, help="one JSON line per finished job (the file is replaced)")
    ap.add_argument("--tiny", type=int, default=0, help="keep this many rows of each file, one epoch (smoke test)")
    a = ap.parse_args()
    deadline = time.time() + a.deadline
    data = load(a.single, a.dialogues, a.team, a.tiny)
    if a.json:
        a.json.write_text("", encoding="utf-8")
    pairs = [(v, int(s)) for v, _, s in (j.partition(":") for j in a.jobs)]
    unknown = [v for v, _ in pairs if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variants {unknown}; known: {list(VARIANTS)}")
    jobs = [(data, v, s, a.model, a.device, deadline, bool(a.tiny)) for v, s in pairs]
    threads = max(1, (os.cpu_count() or 1) // a.workers)
    with multiprocessing.get_context("spawn").Pool(a.workers, initializer=_init_worker, initargs=(threads,)) as pool:
        for r in pool.imap_unordered(run_job, jobs):
            if r is None:
                continue
            print(f"{r['variant']} seed {r['seed']}: single {r['single_turn']} dialogue {r['dialogue']} last {r['dialogue_last_turn']} ({r['seconds']}s)", flush=True)
            if a.json:
                with a.json.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
