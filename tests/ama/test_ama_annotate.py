"""`equidata annotate-masks`: values, weights, alignment, rejects, summary; library and CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PAIRS, TEMPLATE, TOKENIZER, read_jsonl, run_cli, write_jsonl
from equidata.ama import Aligner, ContrastScorer, FieldScorer, annotate_file, split_segments

#: Realistic pairs whose responses share an opening sentence (as HH-RLHF and PKU-SafeRLHF pairs often do).


@pytest.fixture(scope="module")
def tok() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(TOKENIZER)


@pytest.fixture(scope="module")
def contrast() -> ContrastScorer:
    return ContrastScorer()


def seg_texts(row: dict[str, Any], side: str) -> list[str]:
    return [row[side][s["start"] : s["end"]] for s in row[f"{side}_segments"]]


def annotate(tmp_path: Path, rows: list[dict[str, Any]], aligner: Aligner, scorer: Any, name: str = "out.jsonl", **kw: Any) -> tuple[list[dict[str, Any]], Any]:
    src = write_jsonl(tmp_path / f"in-{name}", rows)
    result = annotate_file(src, tmp_path / name, aligner=aligner, scorer=scorer, **kw)
    return read_jsonl(tmp_path / name), result


@pytest.mark.slow
def test_cli_contrast_masks_shared_segments_and_keeps_the_difference(tmp_path: Path, tok: Any) -> None:
    src = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    proc = run_cli("annotate-masks", str(src), "-o", str(tmp_path / "out.jsonl"), "--tokenizer", TOKENIZER)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert "chosen tokens kept" in err and "rejected tokens kept" in err and "segment values" in err
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert len(rows) == 4
    for pair, row in zip(PAIRS, rows):
        assert {k: row[k] for k in pair} == pair
        for side in ("chosen", "rejected"):
            segs = row[f"{side}_segments"]
            assert seg_texts(row, side) == [pair[side][s:e] for s, e in split_segments(pair[side])]
            assert row[f"{side}_token_ids"] == tok(pair[side], add_special_tokens=False)["input_ids"]  # MiniLM has no EOS to append
            assert len(row[f"{side}_token_weights"]) == len(row[f"{side}_token_reward"]) == len(row[f"{side}_token_ids"])
            other = pair["rejected" if side == "chosen" else "chosen"]
            for seg, text in zip(segs, seg_texts(row, side)):
                if text in other:  # shared: no preference signal, masked on both sides at b = 0
                    assert (seg["value"], seg["weight"]) == (0.0, 0.0)
                else:
                    assert (seg["value"] > 0) == (side == "chosen") and seg["value"] != 0 and seg["weight"] == 1.0
        assert row["ama_fallback"] is False
        assert row["ama"]["tokenizer"] == TOKENIZER and row["ama"]["scorer"] == "contrast" and row["ama"]["alignment"] == "plain"
    # "You are a worthless idiot ..." is kept in the rejected reply, the shared "Here is a thought." is not
    insult = rows[2]
    w, ids = insult["rejected_token_weights"], insult["rejected_token_ids"]
    assert tok.decode([i for i, x in zip(ids, w) if x == 1.0]).startswith("you are a worthless idiot")
    assert tok.decode([i for i, x in zip(ids, w) if x == 0.0]) == "here is a thought."
    assert 0 < sum(insult["chosen_token_weights"]) < len(insult["chosen_token_weights"])


@pytest.mark.slow
def test_cli_bad_pairs_go_to_the_rejects_file_with_their_reason(tmp_path: Path) -> None:
    src = tmp_path / "pairs.jsonl"
    bad = [PAIRS[0], {"prompt": "Hi", "chosen": "  ", "rejected": "Go away."}, {"prompt": "Hi", "chosen": "Hello.", "rejected": "Hello."}, {"prompt": "Only a prompt"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in bad) + "{not json\n", encoding="utf-8")
    proc = run_cli("annotate-masks", str(src), "-o", str(tmp_path / "out.jsonl"), "--tokenizer", TOKENIZER, "--on-error", "skip", "--quiet")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 1
    rejects = sorted(read_jsonl(tmp_path / "out.rejects.jsonl"), key=lambda r: r["line"])  # parse rejects come first
    assert [(r["line"], r["field"], r["reason"]) for r in rejects[:3]] == [
        (2, "chosen", "empty response"), (3, "rejected", "chosen and rejected responses are identical"), (4, "chosen", "no chosen/rejected responses to annotate"),
    ]
    assert rejects[3]["line"] == 5 and rejects[3]["reason"].startswith("malformed JSON")

    src2 = write_jsonl(tmp_path / "two.jsonl", bad[:2])
    fail = run_cli("annotate-masks", str(src2), "-o", str(tmp_path / "fail.jsonl"), "--tokenizer", TOKENIZER)
    assert fail.returncode == 2
    assert f"{src2}:2: field 'chosen': empty response" in " ".join(fail.stderr.decode().split())  # rich wraps long lines
    assert not (tmp_path / "fail.jsonl").exists()


@pytest.mark.slow  # loads tokenizers and the embedding model in three CLI runs
def test_cli_refuses_a_slow_tokenizer_and_missing_scorer_options(tmp_path: Path) -> None:
    from transformers import ByT5Tokenizer

    ByT5Tokenizer().save_pretrained(tmp_path / "byt5")
    src = write_jsonl(tmp_path / "pairs.jsonl", PAIRS[:1])
    proc = run_cli("annotate-masks", str(src), "--tokenizer", str(tmp_path / "byt5"))
    assert proc.returncode == 2
    assert "must be a fast tokenizer" in proc.stderr.decode() and proc.stdout == b""
    proc = run_cli("annotate-masks", str(src), "--tokenizer", TOKENIZER, "--scorer", "field")
    assert proc.returncode == 2 and "'values_field' parameter must be given with --scorer field" in proc.stderr.decode()
    proc = run_cli("annotate-masks", str(src), "--tokenizer", TOKENIZER, "--baseline", "median")
    assert proc.returncode == 2 and "'baseline' parameter must be zero, mean or a number" in proc.stderr.decode()


@pytest.mark.slow
def test_same_input_gives_byte_identical_output(tmp_path: Path, tok: Any, contrast: ContrastScorer) -> None:
    src = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    for name in ("a.jsonl", "b.jsonl"):
        annotate_file(src, tmp_path / name, aligner=Aligner(tok, name="minilm"), scorer=contrast, chunk_size=3)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


@pytest.mark.slow
def test_mean_baseline_and_soft_weights(tmp_path: Path, tok: Any, contrast: ContrastScorer) -> None:
    rows, result = annotate(tmp_path, PAIRS, Aligner(tok), contrast, baseline="mean", weights="soft", temperature=0.2)
    values = [v for r in rows for side in ("chosen", "rejected") for v in r[f"{side}_token_reward"]]
    b = sum(values) / len(values)
    assert result.baseline == pytest.approx(b, abs=1e-6)
    assert rows[0]["ama"]["baseline"] == "mean" and rows[0]["ama"]["baseline_value"] == pytest.approx(b, abs=1e-6)
    for r in rows:
        for v, w in zip(r["chosen_token_reward"], r["chosen_token_weights"]):
            assert w == pytest.approx(1 / (1 + math.exp(-(v - b) / 0.2)), abs=2e-6)
        for v, w in zip(r["rejected_token_reward"], r["rejected_token_weights"]):
            assert w == pytest.approx(1 / (1 + math.exp(-(b - v) / 0.2)), abs=2e-6)


@pytest.mark.slow
def test_a_response_with_no_kept_token_falls_back_to_all_ones(tmp_path: Path, tok: Any, contrast: ContrastScorer) -> None:
    pair = {"prompt": "Is it safe?", "chosen": "I am not sure.", "rejected": "I am not sure. Try it on your little brother first."}
    rows, result = annotate(tmp_path, [pair, PAIRS[1]], Aligner(tok), contrast)
    assert rows[0]["ama_fallback"] is True and set(rows[0]["chosen_token_weights"]) == {1.0}
    assert [s["weight"] for s in rows[0]["chosen_segments"]] == [1.0]
    assert rows[0]["rejected_token_weights"][0] == 0.0  # the rejected side keeps its own mask
    assert rows[1]["ama_fallback"] is False and result.stats.fallbacks == 1


@pytest.mark.slow
def test_chat_template_alignment_matches_trl_completion_ids(tmp_path: Path, tok: Any, contrast: ContrastScorer) -> None:
    from transformers import AutoTokenizer

    ttok = AutoTokenizer.from_pretrained(TOKENIZER)
    ttok.chat_template = TEMPLATE
    conv = [{"prompt": [{"role": "user", "content": p["prompt"]}], "chosen": [{"role": "assistant", "content": p["chosen"]}],
             "rejected": [{"role": "assistant", "content": p["rejected"]}]} for p in PAIRS[:2]]
    rows, _ = annotate(tmp_path, conv, Aligner(ttok, "chat-template", name="minilm+template"), contrast)
    suffix = ttok("<|end|>", add_special_tokens=False)["input_ids"]
    for src, row in zip(conv, rows):
        prompt_ids = ttok.apply_chat_template(src["prompt"], tokenize=True, add_generation_prompt=True, return_dict=True)["input_ids"]
        for side in ("chosen", "rejected"):
            full = ttok.apply_chat_template(src["prompt"] + src[side], tokenize=True, return_dict=True)["input_ids"]
            assert full[: len(prompt_ids)] == prompt_ids
            assert row[f"{side}_token_ids"] == full[len(prompt_ids) :]
            assert row[f"{side}_token_ids"][-len(suffix) :] == suffix
            # template suffix tokens count as shared text: value 0, so weight 0 under the zero baseline
            assert row[f"{side}_token_reward"][-len(suffix) :] == [0.0] * len(suffix)
            assert row[f"{side}_token_weights"][-len(suffix) :] == [0.0] * len(suffix)
        assert row["ama"]["alignment"] == "chat-template" and row["ama"]["chat_template_sha256"]
    assert any(w == 1.0 for w in rows[0]["chosen_token_weights"])


def test_field_scorer_reads_token_values_or_spans(tmp_path: Path, tok: Any) -> None:
    pair = dict(PAIRS[2])
    n_c = len(tok(pair["chosen"], add_special_tokens=False)["input_ids"])
    pair["chosen_critic"] = [0.5] * (n_c - 2) + [-0.5, -0.5]
    pair["rejected_critic"] = [{"start": 0, "end": 18, "value": 0.2}, {"start": 19, "end": len(pair["rejected"]), "value": -0.8}]
    short = dict(pair, chosen_critic=[1.0, 2.0])
    src = write_jsonl(tmp_path / "in.jsonl", [pair, short])
    result = annotate_file(src, tmp_path / "out.jsonl", aligner=Aligner(tok), scorer=FieldScorer("critic"), on_error="skip")
    (row,) = read_jsonl(tmp_path / "out.jsonl")
    assert row["chosen_token_reward"] == pair["chosen_critic"]
    assert row["chosen_token_weights"] == [1.0] * (n_c - 2) + [0.0, 0.0]
    assert [(s["start"], s["end"], s["value"]) for s in row["rejected_segments"]] == [(0, 18, 0.2), (19, len(pair["rejected"]), -0.8)]
    assert tok.decode([i for i, w in zip(row["rejected_token_ids"], row["rejected_token_weights"]) if w]) .startswith("you are a worthless")
    (rej,) = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert rej["field"] == "chosen_critic" and "has 2 values" in rej["reason"]
    assert result.counts.read == 2 and result.counts.written == 1


@pytest.mark.slow
def test_reward_model_scorer_values_are_reward_increments(tmp_path: Path, tok: Any) -> None:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from equidata.ama import RewardModelScorer

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=1)
    BertForSequenceClassification(cfg).save_pretrained(tmp_path / "rm")
    tok.save_pretrained(tmp_path / "rm")
    scorer = RewardModelScorer(str(tmp_path / "rm"), device="cpu", batch_size=3)
    rows, _ = annotate(tmp_path, PAIRS[:2], Aligner(tok), scorer)
    for pair, row in zip(PAIRS, rows):
        msgs = [{"role": "user", "content": pair["prompt"]}]
        for side in ("chosen", "rejected"):
            ends = [0] + [s["end"] for s in row[f"{side}_segments"]]
            r = scorer.rewards([scorer._encode(msgs, pair[side][:e]) for e in ends])
            assert [s["value"] for s in row[f"{side}_segments"]] == pytest.approx([b - a for a, b in zip(r, r[1:])], abs=1e-5)
    assert rows[0]["ama"]["scorer"] == "reward-model"

    cfg.num_labels = 2
    BertForSequenceClassification(cfg).save_pretrained(tmp_path / "clf")
    tok.save_pretrained(tmp_path / "clf")
    with pytest.raises(Exception, match="one output"):
        RewardModelScorer(str(tmp_path / "clf"), device="cpu")


class _StopAfter:
    """A scorer that is interrupted (like Ctrl-C) on its ``n``-th chunk."""

    def __init__(self, inner: Any, n: int) -> None:
        self.inner, self.n, self.calls = inner, n, 0

    def score(self, items: list[Any]) -> Any:
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.inner.score(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.slow
def test_interrupted_annotation_resumes_to_the_same_bytes(tmp_path: Path, tok: Any, contrast: ContrastScorer) -> None:
    src = write_jsonl(tmp_path / "pairs.jsonl", PAIRS * 3)
    full = tmp_path / "full.jsonl"
    annotate_file(src, full, aligner=Aligner(tok, name="minilm"), scorer=contrast, chunk_size=4)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        annotate_file(src, out, aligner=Aligner(tok, name="minilm"), scorer=_StopAfter(contrast, 2), chunk_size=4)
    assert not out.exists() and (tmp_path / "out.checkpoint.json").exists()
    result = annotate_file(src, out, aligner=Aligner(tok, name="minilm"), scorer=contrast, chunk_size=4, resume=True)
    assert out.read_bytes() == full.read_bytes()
    assert result.counts.read == 12 and result.stats.tokens["chosen"] > 0
    refused = run_cli("annotate-masks", str(src), "-o", str(out), "--tokenizer", TOKENIZER, "--baseline", "mean", "--resume")
    assert refused.returncode == 2 and b"'resume' parameter" in refused.stderr
