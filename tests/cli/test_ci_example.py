"""The example GitHub Actions workflow (examples/ci/): its shell steps run here, the gate passes, the report is written."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "examples" / "ci"))

from run_local import WORKFLOW, run_steps, shell_steps  # noqa: E402


def equidata_on_path(tmp_path: Path) -> dict[str, str]:
    """PATH with an ``equidata`` that runs this checkout (what the workflow's install step provides)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "equidata"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m equidata "$@"\n')
    shim.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_workflow_runs_the_pipeline_and_uploads_what_it_writes() -> None:
    env, steps = shell_steps()
    names = [s["name"] for s in steps]
    assert names == ["Classify", "Balance", "Annotate masks", "Check (fails the job on drift, lost rows or degenerate masks)", "Report"]
    assert [s.get("if") for s in steps][-1] == "always()"
    upload = WORKFLOW.read_text()
    assert "actions/upload-artifact" in upload and "out/ci/report.html" in upload and env["OUT"] == "out/ci"


@pytest.mark.slow
def test_workflow_steps_pass_on_the_example_data(tmp_path: Path) -> None:
    out = tmp_path / "ci"
    assert run_steps(out, equidata_on_path(tmp_path)) == 0
    check = json.loads((out / "check.json").read_text())
    assert check["passed"] and len(check["checks"]) == 10
    page = (out / "report.html").read_text()
    assert page.count("<svg") == 5 and "AMA masks" in page


@pytest.mark.slow
def test_a_failing_check_fails_the_run_but_the_report_is_still_written(tmp_path: Path) -> None:
    workflow = tmp_path / "drift.yml"
    text = WORKFLOW.read_text().replace("--min-rows 10 ", "--min-rows 1000000 ")
    assert "--min-rows 1000000 " in text
    workflow.write_text(text)
    out = tmp_path / "ci"
    assert run_steps(out, equidata_on_path(tmp_path), workflow) == 1
    assert not json.loads((out / "check.json").read_text())["passed"]
    assert (out / "report.html").is_file()
