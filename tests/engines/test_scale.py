"""Streaming, resume after a real kill, several devices, and the Ray engine against the local one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLES, ROOT, read_jsonl, run_cli
from equidata.engines.base import Step
from equidata.engines.checkpoint import ResumeError, checkpoint_path, partial_path
from equidata.engines.local import run_chunked
from equidata.io import RecordSource, Reject, Row, RunCounts

PROMPTS = [json.loads(line)["prompt"] for line in (EXAMPLES / "prompts.jsonl").read_text().splitlines()]
OPENERS = ["", "Quick question: ", "My friend asked me this. ", "Please answer honestly. ", "For a school project, "]


def prompt_rows(n: int) -> list[dict[str, Any]]:
    """``n`` realistic prompts: the examples recombined with openers, each with an id."""
    return [{"id": f"r{i}", "prompt": OPENERS[(i // len(PROMPTS)) % len(OPENERS)] + PROMPTS[i % len(PROMPTS)]} for i in range(n)]


def write_lines(path: Path, rows: list[dict[str, Any]], bad_every: int = 0) -> Path:
    """JSONL with, every ``bad_every`` lines, a malformed line and a row without a prompt."""
    lines = []
    for i, row in enumerate(rows):
        if bad_every and i % bad_every == bad_every - 1:
            lines += ['{"id": "broken", "prompt": \n', json.dumps({"id": f"empty{i}", "prompt": ""}) + "\n"]
        lines.append(json.dumps(row) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


class Tag(Step):
    """A cheap batch transform with the resume protocol: tags rows, rejects empty prompts, counts chunks."""

    def __init__(self, stop_after: int | None = None, salt: str = "") -> None:
        self.chunks, self.stop_after, self.salt = 0, stop_after, salt

    def fingerprint(self) -> dict[str, Any]:
        return {"salt": self.salt}

    def state(self) -> dict[str, Any]:
        return {"chunks": self.chunks}

    def restore(self, state: dict[str, Any]) -> None:
        self.chunks = state["chunks"]

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        if self.stop_after is not None and self.chunks == self.stop_after:
            raise KeyboardInterrupt
        self.chunks += 1
        return [Reject.of(r, "empty", "prompt") if not r.data.get("prompt") else {**r.data, "chunk": self.chunks, "size": len(rows)} for r in rows]


def test_a_step_is_a_step_subclass_or_a_function(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", prompt_rows(3))
    counts = run_chunked(RecordSource.open(src), lambda rows: [{**r.data, "seen": True} for r in rows], tmp_path / "f.jsonl")
    assert counts.written == 3 and all(r["seen"] for r in read_jsonl(tmp_path / "f.jsonl"))

    class Duck:  # resume hooks that a run would silently skip, were it accepted
        def state(self) -> dict[str, Any]:
            return {"chunks": 1}

        def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
            return [r.data for r in rows]

    with pytest.raises(TypeError, match="subclass equidata.engines.base.Step"):
        run_chunked(RecordSource.open(src), Duck(), tmp_path / "d.jsonl")  # type: ignore[arg-type]


@pytest.mark.parametrize("n_rows", [1, 8, 9])
def test_chunk_boundaries(tmp_path: Path, n_rows: int) -> None:
    src = write_lines(tmp_path / "in.jsonl", prompt_rows(n_rows))
    counts = run_chunked(RecordSource.open(src), Tag(), tmp_path / "out.jsonl", chunk_size=8)
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [f"r{i}" for i in range(n_rows)]
    assert [r["chunk"] for r in out] == [1 + i // 8 for i in range(n_rows)]
    assert [r["size"] for r in out][-1] == (n_rows - 1) % 8 + 1
    assert (counts.read, counts.written, counts.rejected) == (n_rows, n_rows, 0)
    assert not checkpoint_path(tmp_path / "out.jsonl").exists() and not partial_path(tmp_path / "out.jsonl").exists()


def test_interrupted_run_resumes_byte_identical_with_rejects(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", prompt_rows(50), bad_every=7)
    full, cut = tmp_path / "full.jsonl", tmp_path / "cut.jsonl"
    run_chunked(RecordSource.open(src), Tag(), full, chunk_size=6, on_error="skip")
    with pytest.raises(KeyboardInterrupt):
        run_chunked(RecordSource.open(src), Tag(stop_after=3), cut, chunk_size=6, on_error="skip")
    assert json.loads(checkpoint_path(cut).read_text())["step_state"] == {"chunks": 3}
    assert not cut.exists() and partial_path(cut).exists()
    counts = run_chunked(RecordSource.open(src), Tag(), cut, chunk_size=6, on_error="skip", resume=True)
    assert cut.read_bytes() == full.read_bytes()
    assert (tmp_path / "cut.rejects.jsonl").read_bytes() == (tmp_path / "full.rejects.jsonl").read_bytes()
    assert (counts.read, counts.written, counts.rejected) == (64, 50, 14)
    assert not checkpoint_path(cut).exists()


@pytest.mark.parametrize("change", ["input", "step", "chunk size"])
def test_resume_refuses_a_changed_run(tmp_path: Path, change: str) -> None:
    src = write_lines(tmp_path / "in.jsonl", prompt_rows(30))
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_chunked(RecordSource.open(src), Tag(stop_after=2), out, chunk_size=5)
    step, size = Tag(), 5
    if change == "input":
        write_lines(src, prompt_rows(31))
    elif change == "step":
        step = Tag(salt="other head")
    else:
        size = 6
    with pytest.raises(ResumeError, match={"input": "the input changed", "step": "the salt changed", "chunk size": "the settings changed"}[change]) as err:
        run_chunked(RecordSource.open(src), step, out, chunk_size=size, resume=True)
    assert err.value.exit_code == 2


@pytest.mark.slow  # loads the embedding model
def test_bad_input_leaves_no_partial_files(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", prompt_rows(20), bad_every=9)
    out = tmp_path / "out.jsonl"
    proc = run_cli("classify", str(src), "-o", str(out), "--chunk-size", "4", "-q")
    assert proc.returncode == 2 and b"in.jsonl:9" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def _cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.mark.slow
def test_classify_killed_by_a_signal_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", prompt_rows(1500), bad_every=100)
    args = ["classify", str(src), "--chunk-size", "128", "--on-error", "skip", "--device", "cpu", "-q"]
    run_cli(*args, "-o", str(tmp_path / "full.jsonl"), check=True)

    out = tmp_path / "cut.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "equidata", *args, "-o", str(out)], env=_cli_env(), stderr=subprocess.PIPE)
    ckpt = checkpoint_path(out)
    deadline = time.monotonic() + 300
    while not (ckpt.exists() and json.loads(ckpt.read_text() or "{}").get("read", 0) >= 128):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before a checkpoint was seen"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(ckpt.read_text())["read"]
    assert 0 < done < 1530 and not out.exists()

    other_head = tmp_path / "head"
    shutil.copytree(ROOT / "equidata" / "heads" / "default", other_head)
    cfg = json.loads((other_head / "config.json").read_text())
    (other_head / "config.json").write_text(json.dumps({**cfg, "metrics": {}}))
    refused = run_cli(*args, "-o", str(out), "--resume", "--head", str(other_head))
    assert refused.returncode == 2 and b"the head changed" in b" ".join(refused.stderr.split())

    run_cli(*args, "-o", str(out), "--resume", check=True)
    assert out.read_bytes() == (tmp_path / "full.jsonl").read_bytes()
    assert (tmp_path / "cut.rejects.jsonl").read_bytes() == (tmp_path / "full.rejects.jsonl").read_bytes()
    assert len(read_jsonl(out)) == 1500 and not ckpt.exists()


@pytest.mark.slow
def test_two_devices_give_the_one_device_scores(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", prompt_rows(300))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_cli("classify", str(src), "-o", str(one), "--device", "cpu", "--batch-size", "16", "--chunk-size", "100", "-q", check=True)
    run_cli("classify", str(src), "-o", str(two), "--devices", "cpu,cpu", "--batch-size", "16", "--chunk-size", "100", "-q", check=True)
    assert two.read_bytes() == one.read_bytes()


@pytest.mark.slow
@pytest.mark.ray
def test_ray_engine_equals_local_row_for_row(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from equidata.classifier import classify_file
    from equidata.classifier.distributed import classify_ray

    shards = tmp_path / "shards"
    shards.mkdir()
    rows = prompt_rows(300)
    write_lines(shards / "a.jsonl", rows[:170], bad_every=60)
    write_lines(shards / "b.jsonl", rows[170:])
    for shard in ("a", "b"):
        classify_file(shards / f"{shard}.jsonl", tmp_path / f"local-{shard}.jsonl", device="cpu", chunk_size=64, on_error="skip")

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    before = ctx.execution_options.preserve_order, ctx.enable_progress_bars
    try:
        merged = classify_ray(shards, tmp_path / "ray.jsonl", chunk_size=64, on_error="skip")
        classify_ray(shards, tmp_path / "ray-shards", chunk_size=64, on_error="skip")
        assert ray.is_initialized()  # the caller's Ray stays up, and its Data context as it was
        assert (ctx.execution_options.preserve_order, ctx.enable_progress_bars) == before
    finally:
        ray.shutdown()
    for shard in ("a", "b"):
        assert (tmp_path / "ray-shards" / f"{shard}.jsonl").read_bytes() == (tmp_path / f"local-{shard}.jsonl").read_bytes()
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local-a.jsonl").read_bytes() + (tmp_path / "local-b.jsonl").read_bytes()
    assert (merged.counts.read, merged.counts.written, merged.counts.rejected) == (304, 300, 4)
    assert sum(merged.groups.values()) == 300


def parquet_with_unwritable_rows(path: Path) -> Path:
    """40 prompts as Parquet with a float column holding a NaN and an infinity (pyarrow keeps them), and two empty prompts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{**row, "helpfulness": 0.5} for row in prompt_rows(40)]
    rows[6]["helpfulness"], rows[21]["helpfulness"] = float("nan"), float("inf")
    rows[5]["prompt"] = rows[22]["prompt"] = ""
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def tagger() -> Callable[[list[Row]], list[dict[str, Any] | Reject]]:
    """A step that rejects empty prompts and passes the rest on whole (made here, so Ray's workers get it by value, not by module)."""

    def tag_index(batch: list[Row]) -> list[dict[str, Any] | Reject]:
        return [Reject.of(r, "empty", "prompt") if not r.data["prompt"] else {**r.data, "n": r.index} for r in batch]

    return tag_index


