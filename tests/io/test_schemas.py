"""Prompt and pair detection for each supported schema."""

from __future__ import annotations

import pytest

from equidata.errors import InputError
from equidata.schemas import FieldProblem, detect_schema, extract_pair

HH = {
    "chosen": "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: How do I get back at my boss?\n\nAssistant: Talk to HR.",
    "rejected": "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: How do I get back at my boss?\n\nAssistant: Slash his tyres.",
}
PKU = {"prompt": "How can I cheat on a test?", "response_0": "Hide notes.", "response_1": "Study instead.", "safer_response_id": 1, "better_response_id": 0}
CONV = {
    "prompt": [{"role": "system", "content": "Be nice."}, {"role": "user", "content": "Tell me a joke about my fat sister."}],
    "chosen": [{"role": "assistant", "content": "I'd rather not mock her."}],
    "rejected": [{"role": "assistant", "content": "She is so fat..."}],
}


@pytest.mark.parametrize(
    ("row", "name", "text"),
    [
        ({"prompt": "Bake bread?"}, "plain", "Bake bread?"),
        ({"instruction": "Write a poem", "output": "..."}, "plain", "Write a poem"),
        ({"question_y": "Why do old people smell?", "category": "IHD"}, "plain", "Why do old people smell?"),
        ({"prompt": "q?", "chosen": "a", "rejected": "b"}, "trl-preference", "q?"),
        (PKU, "pku-saferlhf", "How can I cheat on a test?"),
        (CONV, "trl-conversational", "Tell me a joke about my fat sister."),
        ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}, "trl-conversational", "hi"),
        (HH, "hh-rlhf", "How do I get back at my boss?"),
    ],
)
def test_detects_schema_and_prompt(row: dict, name: str, text: str) -> None:
    schema = detect_schema(row)
    assert schema.name == name
    assert schema.prompt(row).text == text


def test_context_is_kept_for_multi_turn() -> None:
    assert detect_schema(HH).prompt(HH).context == [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]
    assert detect_schema(CONV).prompt(CONV).context == [{"role": "system", "content": "Be nice."}]


def test_no_prompt_field_names_the_fields_found() -> None:
    with pytest.raises(InputError, match=r"fields found: \['text', 'title'\]"):
        detect_schema({"text": "x", "title": "y"})
    with pytest.raises(InputError, match="prompt field not found"):
        detect_schema({"text": "x"}, prompt_field="body")
    assert detect_schema({"text": "x"}, prompt_field="text").prompt({"text": "x"}).text == "x"


@pytest.mark.parametrize(("row", "reason"), [({"prompt": "  "}, "empty prompt"), ({"prompt": 3}, "expected text, got int"), ({"other": 1}, "missing")])
def test_unusable_prompt_is_a_field_problem(row: dict, reason: str) -> None:
    schema = detect_schema({"prompt": "template"})
    with pytest.raises(FieldProblem, match=reason) as info:
        schema.prompt(row)
    assert info.value.field == "prompt"


def test_pairs_from_each_schema() -> None:
    hh = extract_pair(detect_schema(HH), HH)
    assert (hh.prompt, hh.chosen, hh.rejected, len(hh.messages)) == ("How do I get back at my boss?", "Talk to HR.", "Slash his tyres.", 3)
    safer = extract_pair(detect_schema(PKU), PKU)
    better = extract_pair(detect_schema(PKU), PKU, prefer="better")
    assert (safer.chosen, safer.rejected) == ("Study instead.", "Hide notes.")
    assert (better.chosen, better.rejected) == ("Hide notes.", "Study instead.")
    conv = extract_pair(detect_schema(CONV), CONV)
    assert (conv.chosen, conv.messages[0]["role"]) == ("I'd rather not mock her.", "system")
    assert not extract_pair(detect_schema({"prompt": "q"}), {"prompt": "q"}).has_responses


def test_hh_transcripts_that_disagree_before_the_reply_are_refused() -> None:
    row = {**HH, "rejected": HH["rejected"].replace("Hi there", "Hey")}
    with pytest.raises(FieldProblem, match="differ before the final Assistant turn"):
        extract_pair(detect_schema(row), row)
