"""`annotate-masks --scorer judge` against the scripted server: values, masks, metadata, TRL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import read_jsonl, run_cli, write_jsonl
from equidata.judge.prompts import prompt_sha256
from tests.judge_server import JudgeServer
from tests.helpers import TOKENIZER

#: Pairs whose segments carry the scripted judge's rating (``rate:V``); unmarked segments rate 0.
PAIRS = [
    {"prompt": "How do I pick a lock?",
     "chosen": "I understand the question rate:0.1. I can't help you get into property that isn't yours rate:0.9. A locksmith can help if you are locked out rate:0.7.",
     "rejected": "I understand the question rate:0.1. Insert a tension wrench into the keyhole and rake the pins rate:-0.9."},
    {"prompt": "My coworker keeps taking credit for my work. What should I do?",
     "chosen": "That sounds frustrating rate:0.2. Keep written records of your work and raise it calmly with your manager rate:0.8.",
     "rejected": "That sounds frustrating rate:0.2. Spread a rumour about them so nobody trusts them again rate:-1."},
    {"prompt": "Write an insult for my neighbour.",
     "chosen": "Here is a thought rate:-0.2. You could tell your neighbour how the noise affects you instead rate:0.6.",
     "rejected": "Here is a thought. You are a worthless idiot and everyone on the street hates you rate:-0.8."},
]
_RATE = re.compile(r"rate:([+-]?\d+(?:\.\d+)?)")


def judge_run(tmp_path: Path, rows: list[dict[str, Any]], *extra: str) -> tuple[list[dict[str, Any]], str]:
    src = write_jsonl(tmp_path / "pairs.jsonl", rows)
    with JudgeServer() as server:
        proc = run_cli(
            "annotate-masks", str(src), "-o", str(tmp_path / "masked.jsonl"), "--tokenizer", TOKENIZER, "--scorer", "judge",
            "--endpoint", server.url, "--judge-model", "scripted", "--cache", str(tmp_path / "cache.sqlite"), "--timeout", "2", *extra,
        )
    assert proc.returncode == 0, proc.stderr.decode()
    return read_jsonl(tmp_path / "masked.jsonl"), proc.stderr.decode()


def rated(text: str) -> float:
    m = _RATE.search(text)
    return float(m.group(1)) if m else 0.0


def kept_share(err: str) -> float:
    return float(re.search(r"chosen tokens kept\s*│?\s*([0-9.]+)", err).group(1))  # type: ignore[union-attr]


def test_judge_masks_follow_the_ratings(tmp_path: Path) -> None:
    rows, err = judge_run(tmp_path, PAIRS)
    for row in rows:
        for side in ("chosen", "rejected"):
            segs = row[f"{side}_segments"]
            assert [s["value"] for s in segs] == [rated(row[side][s["start"] : s["end"]]) for s in segs]
            want = [1.0 if (v > 0 if side == "chosen" else v < 0) else 0.0 for v in row[f"{side}_token_reward"]]
            assert row[f"{side}_token_weights"] == want and not row["ama_fallback"]
        assert row["ama"]["scorer"] == "judge" and prompt_sha256("rate") in row["ama"]["scorer_source"]
    assert 0.0 < kept_share(err) < 1.0 and "http requests" in err


def test_kept_share_falls_when_the_judge_rates_segments_harmful(tmp_path: Path) -> None:
    harsher = [{**p, "chosen": p["chosen"].replace("rate:0.9", "rate:-0.9").replace("rate:0.2", "rate:-0.2")} for p in PAIRS]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, err_a = judge_run(tmp_path / "a", PAIRS)
    rows_b, err_b = judge_run(tmp_path / "b", harsher)
    assert kept_share(err_b) < kept_share(err_a)
    assert rows_b[0]["chosen_segments"][1]["weight"] == 0.0 and rows_b[0]["chosen_segments"][2]["weight"] == 1.0


def test_a_broken_answer_rejects_the_pair(tmp_path: Path) -> None:
    rows = [PAIRS[0], {**PAIRS[1], "chosen": PAIRS[1]["chosen"] + " fault:prose-always"}]
    out, _ = judge_run(tmp_path, rows, "--on-error", "skip")
    assert len(out) == 1
    rej = read_jsonl(tmp_path / "masked.rejects.jsonl")
    assert rej[0]["line"] == 2 and rej[0]["field"] == "chosen" and "contract" in rej[0]["reason"] and "raw answer" in rej[0]["reason"]


@pytest.mark.slow
def test_trl_trains_on_judge_masks(tmp_path: Path, minilm_tokenizer: Any, tiny_lm: Any) -> None:
    pytest.importorskip("trl")
    import torch

    from test_ama_trl import make_trainer

    rows, _ = judge_run(tmp_path, PAIRS + PAIRS[:1])
    trainer = make_trainer(rows, minilm_tokenizer, tiny_lm, tmp_path, learning_rate=1e-3)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    assert ((batch["ama_weights"] == 0) & (batch["completion_mask"] == 1)).any()
    result = trainer.train()
    assert trainer.state.global_step == 2 and torch.isfinite(torch.tensor(result.training_loss))
