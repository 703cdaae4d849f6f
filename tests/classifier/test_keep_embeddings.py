"""classify --keep-embeddings: one float16 row per written row, in order, written atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from equidata.classifier import ClassifyStep
from equidata.classifier.embeddings_out import keep_embeddings
from equidata.engines import run_chunked
from equidata.errors import InputError
from equidata.io import RecordSource
from tests.helpers import read_jsonl, write_jsonl


class FakeEmbedder:
    """Deterministic 3-d 'embeddings' that encode the prompt's number, so alignment is checkable."""

    dim = 3

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([[float(t.split()[-1]), 1.0, -1.0] for t in texts], dtype=np.float32)


class FakeClassifier:
    def __init__(self) -> None:
        self.embedder = FakeEmbedder()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        x = self.embedder.encode(texts)
        return np.tile([0.7, 0.1, 0.1, 0.1], (len(x), 1))


def _rows(n: int) -> list[dict]:
    rows = [{"prompt": f"prompt {i}"} for i in range(n)]
    rows[3] = {"prompt": "   "}  # rejected by the step: no embedding row for it
    return rows


def test_embeddings_align_with_written_rows_across_chunks(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", _rows(11))
    step = ClassifyStep(FakeClassifier(), source=str(src))  # type: ignore[arg-type]
    embedder = step.classifier.embedder
    with keep_embeddings(step, tmp_path / "emb.npy") as transform:
        counts = run_chunked(RecordSource.open(src), transform, tmp_path / "out.jsonl", on_error="skip", chunk_size=4)
    assert step.classifier.embedder is embedder  # the recorder stood in only while the file was written
    emb = np.load(tmp_path / "emb.npy")
    written = read_jsonl(tmp_path / "out.jsonl")
    assert counts.written == len(written) == 10 and counts.rejected == 1
    assert emb.dtype == np.float16 and emb.shape == (10, 3)
    assert emb[:, 0].tolist() == [float(r["prompt"].split()[-1]) for r in written]


def test_a_failed_run_leaves_no_embeddings_file(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", _rows(6))
    step = ClassifyStep(FakeClassifier(), source=str(src))  # type: ignore[arg-type]
    with pytest.raises(InputError), keep_embeddings(step, tmp_path / "emb.npy") as transform:
        run_chunked(RecordSource.open(src), transform, tmp_path / "out.jsonl", on_error="fail", chunk_size=2)
    assert list(tmp_path.iterdir()) == [src]
