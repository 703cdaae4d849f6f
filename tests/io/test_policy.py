"""The one place a run's records are accounted for: chunks, their encoding, and ErrorPolicy's rows/settle/finish."""

from __future__ import annotations

import decimal
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from equidata.errors import InputError
from equidata.io import ErrorPolicy, RecordSource, Reject, Row, encode_line, encode_results, read_chunks

#: a prompt file as it comes: a good row, one the step rejects (empty prompt), a line cut short (a
#: parse reject), good rows, and one whose step result holds a NaN (not strict JSON)
LINES = [
    json.dumps({"id": "a", "prompt": "How do I pick a lock?"}),
    json.dumps({"id": "b", "prompt": ""}),
    '{"id": "c", "prompt": "Where can I buy',
    json.dumps({"id": "d", "prompt": "How long does bread dough need to rise?"}),
    json.dumps({"id": "e", "prompt": "Is it safe to mix bleach and ammonia?"}),
    json.dumps({"id": "f", "prompt": "Write a short poem about rain."}),
]


def _step(rows: list[Row]) -> list[dict[str, Any] | Reject]:
    """A step like classify's: rejects an empty prompt, scores the rest (row ``e`` gets a NaN score)."""
    return [
        Reject.of(r, "empty", "prompt") if not r.data["prompt"] else {**r.data, "score": math.nan if r.data["id"] == "e" else 0.5}
        for r in rows
    ]


def _run(path: Path, mode: str, size: int, sink: io.BytesIO | None = None) -> tuple[ErrorPolicy, list[bytes]]:
    """What an engine does with ``path``: chunks through the step, each settled with the policy."""
    source = RecordSource.open(path)
    policy = ErrorPolicy(mode, source.name, sink)
    out: list[bytes] = []
    for chunk in read_chunks(source, size):
        lines, bad = encode_results(chunk.rows, _step(chunk.rows))
        policy.settle(chunk.records, [*chunk.rejects, *bad], len(lines))
        out += lines
    return policy, out


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_read_chunks_cuts_rows_and_keeps_parse_rejects_with_their_chunk(prompts: Path) -> None:
    chunks = list(read_chunks(RecordSource.open(prompts), 3))
    assert [[r.data["id"] for r in c.rows] for c in chunks] == [["a", "b", "d"], ["e", "f"]]
    assert [[r.line for r in c.rejects] for c in chunks] == [[3], []]
    assert [c.records for c in chunks] == [4, 2]


def test_encode_results_rejects_a_result_that_is_not_strict_json(prompts: Path) -> None:
    rows = [r for r in RecordSource.open(prompts) if isinstance(r, Row)]
    lines, bad = encode_results(rows, _step(rows))
    assert [json.loads(line)["id"] for line in lines] == ["a", "d", "f"]
    assert [(r.line, r.field) for r in bad] == [(2, "prompt"), (5, None)]
    assert bad[1].reason.startswith("cannot be written as strict JSON: Out of range float values")
    assert bad[1].row == {"id": "e", "prompt": "Is it safe to mix bleach and ammonia?"}  # the input row, not the step's result


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_settle_writes_parse_and_step_rejects_in_input_order_whatever_the_chunks(prompts: Path, size: int) -> None:
    """With 3 rows a chunk, the parse reject (line 3) is met before the step's reject (line 2): the file still reads 2, 3, 5."""
    sink = io.BytesIO()
    policy, out = _run(prompts, "skip", size, sink)
    rejects = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [r["line"] for r in rejects] == [2, 3, 5]
    assert [r["field"] for r in rejects] == ["prompt", None, None]
    assert rejects[0]["row"] == {"id": "b", "prompt": ""} and rejects[1]["raw"] == '{"id": "c", "prompt": "Where can I buy'
    assert rejects[2]["row"]["id"] == "e" and rejects[2]["reason"].startswith("cannot be written as strict JSON")
    assert [json.loads(line)["id"] for line in out] == ["a", "d", "f"]
    counts = policy.finish(Path("prompts.rejects.jsonl"))
    assert (counts.read, counts.written, counts.rejected, counts.rejects_path) == (6, 3, 3, Path("prompts.rejects.jsonl"))


def test_settle_in_fail_mode_stops_at_the_first_reject_in_input_order(prompts: Path) -> None:
    with pytest.raises(InputError) as exc:
        _run(prompts, "fail", 3)
    assert str(exc.value).startswith(f"{prompts}:2: field 'prompt': empty")