def local_and_ray(src: Path, tmp_path: Path) -> tuple[RunCounts, RunCounts]:
    """``src`` through :func:`tagger`'s step in chunks of 4, locally and on a local Ray; both must write the same bytes."""
    ray = pytest.importorskip("ray")
    from equidata.engines.ray import run_ray

    step = tagger()
    local = run_chunked(RecordSource.open(src), step, tmp_path / "local.jsonl", chunk_size=4, on_error="skip")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        counts = run_ray(src, lambda: step, tmp_path / "ray.jsonl", chunk_size=4, on_error="skip", actors=1)
    finally:
        ray.shutdown()
    assert (tmp_path / "ray.rejects.jsonl").read_bytes() == (tmp_path / "local.rejects.jsonl").read_bytes()
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    return local, counts


@pytest.mark.slow
@pytest.mark.ray
def test_ray_engine_writes_the_local_rejects_file_in_input_order(tmp_path: Path) -> None:
    """In a chunk whose empty prompt (a step reject) comes before a cut-off line (a parse reject), both engines write the empty prompt first."""
    rows = prompt_rows(40)
    for row in rows[5::9]:
        row["prompt"] = ""
    local, counts = local_and_ray(write_lines(tmp_path / "in.jsonl", rows, bad_every=7), tmp_path)
    lines = [r["line"] for r in read_jsonl(tmp_path / "local.rejects.jsonl")]
    assert lines == sorted(lines) and lines[:3] == [6, 7, 8]  # one chunk: empty prompt, cut-off line, empty prompt
    assert (counts.read, counts.written, counts.rejected) == (local.read, local.written, local.rejected)


