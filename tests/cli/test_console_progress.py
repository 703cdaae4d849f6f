"""Progress for people and for CI logs: plain lines at a bounded rate, real totals, updates finer than a chunk."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import EXAMPLES, run_cli
from tests.curated_data import classified_rows, write_jsonl

from equidata.cli import console
from equidata.cli.console import Advance, LogLines, input_total


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_are_rate_limited_and_carry_total_rate_and_eta() -> None:
    clock, lines = FakeClock(), []
    log = LogLines("classify", 10_000, every=10.0, clock=clock, write=lines.append)
    clock.now += 5  # start-up (model loading) before the first rows
    log.update(0)
    for k in range(1, 241):  # 240 updates, one every 0.125 s: 30 s of work at 200 rows/s
        clock.now += 0.125
        log.update(25 * k)
    assert len(lines) == 3  # one per 10 s, the first 10 s after the start
    assert lines[0] == "classify: 1,000/10,000 rows (10%), 200 rows/s, elapsed 0:00:10, ETA 0:00:45"
    log.close()
    assert lines[-1] == "classify: 6,000/10,000 rows (60%), 200 rows/s, elapsed 0:00:35 (done)"


def test_short_runs_and_unknown_totals() -> None:
    clock, lines = FakeClock(), []
    log = LogLines("export", None, every=10.0, clock=clock, write=lines.append)
    log.update(8192)
    log.close()
    assert lines == []  # under the interval: nothing but the command's own summary
    log = LogLines("export", None, every=0.0, clock=clock, write=lines.append)
    clock.now += 2
    log.update(10)
    clock.now += 2
    log.update(30)
    assert lines[-1] == "export: 30 rows, 10 rows/s, elapsed 0:00:04"


def test_advance_shows_batches_inside_a_chunk_and_never_goes_back() -> None:
    shown: list[int] = []
    advance = Advance(shown.append)
    for _ in range(4):
        advance.batch(2048)  # the model embeds a chunk in four batches
    advance(8192)  # then the engine writes it
    advance.batch(2048)
    advance(100)  # a parse reject counted by the engine only
    assert shown == [2048, 4096, 6144, 8192, 10240]


def test_input_total_counts_or_estimates_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", classified_rows() * 50)
    assert input_total(path) == 2000
    assert input_total(path, EXAMPLES / "prompts.jsonl") == 2040
    assert input_total("-") is None
    monkeypatch.setattr(console, "EXACT_COUNT_BYTES", 1000)
    monkeypatch.setattr(console, "_HEAD_BYTES", 20_000)
    assert abs(input_total(path) - 2000) < 200  # estimated from the head


def test_cli_prints_plain_progress_lines_to_a_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", classified_rows() * 100)
    monkeypatch.setenv("EQUIDATA_PROGRESS_SECONDS", "0")
    proc = run_cli("check", str(path), "--min-rows", "4000")
    assert proc.returncode == 0
    lines = [line for line in proc.stderr.decode().splitlines() if line.startswith("check: ")]
    assert lines and lines[-1].startswith("check: 4,000/4,000 rows (100%)") and lines[-1].endswith("(done)")
    assert "\x1b" not in proc.stderr.decode() and "\r" not in proc.stderr.decode()
    assert run_cli("check", str(path), "-q").stderr == b""


@pytest.mark.slow
def test_classify_reports_each_model_batch(tmp_path: Path) -> None:
    from equidata.classifier import classify_file

    batches: list[int] = []
    chunks: list[int] = []
    classify_file(EXAMPLES / "prompts.jsonl", tmp_path / "out.jsonl", batch_size=8, progress=chunks.append, batch_progress=batches.append)
    assert chunks == [40] and batches == [8] * 5
