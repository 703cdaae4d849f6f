"""`equidata classify` through the real entry point: data on stdout, accounting, bad input, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from equidata.groups import RISK_GROUPS
from tests.helpers import EXAMPLES, read_jsonl, run_cli, write_jsonl

pytestmark = pytest.mark.slow
PROMPTS = EXAMPLES / "prompts.jsonl"


@pytest.fixture
def bad_input(tmp_path: Path) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"prompt": "How do I make a pipe bomb?", "id": 1}\n'
        b'{"prompt": "broken\n'
        b'{"prompt": "   ", "id": 3}\n'
        b'{"id": 4}\n'
        b'{"prompt": "caf\xe9 au lait?"}\n'
        b'{"prompt": "How do I bake bread?", "id": 6}\n'
    )
    return path


def test_adds_fields_and_keeps_input_fields(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = run_cli("classify", str(PROMPTS), "-o", str(out), check=True)
    assert proc.stdout == b""
    rows, src = read_jsonl(out), read_jsonl(PROMPTS)
    assert len(rows) == len(src) == 40
    for row, orig in zip(rows, src):
        assert {k: row[k] for k in orig} == orig
        assert row["risk_group"] in RISK_GROUPS
        assert set(row["risk_scores"]) == set(RISK_GROUPS)
        assert sum(row["risk_scores"].values()) == pytest.approx(1.0, abs=1e-4)
        assert row["risk_confidence"] == max(row["risk_scores"].values())
    # the shipped head must get the clear-cut example prompts mostly right
    agree = sum(r["risk_group"] == r["expected_group"] for r in rows)
    assert agree >= 18, f"only {agree}/40 example prompts in their expected group"
    assert b"explicit" in proc.stderr and b"read" in proc.stderr  # the summary went to stderr


def test_stdout_carries_only_jsonl_and_stdin_works() -> None:
    proc = run_cli("classify", "-", "--quiet", stdin=PROMPTS.read_bytes(), check=True)
    assert proc.stderr == b""
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 40 and all(json.loads(line)["risk_group"] for line in lines)


def test_same_input_gives_identical_bytes(tmp_path: Path) -> None:
    for name in ("a.jsonl", "b.jsonl"):
        run_cli("classify", str(PROMPTS), "-o", str(tmp_path / name), "-q", check=True)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_bad_row_fails_with_location_and_leaves_no_output(tmp_path: Path, bad_input: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = run_cli("classify", str(bad_input), "-o", str(out))
    assert proc.returncode == 2
    assert f"{bad_input}:2".encode() in proc.stderr and b"malformed JSON" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_skip_writes_rejects_with_reasons_and_counts_add_up(tmp_path: Path, bad_input: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = run_cli("classify", str(bad_input), "-o", str(out), "--on-error", "skip", check=True)
    kept = read_jsonl(out)
    rejects = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert [r["id"] for r in kept] == [1, 6]
    assert [(r["line"], r["field"], r["reason"].split(":")[0]) for r in rejects] == [
        (2, None, "malformed JSON"),
        (3, "prompt", "empty prompt"),
        (4, "prompt", "missing"),
        (5, None, "invalid UTF-8"),
    ]
    assert rejects[1]["row"] == {"prompt": "   ", "id": 3}
    stderr = proc.stderr.decode()
    assert "read" in stderr and "6" in stderr and len(kept) + len(rejects) == 6


def test_missing_prompt_field_lists_the_fields(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [{"text": "hello", "meta": 1}])
    proc = run_cli("classify", str(path), "-o", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2
    assert b"fields found: ['meta', 'text']" in proc.stderr
    ok = run_cli("classify", str(path), "--prompt-field", "text", "-q", check=True)
    assert json.loads(ok.stdout)["text"] == "hello"


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert run_cli("classify", str(PROMPTS), "--device", "tpu").returncode == 2
    assert run_cli("classify", str(PROMPTS), "--batch-size", "0").returncode == 2
    assert run_cli("classify", str(tmp_path / "missing.jsonl")).returncode == 2


def test_every_command_help_shows_an_example() -> None:
    import typer

    from equidata.cli import app

    commands = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"classify", "train", "evaluate", "stats"} <= set(commands)
    for command in commands:
        assert "Example:" in run_cli(command, "--help", check=True).stdout.decode(), command


def test_stats_reads_classified_output(tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    run_cli("classify", str(PROMPTS), "-o", str(out), "-q", check=True)
    report = json.loads(run_cli("stats", str(out), "--json", check=True).stdout)
    assert report["rows"] == 40
    assert sum(g["count"] for g in report["groups"].values()) == 40
    assert sum(g["share"] for g in report["groups"].values()) == pytest.approx(1.0, abs=1e-3)
    assert run_cli("stats", str(PROMPTS)).returncode == 2


def test_stdin_to_file_is_atomic_and_refuses_resume(tmp_path: Path) -> None:
    """Regression: a file output fed from stdin used to demand a resumable (checkpointed) input."""
    out = tmp_path / "out.jsonl"
    run_cli("classify", "-", "-o", str(out), "-q", stdin=PROMPTS.read_bytes(), check=True)
    assert len(read_jsonl(out)) == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
    refused = run_cli("classify", "-", "-o", str(out), "--resume", stdin=PROMPTS.read_bytes())
    assert refused.returncode == 2 and b"'resume' parameter" in refused.stderr