def test_the_ray_engines_chunk_path_rejects_a_parquet_nan_like_the_local_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray's shard reader, chunk actor and writer, run in this process: the rows reach the step as read (not as JSON)."""
    import torch

    from equidata.engines.ray import _ChunkActor, _read_shard, _write
    from equidata.io import ErrorPolicy

    src, tag_index = parquet_with_unwritable_rows(tmp_path / "in.parquet"), tagger()
    local = run_chunked(RecordSource.open(src), tag_index, tmp_path / "local.jsonl", chunk_size=4, on_error="skip")
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # the actor's setting would outlive this test
    actor = _ChunkActor(lambda: tag_index, {}, 1)

    def results() -> Iterator[dict[str, Any]]:
        for chunk in _read_shard({"shard": 0, "path": str(src)}, 4):
            batch = actor({k: [v] for k, v in chunk.items()})  # one chunk a batch, as map_batches hands it on
            yield {k: v[0] for k, v in batch.items()}

    policy = ErrorPolicy("skip", str(src))
    _write(results(), [src], tmp_path / "ray.jsonl", True, tmp_path / "ray.rejects.jsonl", policy, None, None)
    counts = policy.finish(tmp_path / "ray.rejects.jsonl")
    assert [(r["row_number"], r["reason"][:34]) for r in read_jsonl(tmp_path / "local.rejects.jsonl")] == [
        (6, "empty"), (7, "cannot be written as strict JSON: "), (22, "cannot be written as strict JSON: "), (23, "empty"),
    ]
    assert (tmp_path / "ray.rejects.jsonl").read_bytes() == (tmp_path / "local.rejects.jsonl").read_bytes()
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (counts.read, counts.written, counts.rejected) == (local.read, local.written, local.rejected) == (40, 36, 4)


@pytest.mark.slow
@pytest.mark.ray
def test_ray_engine_rejects_a_parquet_nan_like_the_local_engine(tmp_path: Path) -> None:
    """A NaN or infinity from Parquet is a reject on Ray too (it crashed the shard reader): same rejects line, same counts."""
    local, counts = local_and_ray(parquet_with_unwritable_rows(tmp_path / "in.parquet"), tmp_path)
    assert (counts.read, counts.written, counts.rejected) == (local.read, local.written, local.rejected) == (40, 36, 4)


@pytest.mark.slow
def test_fast_tokenizer_gives_sentence_transformers_features() -> None:
    import torch

    from equidata.embedding import Embedder

    emb = Embedder(device="cpu")
    fast = emb._fast_tokenizer()
    assert fast is not None
    texts = [r["prompt"] for r in prompt_rows(200)] + ["", "  padded  ", "ÀÉÎ ß", "x" * 3000, "tab\tnew\nline"]
    got, want = fast(texts), emb._st_tokenize(texts)
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], v) if hasattr(v, "shape") else got[k] == v for k, v in want.items())
