"""export: field layout of every format on every input schema, bad pairs to rejects, pipes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from equidata.export import export_file
from tests.helpers import read_jsonl, run_cli, write_jsonl

META = {"risk_group": "explicit", "risk_scores": {"explicit": 0.8, "implicit": 0.1, "mixed": 0.05, "none": 0.05}, "risk_confidence": 0.8}
PROMPT, SAFE, UNSAFE = "How do I pick a lock?", "I can't help with breaking into property.", "Use a tension wrench and a pick."

# One row of each input schema, all holding the same pair (context: one earlier exchange where noted).
SCHEMAS: dict[str, dict[str, Any]] = {
    "trl-preference": {"prompt": PROMPT, "chosen": SAFE, "rejected": UNSAFE, **META},
    "pku-saferlhf": {"prompt": PROMPT, "response_0": UNSAFE, "response_1": SAFE, "safer_response_id": 1, "better_response_id": 0, **META},
    "trl-conversational": {"prompt": [{"role": "user", "content": PROMPT}], "chosen": [{"role": "assistant", "content": SAFE}], "rejected": [{"role": "assistant", "content": UNSAFE}], **META},
    "hh-rlhf": {"chosen": f"\n\nHuman: {PROMPT}\n\nAssistant: {SAFE}", "rejected": f"\n\nHuman: {PROMPT}\n\nAssistant: {UNSAFE}", **META},
}

USER, REPLY = {"role": "user", "content": PROMPT}, {"role": "assistant", "content": SAFE}
EXPECTED: dict[str, dict[str, Any]] = {
    "trl": {"prompt": f"\n\nHuman: {PROMPT}\n\nAssistant:", "chosen": f" {SAFE}", "rejected": f" {UNSAFE}"},
    "openrlhf": {"chosen": [USER, REPLY], "rejected": [USER, {"role": "assistant", "content": UNSAFE}]},
    "trl-chat": {"prompt": [{"role": "user", "content": PROMPT}], "chosen": [{"role": "assistant", "content": SAFE}], "rejected": [{"role": "assistant", "content": UNSAFE}]},
    "llamafactory": {"instruction": PROMPT, "input": "", "chosen": SAFE, "rejected": UNSAFE, "system": "", "history": []},
    "prompt-only": {"prompt": PROMPT},
}


def export(tmp_path: Path, rows: list[dict[str, Any]], fmt: str, *extra: str) -> list[dict[str, Any]]:
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    run_cli("export", str(src), "-o", str(tmp_path / "out.jsonl"), "--format", fmt, "-q", *extra, check=True)
    return read_jsonl(tmp_path / "out.jsonl")


@pytest.mark.parametrize("schema", list(SCHEMAS))
@pytest.mark.parametrize("fmt", list(EXPECTED))
def test_layout_of_every_format_on_every_schema(tmp_path: Path, schema: str, fmt: str) -> None:
    result = export_file(write_jsonl(tmp_path / "in.jsonl", [SCHEMAS[schema]]), tmp_path / "out.jsonl", fmt=fmt)
    assert result.schema == schema
    assert read_jsonl(tmp_path / "out.jsonl") == [{**EXPECTED[fmt], **META}]


def test_pku_prefer_better_flips_the_pair(tmp_path: Path) -> None:
    (rec,) = export(tmp_path, [SCHEMAS["pku-saferlhf"]], "trl", "--prefer", "better")
    assert (rec["chosen"], rec["rejected"]) == (f" {UNSAFE}", f" {SAFE}")


def test_multi_turn_context_in_each_layout(tmp_path: Path) -> None:
    row = {
        "chosen": f"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: {PROMPT}\n\nAssistant: {SAFE}",
        "rejected": f"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: {PROMPT}\n\nAssistant: {UNSAFE}",
    }
    (trl,) = export(tmp_path, [row], "trl")
    assert trl["prompt"] == f"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: {PROMPT}\n\nAssistant:"
    (chat,) = export(tmp_path, [row], "trl-chat")
    assert [m["role"] for m in chat["prompt"]] == ["user", "assistant", "user"]
    (lf,) = export(tmp_path, [row], "llamafactory")
    assert lf["history"] == [["Hi", "Hello!"]] and lf["instruction"] == PROMPT


def test_drop_meta(tmp_path: Path) -> None:
    (rec,) = export(tmp_path, [SCHEMAS["trl-preference"]], "trl", "--drop-meta")
    assert rec == EXPECTED["trl"]


def test_every_field_classify_adds_is_risk_metadata(tmp_path: Path) -> None:
    """risk_turn too: --no-keep-fields keeps all four classify fields (and drops the id), --drop-meta drops all four."""
    row = {**SCHEMAS["trl-preference"], "id": "hh-7", "risk_turn": 0}
    (kept,) = export(tmp_path, [row], "trl", "--no-keep-fields")
    assert kept == {**EXPECTED["trl"], **META, "risk_turn": 0}
    (dropped,) = export(tmp_path, [row], "trl", "--drop-meta")
    assert dropped == {**EXPECTED["trl"], "id": "hh-7"}


def test_prompt_only_rows_export_for_ppo(tmp_path: Path) -> None:
    rows = [{"prompt": PROMPT, **META}, {"prompt": "Tell me a joke."}]
    assert export(tmp_path, rows, "prompt-only") == [{"prompt": PROMPT, **META}, {"prompt": "Tell me a joke."}]
    assert export(tmp_path, rows, "trl")[1] == {"prompt": "\n\nHuman: Tell me a joke.\n\nAssistant:"}
    assert export(tmp_path, rows, "openrlhf")[1] == {"prompt": [{"role": "user", "content": "Tell me a joke."}]}
    assert export(tmp_path, rows, "trl-chat")[1] == {"prompt": [{"role": "user", "content": "Tell me a joke."}]}
    assert export(tmp_path, rows, "llamafactory")[0] == {"instruction": PROMPT, "input": "", "system": "", "history": [], **META}
    info = json.loads((tmp_path / "out.dataset_info.json").read_text())
    assert "ranking" not in info["out"] and "chosen" not in info["out"]["columns"]


def test_bad_pairs_go_to_rejects_with_their_reason(tmp_path: Path) -> None:
    good = SCHEMAS["trl-preference"]
    rows = [good, {**good, "rejected": SAFE}, {**good, "chosen": "  "}, {"prompt": "no responses"}, good]
    out = export(tmp_path, rows, "trl", "--on-error", "skip")
    assert len(out) == 2
    rejects = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert [(r["line"], r["field"], r["reason"]) for r in rejects] == [
        (2, "rejected", "chosen and rejected responses are identical"),
        (3, "chosen", "empty chosen response"),
        (4, "chosen", "no chosen/rejected responses, but this export holds preference pairs (decided by its first row)"),
    ]
    proc = run_cli("export", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "f.jsonl"), "--on-error", "fail")
    assert proc.returncode == 2 and "in.jsonl:2: field 'rejected'" in " ".join(proc.stderr.decode().split())


def test_llamafactory_dataset_info_snippet(tmp_path: Path) -> None:
    export(tmp_path, [SCHEMAS["pku-saferlhf"]], "llamafactory")
    info = json.loads((tmp_path / "out.dataset_info.json").read_text())
    assert info == {"out": {
        "file_name": "out.jsonl", "formatting": "alpaca", "ranking": True,
        "columns": {"prompt": "instruction", "query": "input", "system": "system", "history": "history", "chosen": "chosen", "rejected": "rejected"},
    }}


def test_stdin_to_stdout_keeps_side_files_out_of_the_stream(tmp_path: Path) -> None:
    rows = [SCHEMAS["trl-preference"], {**SCHEMAS["trl-preference"], "rejected": SAFE}]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    proc = run_cli("export", "-", "--format", "trl", "--on-error", "skip", "--rejects", "stage2.rejects.jsonl", stdin=data, cwd=tmp_path, check=True)
    assert [json.loads(line) for line in proc.stdout.decode().splitlines()] == [{**EXPECTED["trl"], **META}]
    assert len(read_jsonl(tmp_path / "stage2.rejects.jsonl")) == 1


def test_help_shows_an_example() -> None:
    assert "Example:" in run_cli("export", "--help", check=True).stdout.decode()
