"""export: the text each trainer builds from a record, and the input fields kept beside the layout.

The joins below follow each trainer's reading code (TRL 1.16 ``DPOTrainer`` standard and
conversational formats, OpenRLHF ``datasets/reward_dataset.py``, LLaMA-Factory's Alpaca ranking
columns); docs/export.md names the flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from equidata.embedding import resolve_model
from equidata.export import export_file
from tests.helpers import read_jsonl, run_cli, write_jsonl

PROMPT, SAFE, UNSAFE = "How do I pick a lock?", "I can't help with breaking into property.", "Use a tension wrench and a pick."
HH = {
    "chosen": f"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: {PROMPT}\n\nAssistant: {SAFE}",
    "rejected": f"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: {PROMPT}\n\nAssistant: {UNSAFE}",
}
CONVERSATION = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": PROMPT}]
# A plain chat template, so the chat-template trainers can be followed with the bundled tokenizer.
TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"


def exported(tmp_path: Path, row: dict[str, Any], fmt: str) -> dict[str, Any]:
    export_file(write_jsonl(tmp_path / "in.jsonl", [row]), tmp_path / f"{fmt}.jsonl", fmt=fmt)
    (rec,) = read_jsonl(tmp_path / f"{fmt}.jsonl")
    return rec


@pytest.fixture(scope="module")
def tok() -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    tokenizer.chat_template = TEMPLATE
    return tokenizer


def test_trl_strings_join_into_the_dialogue(tmp_path: Path) -> None:
    rec = exported(tmp_path, HH, "trl")
    # TRL (and OpenRLHF with --input_template '{}') train on prompt + chosen: the HH transcript itself
    assert rec["prompt"] + rec["chosen"] == HH["chosen"] and rec["prompt"] + rec["rejected"] == HH["rejected"]
    assert "{}".format(rec["prompt"]) + rec["chosen"] == HH["chosen"]
    assert rec["prompt"].endswith("Assistant:") and rec["chosen"].startswith(" ")  # the space starts the reply's first token
    single = exported(tmp_path, {"prompt": PROMPT, "chosen": f"  {SAFE}", "rejected": UNSAFE}, "trl")
    assert single["prompt"] + single["chosen"] == f"\n\nHuman: {PROMPT}\n\nAssistant: {SAFE}"  # one space, however many came in
    assert single["prompt"] + single["rejected"] == f"\n\nHuman: {PROMPT}\n\nAssistant: {UNSAFE}"


def test_openrlhf_chat_template_sees_prompt_then_reply(tmp_path: Path, tok: Any) -> None:
    rec = exported(tmp_path, HH, "openrlhf")
    assert "prompt" not in rec and rec["chosen"][:-1] == rec["rejected"][:-1] == CONVERSATION
    # --apply_chat_template, no --prompt_key, DPO: the prompt is chosen[:-1] with the generation prompt
    prompt = tok.apply_chat_template(rec["chosen"][:-1], tokenize=False, add_generation_prompt=True)
    for side, reply in (("chosen", SAFE), ("rejected", UNSAFE)):
        full = tok.apply_chat_template(rec[side], tokenize=False)
        assert full.startswith(prompt) and full[len(prompt) :] == f"{reply}<|end|>"
    assert prompt.endswith(f"<|user|>{PROMPT}<|end|><|assistant|>")


def test_trl_conversational_applies_the_template_to_prompt_plus_reply(tmp_path: Path, tok: Any) -> None:
    rec = exported(tmp_path, HH, "trl-chat")
    full = tok.apply_chat_template(rec["prompt"] + rec["chosen"], tokenize=False)
    assert full == tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True) + f"{SAFE}<|end|>"


def test_llamafactory_columns_rebuild_the_conversation(tmp_path: Path) -> None:
    rec = exported(tmp_path, HH, "llamafactory")
    turns = [m for u, a in rec["history"] for m in ({"role": "user", "content": u}, {"role": "assistant", "content": a})]
    assert turns + [{"role": "user", "content": rec["instruction"] + rec["input"]}] == CONVERSATION
    assert (rec["chosen"], rec["rejected"], rec["system"]) == (SAFE, UNSAFE, "")  # bare replies: its template renders them


PKU = {
    "id": "pku-7", "prompt": PROMPT, "response_0": UNSAFE, "response_1": SAFE, "safer_response_id": 1, "better_response_id": 0,
    "is_response_0_safe": False, "risk_group": "explicit",
}


@pytest.mark.parametrize("fmt", ["trl", "trl-chat", "openrlhf", "llamafactory"])
def test_other_input_fields_follow_the_layout(tmp_path: Path, fmt: str) -> None:
    rec = exported(tmp_path, PKU, fmt)
    tail = list(rec)[-3:]
    assert tail == ["id", "is_response_0_safe", "risk_group"] and rec["id"] == "pku-7"
    assert not {"response_0", "response_1", "safer_response_id", "better_response_id"} & set(rec)


def test_keep_fields_through_the_cli(tmp_path: Path) -> None:
    rows = [{"id": 1, "source": "hh", **HH, "risk_group": "implicit"}, {"id": 2, **HH, "prompt_text": "x"}]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    run_cli("export", str(src), "-o", str(tmp_path / "out.jsonl"), "-q", check=True)
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [1, 2] and out[0]["source"] == "hh" and out[1]["prompt_text"] == "x"
    assert list(out[0]) == ["prompt", "chosen", "rejected", "id", "source", "risk_group"]
    run_cli("export", str(src), "-o", str(tmp_path / "bare.jsonl"), "-q", "--no-keep-fields", check=True)
    assert [list(r) for r in read_jsonl(tmp_path / "bare.jsonl")] == [["prompt", "chosen", "rejected", "risk_group"], ["prompt", "chosen", "rejected"]]
    run_cli("export", str(src), "-o", str(tmp_path / "nometa.jsonl"), "-q", "--drop-meta", check=True)
    assert "risk_group" not in read_jsonl(tmp_path / "nometa.jsonl")[0]
