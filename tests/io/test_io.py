"""Readers for every input format, and the bad-input behaviour of the record stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from equidata.errors import InputError, ParameterError
from equidata.io import RecordSource, Reject, Row, atomic_output, read_rows, sidecar_path
from tests.helpers import EXAMPLES

ROWS = [{"prompt": "How do I pick a lock?", "n": 1}, {"prompt": "Bake bread?", "n": 2}]


def _rows(path: Path | str) -> list[Row | Reject]:
    return list(read_rows(path))


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def test_jsonl_rows_keep_fields_and_line_numbers(jsonl: Path) -> None:
    rows = _rows(jsonl)
    assert [r.data for r in rows] == ROWS
    assert [(r.index, r.line, r.unit) for r in rows] == [(0, 1, "line"), (1, 2, "line")]


def test_json_array_and_json_lines_in_a_json_file(tmp_path: Path) -> None:
    arr = tmp_path / "a.json"
    arr.write_text(json.dumps(ROWS, indent=2))
    lines = tmp_path / "b.json"
    lines.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert [r.data for r in _rows(arr)] == ROWS
    assert [r.unit for r in _rows(arr)] == ["row", "row"]
    assert [r.data for r in _rows(lines)] == ROWS


def test_parquet_csv_and_datasets_folder(tmp_path: Path) -> None:
    import pandas as pd
    from datasets import Dataset

    pd.DataFrame(ROWS).to_parquet(tmp_path / "in.parquet")
    pd.DataFrame(ROWS).to_csv(tmp_path / "in.csv", index=False)
    Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "hf"))
    assert [r.data for r in _rows(tmp_path / "in.parquet")] == ROWS
    assert [r.data for r in _rows(tmp_path / "hf")] == ROWS
    csv_rows = _rows(tmp_path / "in.csv")
    assert [r.data["prompt"] for r in csv_rows] == [r["prompt"] for r in ROWS]
    assert [r.line for r in csv_rows] == [2, 3]  # line 1 is the header
    assert len(RecordSource.open(tmp_path / "in.parquet")) == 2


def test_bad_jsonl_lines_become_rejects_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"prompt": "ok"}\n{"prompt": \n\n[1, 2]\n{"prompt": "caf\xe9"}\n')
    recs = _rows(path)
    assert isinstance(recs[0], Row)
    assert [(r.line, r.reason.split(":")[0]) for r in recs[1:]] == [
        (2, "malformed JSON"),
        (4, "expected a JSON object, got list"),
        (5, "invalid UTF-8"),
    ]


def test_unknown_suffix_and_missing_file_are_clear(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ParameterError, match="'input' parameter must be"):
        RecordSource.open(tmp_path / "x.txt")
    with pytest.raises(InputError, match="no such file"):
        RecordSource.open(tmp_path / "nope.jsonl")


def test_atomic_output_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as fh:
            fh.write(b"partial\n")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_sidecar_paths_stay_out_of_stdout(tmp_path: Path) -> None:
    assert sidecar_path(tmp_path / "mix.v2.jsonl", "rejects.jsonl") == tmp_path / "mix.v2.rejects.jsonl"
    assert sidecar_path("-", "manifest.jsonl", "data/in.jsonl") == Path("in.manifest.jsonl")
    with pytest.raises(ParameterError, match="--rejects FILE"):  # two piped stages would share stdin.rejects.jsonl
        sidecar_path("-", "rejects.jsonl", "-")


def test_examples_are_valid_input() -> None:
    assert all(isinstance(r, Row) for r in _rows(EXAMPLES / "prompts.jsonl"))
