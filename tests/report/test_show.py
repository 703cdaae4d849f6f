"""`equidata show`: the rows picked (first, by confidence, seeded sample, one group) and how they print."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import run_cli
from tests.curated_data import classified_rows, mask_rows, write_jsonl

from equidata.cli.show import _value
from equidata.errors import ParameterError
from equidata.show import default_fields, pick_rows


@pytest.fixture()
def classified(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "classified.jsonl", classified_rows())


def test_first_rows_of_a_group(classified: Path) -> None:
    rows = pick_rows(classified, group="mixed", n=3)
    expected = [r["id"] for r in classified_rows() if r["risk_group"] == "mixed"][:3]
    assert [r.data["id"] for r in rows] == expected


@pytest.mark.parametrize(("sort", "pick"), [("confidence", min), ("-confidence", max)])
def test_sort_by_confidence(classified: Path, sort: str, pick) -> None:
    rows = pick_rows(classified, group="none", n=2, sort=sort)
    members = [r for r in classified_rows() if r["risk_group"] == "none"]
    assert rows[0].data["id"] == pick(members, key=lambda r: r["risk_confidence"])["id"]
    assert (rows[0].data["risk_confidence"] <= rows[1].data["risk_confidence"]) == (sort == "confidence")


def test_random_sample_is_seeded_and_in_input_order(classified: Path) -> None:
    a = [r.index for r in pick_rows(classified, n=5, sort="random", seed=3)]
    assert a == [r.index for r in pick_rows(classified, n=5, sort="random", seed=3)]
    assert a == sorted(a) and a != [r.index for r in pick_rows(classified, n=5, sort="random", seed=4)]


def test_bad_sort_is_a_parameter_error(classified: Path) -> None:
    with pytest.raises(ParameterError):
        pick_rows(classified, sort="length")


def test_mask_segments_are_styled_and_token_lists_hidden(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "pairs.ama.jsonl", mask_rows())
    row = pick_rows(path, n=1)[0]
    assert "chosen_token_weights" not in default_fields(row) and "chosen" in default_fields(row)
    text = _value(row, "chosen")
    assert text.plain == row.data["chosen"]
    styles = {str(span.style) for span in text.spans}
    assert {"dim strike", "on dark_green"} <= styles


def test_cli_prints_the_chosen_fields(classified: Path) -> None:
    proc = run_cli("show", str(classified), "--group", "explicit", "-n", "2", "--fields", "prompt,risk_confidence")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    first = next(r for r in classified_rows() if r["risk_group"] == "explicit")
    assert first["prompt"][:30] in out and "expected_group" not in out and out.count("explicit") == 2
