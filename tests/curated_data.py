"""Realistic classify / balance / annotate-masks outputs built from the examples without the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from equidata.balance import BalanceParams, balance_file
from equidata.groups import RISK_GROUPS

ROOT = Path(__file__).resolve().parents[1]
RATIO = "explicit=3,implicit=3,mixed=1,none=2"


def _examples(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (ROOT / "examples" / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def classified_rows(seed: int = 0) -> list[dict[str, Any]]:
    """The example prompts with the fields `classify` adds: the expected group wins with a seeded confidence."""
    rng = np.random.default_rng(seed)
    rows = []
    for row in _examples("prompts.jsonl"):
        scores = rng.dirichlet(np.ones(len(RISK_GROUPS)))
        top = float(scores.max())
        named = dict(zip(RISK_GROUPS, scores.tolist()))
        winner = row["expected_group"]
        named[winner], named[max(named, key=named.get)] = top, named[winner]
        rows.append({**row, "risk_group": winner, "risk_scores": {g: round(v, 6) for g, v in named.items()}, "risk_confidence": round(top, 6)})
    return rows


def mask_rows(all_ones: bool = False) -> list[dict[str, Any]]:
    """The example pairs as annotate-masks writes them, words standing in for tokens: one segment per sentence."""
    rows = []
    for k, pair in enumerate(_examples("pairs.jsonl")):
        out = {**pair, "risk_group": RISK_GROUPS[k % 4], "risk_confidence": 0.7}
        for side, sign in (("chosen", 1.0), ("rejected", -1.0)):
            text = pair[side]
            segments, start = [], 0
            for n, sentence in enumerate(text.split(". ")):
                end = start + len(sentence)
                kept = all_ones or n != 0
                segments.append({"start": start, "end": end, "value": sign * (0.5 if kept else -0.2), "weight": 1.0 if kept else 0.0})
                start = end + 2
            weights = [seg["weight"] for seg in segments for _ in text[seg["start"] : seg["end"]].split()]
            out[f"{side}_segments"] = segments
            out[f"{side}_token_ids"] = list(range(1000, 1000 + len(weights)))
            out[f"{side}_token_weights"] = weights
            out[f"{side}_token_reward"] = [0.5 * sign if w else -0.2 * sign for w in weights]
        out["ama_fallback"] = False
        rows.append(out)
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def curated(folder: Path) -> dict[str, Path]:
    """classified.jsonl, a balanced mix.jsonl with its manifest, and pairs.ama.jsonl in ``folder``."""
    files = {
        "classified": write_jsonl(folder / "classified.jsonl", classified_rows()),
        "mix": folder / "mix.jsonl",
        "manifest": folder / "mix.manifest.jsonl",
        "masks": write_jsonl(folder / "pairs.ama.jsonl", mask_rows()),
    }
    balance_file(files["classified"], files["mix"], BalanceParams(ratio=RATIO, shortfall="fill", dedup=False, strategy="random"), manifest=files["manifest"])
    return files
