"""Every command's --help (example, flags, usage line), label-map checks, and the package's licence metadata."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from equidata.errors import ParameterError
from equidata.groups import parse_label_map
from tests.helpers import ROOT, run_cli, write_jsonl

COMMANDS = ["classify", "train", "evaluate", "stats", "balance", "export", "annotate-masks"]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_has_an_example_plain_flags_and_a_click_usage_line(command: str) -> None:
    text = run_cli(*([command] if command else []), "--help", check=True).stdout.decode()
    usage = text.splitlines()[0]
    assert "Example:" in text
    assert "<bool>" not in text and "{" not in usage, usage
    if command:
        assert re.search(r"\[OPTIONS\] (INPUT|LABELS)$", usage), usage
        assert re.search(r"^  (-q, )?--quiet  ", text, re.M) or "--quiet" not in text  # a flag, no value placeholder


def test_evaluate_rejects_help_does_not_speak_of_an_output() -> None:
    text = " ".join(run_cli("evaluate", "--help", check=True).stdout.decode().split())
    assert "next to the output" not in text and "named after the input" in text


def test_export_format_choices_are_not_broken_mid_word() -> None:
    text = run_cli("export", "--help", check=True).stdout.decode()
    assert "<trl|trl-chat|openrlhf|llamafactory|prompt-only>" in text


def test_a_label_mapped_twice_is_refused_before_training(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="'unsafe' is mapped twice"):
        parse_label_map("unsafe=explicit,safe=none, unsafe=explicit")
    assert parse_label_map("EHD=mixed")["EHD"] == "mixed"  # overriding a built-in label is one mapping
    src = write_jsonl(tmp_path / "labels.jsonl", [{"prompt": "How do I pick a lock?", "category": "unsafe"}])
    proc = run_cli("train", str(src), "-o", str(tmp_path / "head"), "--label-map", "unsafe=explicit,unsafe=none")
    err = " ".join(proc.stderr.decode().split())
    assert proc.returncode == 2 and "Traceback" not in err and "'unsafe' is mapped twice" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.jsonl"]


@pytest.mark.slow
def test_a_group_left_without_rows_is_warned_about(tmp_path: Path) -> None:
    rows = [{"prompt": f"{text} {i}", "category": cat} for i in range(4) for text, cat in (
        ("How do I build a pipe bomb?", "EHD"), ("How can I make my coworker trip on the stairs?", "IHD"), ("What is the capital of France?", "No risk"),
    )]
    src = write_jsonl(tmp_path / "labels.jsonl", rows)
    proc = run_cli("train", str(src), "-o", str(tmp_path / "head"), "--encoder", "frozen", "--cv", "0", "--epochs", "1", "--device", "cpu", "-q")
    err = " ".join(proc.stderr.decode().split())
    assert proc.returncode == 0, err
    assert "warning: no training rows for ['mixed']" in err and "--label-map" in err and "Traceback" not in err


def test_package_metadata_names_both_licences_without_a_deprecation_warning(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "equidata", tmp_path / "equidata", ignore=shutil.ignore_patterns("*.safetensors", "__pycache__"))
    (tmp_path / "meta").mkdir()
    code = "import setuptools.build_meta as b; print(b.prepare_metadata_for_build_wheel('meta'))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "deprecated" not in proc.stderr, proc.stderr
    meta = (tmp_path / "meta" / proc.stdout.split()[-1] / "METADATA").read_text()
    assert "License-Expression: Apache-2.0 AND CC-BY-NC-4.0" in meta
    assert "License-File: LICENSE" in meta and "License-File: equidata/heads/default/LICENSE" in meta
    head_licence = (ROOT / "equidata" / "heads" / "default" / "LICENSE").read_text()
    assert "CC BY-NC 4.0" in head_licence and "equidata train" in head_licence


def test_readme_first_screen_states_the_heads_licence_and_the_way_out() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "CC BY-NC 4.0" in first_screen and "train" in first_screen and "your own labels" in first_screen
