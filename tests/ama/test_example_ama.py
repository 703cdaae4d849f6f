"""examples/ama_dpo.py runs the whole AMA path (needs the balance and export commands)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, read_jsonl

pytest.importorskip("equidata.balance")
pytest.importorskip("equidata.export")
pytest.importorskip("trl")


@pytest.mark.slow
def test_ama_dpo_example_runs_end_to_end(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("ama_dpo", EXAMPLES / "ama_dpo.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    summary = module.main(["--workdir", str(tmp_path)])
    masked = read_jsonl(tmp_path / "masked.jsonl")
    assert summary["steps"] == 2 and math.isfinite(summary["loss"]) and summary["pairs"] == len(masked) > 0
    assert all(len(r["chosen_token_weights"]) == len(r["chosen_token_ids"]) for r in masked)
