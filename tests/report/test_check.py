"""`equidata check`: passes on a clean balanced mix, fails on planted drift, lost rows and all-ones masks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import read_jsonl, run_cli
from tests.curated_data import RATIO, curated, mask_rows, write_jsonl

from equidata.check import check_file
from equidata.errors import InputError, ParameterError


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    return curated(tmp_path)


def gate(files: dict[str, Path], *extra: str) -> list[str]:
    return [str(files["mix"]), "--ratio", RATIO, "--tolerance", "0.05", "--manifest", str(files["manifest"]), "--input", str(files["classified"]),
            "--masks", str(files["masks"]), "--kept-share", "0.05:0.95", "--max-share-below-confidence", "0.3:0.2", *extra]


def failed(proc) -> list[str]:
    return [c["name"] for c in json.loads(proc.stdout)["checks"] if not c["passed"]]


def test_clean_mix_passes_every_check(files: dict[str, Path]) -> None:
    proc = run_cli("check", *gate(files), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert report["passed"] and report["failed"] == 0
    names = [c["name"] for c in report["checks"]]
    assert names == ["rows", "ratio:explicit", "ratio:implicit", "ratio:mixed", "ratio:none", "confidence",
                     "manifest:accounted", "manifest:selected", "kept_share:chosen", "kept_share:rejected"]


def test_table_names_failed_checks_and_exits_1(files: dict[str, Path]) -> None:
    proc = run_cli("check", str(files["mix"]), "--min-rows", "1000")
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert "FAIL" in out and "rows" in out and "FAILED (1 of 1)" in out


def test_planted_ratio_drift_fails(files: dict[str, Path]) -> None:
    rows = read_jsonl(files["mix"])
    drifted = [r for r in rows if r["risk_group"] != "explicit"] + [r for r in rows if r["risk_group"] == "explicit"][:3]
    write_jsonl(files["mix"], drifted)
    proc = run_cli("check", str(files["mix"]), "--ratio", RATIO, "--tolerance", "0.05", "--json")
    assert proc.returncode == 1
    assert "ratio:explicit" in failed(proc)
    assert run_cli("check", str(files["mix"]), "--ratio", RATIO, "--tolerance", "0.5").returncode == 0


def test_input_row_missing_from_manifest_fails(files: dict[str, Path]) -> None:
    lines = files["manifest"].read_text().splitlines(keepends=True)
    files["manifest"].write_text("".join(lines[:5] + lines[6:]))
    proc = run_cli("check", *gate(files), "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    accounted = next(c for c in report["checks"] if c["name"] == "manifest:accounted")
    assert not accounted["passed"] and accounted["value"] == 1
    assert "input line 6 has no manifest entry" in accounted["detail"]


def test_selected_row_missing_from_output_fails(files: dict[str, Path]) -> None:
    rows = read_jsonl(files["mix"])
    write_jsonl(files["mix"], rows[1:])
    proc = run_cli("check", *gate(files), "--json")
    assert proc.returncode == 1
    assert "manifest:selected" in failed(proc)


def test_repeated_manifest_entry_fails(files: dict[str, Path]) -> None:
    lines = files["manifest"].read_text().splitlines(keepends=True)
    files["manifest"].write_text("".join(lines[:3] + [lines[2]] + lines[3:]))
    report = check_file(files["mix"], manifest=files["manifest"], input=files["classified"])
    accounted = next(r for r in report.results if r.name == "manifest:accounted")
    assert not accounted.passed and "repeated or out of input order" in accounted.detail


def test_all_ones_mask_fails(tmp_path: Path) -> None:
    masks = write_jsonl(tmp_path / "ones.ama.jsonl", mask_rows(all_ones=True))
    proc = run_cli("check", "-", "--kept-share", "0.05:0.95", "--json", stdin=masks.read_bytes())  # the masks are FILE, here stdin
    assert proc.returncode == 1
    assert failed(proc) == ["kept_share:chosen", "kept_share:rejected"]
    assert json.loads(proc.stdout)["checks"][1]["value"] == 1.0


def test_low_confidence_pile_up_fails(files: dict[str, Path]) -> None:
    rows = read_jsonl(files["mix"])
    for r in rows[: len(rows) // 2]:
        r["risk_confidence"] = 0.26
    write_jsonl(files["mix"], rows)
    report = check_file(files["mix"], max_share_below_confidence="0.3:0.2")
    conf = report.results[-1]
    assert conf.name == "confidence" and not conf.passed and conf.value == round((len(rows) // 2) / len(rows), 4)


@pytest.mark.parametrize(
    "args",
    [
        ["--ratio", "explicit=1,bogus=2"],
        ["--max-share-below-confidence", "0.5"],
        ["--kept-share", "0.9:0.1"],
        ["--manifest", "mix.manifest.jsonl"],
        ["--tolerance", "2"],
    ],
)
def test_bad_usage_exits_2(files: dict[str, Path], args: list[str]) -> None:
    proc = run_cli("check", str(files["mix"]), *args)
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr


def test_unreadable_row_exits_2_naming_file_and_line(files: dict[str, Path]) -> None:
    with files["mix"].open("a") as fh:
        fh.write("{not json\n")
    proc = run_cli("check", str(files["mix"]))
    assert proc.returncode == 2
    assert f"{files['mix']}:28" in proc.stderr.decode().replace("\n", "")


def test_ratio_needs_classified_rows(tmp_path: Path) -> None:
    plain = write_jsonl(tmp_path / "plain.jsonl", [{"prompt": "hi"}])
    with pytest.raises(InputError, match="risk_group"):
        check_file(plain, ratio=RATIO)
    with pytest.raises(ParameterError):
        check_file(plain, max_share_below_confidence="1.5:0.1")