def test_rows_counts_every_record_and_routes_parse_rejects(prompts: Path) -> None:
    sink = io.BytesIO()
    policy = ErrorPolicy("skip", str(prompts), sink)
    assert [r.data["id"] for r in policy.rows(RecordSource.open(prompts))] == ["a", "b", "d", "e", "f"]
    assert (policy.counts.read, policy.counts.rejected) == (6, 1)
    assert json.loads(sink.getvalue())["line"] == 3
    with pytest.raises(InputError, match=rf"^{prompts}:3: "):
        list(ErrorPolicy("fail", str(prompts)).rows(RecordSource.open(prompts)))


def test_prefix_leads_every_rejects_line_also_for_a_row_that_is_not_strict_json() -> None:
    sink = io.BytesIO()
    policy = ErrorPolicy("skip", "general.parquet", sink, prefix={"source": "general"})
    policy.reject(Reject.of(Row(0, 1, {"prompt": "Plan a picnic for ten people."}), "missing", "risk_group"))
    policy.reject(Reject.of(Row(1, 2, {"prompt": "Bake bread?", "risk_confidence": math.nan}, "row"), "expected a number in [0, 1], got nan", "risk_confidence"))
    first, second = sink.getvalue().splitlines()
    assert first == b'{"source": "general", "line": 1, "field": "risk_group", "reason": "missing", "row": {"prompt": "Plan a picnic for ten people."}}'
    assert second.startswith(b'{"source": "general", "row_number": 2, "field": "risk_confidence", "reason": "expected a number in [0, 1], got nan", "raw": ')
    assert json.loads(second)["raw"] == '{"prompt": "Bake bread?", "risk_confidence": NaN}'


def test_a_rejects_record_names_its_position_apart_from_the_row() -> None:
    """Text formats count lines; the others count rows, whose number must not land on the ``row`` key that holds the data."""
    data = {"id": 7, "prompt": ""}
    assert Reject.of(Row(6, 7, data), "empty prompt", "prompt").to_json() == {"line": 7, "field": "prompt", "reason": "empty prompt", "row": data}
    assert Reject.of(Row(6, 7, data, "row"), "empty prompt", "prompt").to_json() == {"row_number": 7, "field": "prompt", "reason": "empty prompt", "row": data}
    assert Reject(0, 1, "expected a JSON object, got int", raw="5", unit="row").to_json() == {"row_number": 1, "field": None, "reason": "expected a JSON object, got int", "raw": "5"}


def test_encode_line_is_the_writer_or_the_rows_reject() -> None:
    row = Row(2, 3, {"prompt": "Bake bread?", "price": decimal.Decimal("2.50")}, "row")
    assert encode_line(row, {"prompt": "Bake bread?"}) == b'{"prompt": "Bake bread?"}\n'
    nan, dec = encode_line(row, {"score": math.inf}), encode_line(row, row.data)
    assert isinstance(nan, Reject) and nan.reason == "cannot be written as strict JSON: Out of range float values are not JSON compliant"
    assert isinstance(dec, Reject) and dec.reason == "cannot be written as strict JSON: cannot write a value of type Decimal as JSON"
    assert (dec.line, dec.unit, dec.field, dec.row) == (3, "row", None, row.data)


def test_only_parquet_and_datasets_rows_may_need_the_writable_check(tmp_path: Path) -> None:
    for name in ("a.jsonl", "a.json", "a.csv", "a.parquet"):
        (tmp_path / name).touch()
    assert {f: RecordSource.open(tmp_path / f"a.{f}").strict_json for f in ("jsonl", "json", "csv", "parquet")} == {"jsonl": True, "json": True, "csv": True, "parquet": False}
    assert not RecordSource(str(tmp_path), "hf").strict_json


def test_finish_names_the_rejects_file_only_when_a_row_was_rejected_and_checks_the_sum() -> None:
    policy = ErrorPolicy("skip", "in.jsonl")
    policy.settle(2, [], 2)
    assert policy.finish(Path("in.rejects.jsonl")).rejects_path is None
    policy.settle(1, [], 0)
    with pytest.raises(AssertionError, match="read 3 != written 2 \\+ rejected 0"):
        policy.finish(None)
