"""Embeddings for ``balance``, read from a ``.npy`` file one block of rows at a time.

The file is either the one ``classify --keep-embeddings`` wrote (one row per input row) or a
temporary one that :func:`compute` fills with the embeddings of the rows that need them. Rows are
read with ``pread`` into the block being built, not through a memory map: pages of a map count in
the process's resident memory, and the kernel maps up to 64 KiB around every touched row, so a
scattered k-means sample would map most of a multi-GB file. Read this way, only the kernel's page
cache holds the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path
from typing import TypeVar

import numpy as np

from equidata.embedding import Embedder
from equidata.errors import InputError

_ENCODE_ROWS = 8192
_PIECE = 1024  # positions per read plan, so one read spans at most _PIECE * _GAP rows
_GAP = 4  # rows between two wanted rows that are read through rather than skipped with a new read


class EmbeddingFile:
    """A 2-D float ``.npy``; :meth:`take` returns unit float32 rows for sorted input positions.

    ``positions`` (sorted) says which input row each file row belongs to; ``None``: row ``i`` is input row ``i``.
    """

    def __init__(self, path: str | Path, rows: int, positions: np.ndarray | None = None) -> None:
        self.path, self.positions = Path(path), positions
        try:
            with open(self.path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, fortran, dtype = header(fh)
                self.offset = fh.tell()
                size = os.fstat(fh.fileno()).st_size
        except (OSError, ValueError) as exc:
            raise InputError(f"not a readable .npy embeddings file: {exc}", path=str(path)) from exc
        if len(shape) != 2 or shape[1] < 1 or not np.issubdtype(dtype, np.floating) or fortran:
            raise InputError(f"expected a 2-D float array of embeddings in C order, got shape {shape} and dtype {dtype}", path=str(path))
        expected = rows if positions is None else len(positions)
        if shape[0] != expected:
            raise InputError(
                f"holds {shape[0]} embeddings but the input has {rows} rows; pass the file written by the "
                "`classify --keep-embeddings` run that produced this input", path=str(path),
            )
        self.dim, self.dtype = int(shape[1]), dtype
        self.row_bytes = self.dim * dtype.itemsize
        if size < self.offset + shape[0] * self.row_bytes:
            raise InputError(f"is cut short: {size} bytes for {shape[0]} rows of {self.row_bytes} bytes", path=str(path))

    def take(self, positions: np.ndarray) -> np.ndarray:
        """Unit float32 rows of the input rows at sorted ``positions``."""
        index = positions if self.positions is None else np.searchsorted(self.positions, positions)
        x = np.empty((len(index), self.dim), dtype=np.float32)
        with open(self.path, "rb") as fh:
            for a in range(0, len(index), _PIECE):
                piece = index[a : a + _PIECE]
                cuts = (np.flatnonzero(np.diff(piece) > _GAP) + 1).tolist()
                for s, e in zip([0, *cuts], [*cuts, len(piece)]):
                    lo, hi = int(piece[s]), int(piece[e - 1]) + 1
                    raw = os.pread(fh.fileno(), (hi - lo) * self.row_bytes, self.offset + lo * self.row_bytes)
                    x[a + s : a + e] = np.frombuffer(raw, dtype=self.dtype).reshape(hi - lo, self.dim)[piece[s:e] - lo]
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class GroupRows:
    """:class:`~equidata.balance.cluster.UnitRows` of some input rows (sorted ``positions``) of an :class:`EmbeddingFile`."""

    def __init__(self, source: EmbeddingFile, positions: np.ndarray) -> None:
        self.source, self.positions = source, positions

    def __len__(self) -> int:
        return len(self.positions)

    def take(self, idx: np.ndarray) -> np.ndarray:
        return self.source.take(self.positions[idx])


def compute(texts: Iterable[str], positions: np.ndarray, embedder: Embedder, path: Path) -> EmbeddingFile:
    """Embed ``texts`` (of the input rows at sorted ``positions``) into the ``.npy`` at ``path``, a block at a time."""
    it = iter(texts)
    with open(path, "xb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")), "fortran_order": False, "shape": (len(positions), embedder.dim)})
        while block := list(islice(it, _ENCODE_ROWS)):
            fh.write(np.ascontiguousarray(embedder.encode(block), dtype="<f4").tobytes())
    return EmbeddingFile(path, len(positions), positions)


T = TypeVar("T")


def lazy(make: Callable[[], T]) -> Callable[[], T]:
    """``make`` called once, on first use."""
    cache: list[T] = []

    def get() -> T:
        if not cache:
            cache.append(make())
        return cache[0]

    return get
