"""``classify --keep-embeddings``: save the prompt embeddings of the written rows as a float16 ``.npy``.

Row ``i`` of the array is the embedding of row ``i`` of the classify output (of the text it was
classified from: a dialogue's joined user turns under ``--turns all``), so ``balance
--embeddings`` can reuse it instead of running the model again. The file streams: float16 rows are
appended behind an ``.npy`` header written for zero rows, and the header is rewritten with the
final row count at the end (numpy pads the header so the count can grow in place). It is written
atomically: a failed run leaves no file.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from equidata.classifier.predict import ClassifyStep
from equidata.errors import ParameterError
from equidata.io import Reject, Row, atomic_output

DTYPE = np.dtype("<f2")


def npy_header(rows: int, dim: int) -> bytes:
    """The ``.npy`` (version 1.0) header of a C-order float16 ``(rows, dim)`` array."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(DTYPE), "fortran_order": False, "shape": (rows, dim)})
    return buf.getvalue()


class NpyRowWriter:
    """Append float16 rows to an open binary file, then :meth:`close` fixes the header's row count."""

    def __init__(self, fh: IO[bytes], dim: int) -> None:
        self.fh, self.dim, self.rows = fh, dim, 0
        self.header_size = len(npy_header(0, dim))
        fh.write(npy_header(0, dim))

    def write(self, x: np.ndarray) -> None:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) embeddings, got {x.shape}")
        self.fh.write(np.ascontiguousarray(x, dtype=DTYPE).tobytes())
        self.rows += len(x)

    def close(self) -> None:
        header = npy_header(self.rows, self.dim)
        if len(header) != self.header_size:  # numpy reserves room for 21 digits; cannot happen
            raise AssertionError("npy header grew")
        self.fh.seek(0)
        self.fh.write(header)
        self.fh.seek(0, io.SEEK_END)


class _Recorder:
    """Stands in for the classifier's embedder and keeps what its latest ``encode`` call returned."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.latest = inner, np.zeros((0, inner.dim), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.latest = self.inner.encode(texts)
        return self.latest

    def take(self, n: int) -> np.ndarray:
        """The first ``n`` rows of the chunk's one ``encode`` call: the rows' own texts (their single turns follow)."""
        have, self.latest = self.latest, self.latest[:0]
        if len(have) < n:
            raise AssertionError(f"{n} rows written but only {len(have)} embeddings computed")
        return have[:n]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextmanager
def keep_embeddings(step: ClassifyStep, path: str | Path | None) -> Iterator[Callable[[list[Row]], list[Any]]]:
    """Yield ``step``, wrapped to save the embeddings of its written rows to ``path`` (if given)."""
    if path is None:
        yield step
        return
    if str(path) == "-":
        raise ParameterError("keep_embeddings", "a file path (embeddings never go to stdout)", str(path))
    recorder = _Recorder(step.classifier.embedder)
    step.classifier.embedder = recorder
    try:
        with atomic_output(path) as fh:
            writer = NpyRowWriter(fh, recorder.dim)

            def transform(rows: list[Row]) -> list[Any]:
                out = step(rows)
                writer.write(recorder.take(sum(not isinstance(r, Reject) for r in out)))
                return out

            yield transform
            writer.close()
    finally:
        step.classifier.embedder = recorder.inner  # the classifier is the caller's again, as it came
