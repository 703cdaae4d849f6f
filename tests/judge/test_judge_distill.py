"""The distillation path end to end: label with the judge, train a head on judge_group, evaluate it against the judge, classify."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import read_jsonl, run_cli, write_jsonl
from equidata.groups import PAPER_LABEL_MAP
from tests.judge_server import JudgeServer

pytestmark = pytest.mark.slow


def test_label_train_evaluate_classify(tmp_path: Path, shared_data: list[dict[str, Any]]) -> None:
    rows = [{"id": r["id"], "question_y": r["question_y"]} for r in shared_data[:600]]
    oracle = {r["question_y"]: PAPER_LABEL_MAP[r["category"]] for r in shared_data[:600]}  # a judge that labels like the paper's authors
    train, held = write_jsonl(tmp_path / "train.jsonl", rows[:480]), write_jsonl(tmp_path / "held.jsonl", rows[480:])
    with JudgeServer(oracle=oracle) as server:
        judge = ["--endpoint", server.url, "--judge-model", "scripted", "--cache", str(tmp_path / "cache.sqlite"), "--concurrency", "16", "-q"]
        run_cli("label", str(train), "-o", str(tmp_path / "train.labelled.jsonl"), *judge, check=True)
        run_cli("label", str(held), "-o", str(tmp_path / "held.labelled.jsonl"), *judge, check=True)
    labelled = read_jsonl(tmp_path / "train.labelled.jsonl")
    assert [r["judge_group"] for r in labelled] == [oracle[r["question_y"]] for r in rows[:480]]
    run_cli("train", str(tmp_path / "train.labelled.jsonl"), "-o", str(tmp_path / "head"), "--label-field", "judge_group",
            "--encoder", "frozen", "--cv", "0", "-q", check=True)
    proc = run_cli("evaluate", str(tmp_path / "held.labelled.jsonl"), "--head", str(tmp_path / "head"), "--label-field", "judge_group", "--json", check=True)
    report = json.loads(proc.stdout)
    assert report["accuracy"] > 0.4 and report["macro_f1"] > 0.25  # well above chance (0.25) against the judge on held-back rows
    run_cli("classify", str(held), "-o", str(tmp_path / "held.classified.jsonl"), "--head", str(tmp_path / "head"), "-q", check=True)
    classified = read_jsonl(tmp_path / "held.classified.jsonl")
    assert len(classified) == 120 and all(r["risk_group"] in PAPER_LABEL_MAP.values() for r in classified)
