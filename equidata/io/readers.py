"""Readers for JSONL, JSON arrays, Parquet, CSV and ``datasets`` folders, all yielding :class:`Row`.

Parsing problems (malformed JSON, invalid UTF-8, a non-object row) come out of the stream as
:class:`Reject` records so that the caller's error policy decides between failing and skipping.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from equidata.errors import InputError, ParameterError
from equidata.io.records import Reject, Row

FORMATS = ("jsonl", "json", "parquet", "csv", "hf")
STDIN = "-"
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
_BATCH = 4096


def detect_format(path: str | Path) -> str:
    """Pick a reader from the path: ``-`` is JSONL on stdin, a folder is a ``datasets`` save."""
    if str(path) == STDIN:
        return "jsonl"
    p = Path(path)
    if p.is_dir():
        return "hf"
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise ParameterError("input", f"a file ending in one of {sorted(_SUFFIXES)}, a datasets folder or '-'", str(path))
    return fmt


@dataclass
class RecordSource:
    """An input path plus its format; iterate it for :class:`Row` / :class:`Reject` records."""

    path: str
    fmt: str

    @classmethod
    def open(cls, path: str | Path, fmt: str | None = None) -> RecordSource:
        """Validate the path and choose the reader (``fmt`` overrides detection)."""
        path = str(path)
        if path != STDIN and not Path(path).exists():
            raise InputError("no such file or folder", path=path)
        fmt = fmt or detect_format(path)
        if fmt not in FORMATS:
            raise ParameterError("format", f"one of {list(FORMATS)}", fmt)
        return cls(path, fmt)

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == STDIN else self.path

    @property
    def unit(self) -> str:
        """What a record's number counts: lines for text formats, rows for the rest."""
        return "line" if self.fmt in ("jsonl", "csv") else "row"

    def __iter__(self) -> Iterator[Row | Reject]:
        readers = {"jsonl": self._jsonl, "json": self._json, "parquet": self._parquet, "csv": self._csv, "hf": self._hf}
        return readers[self.fmt]()

    def __len__(self) -> int:
        """Row count where the format knows it cheaply; raises TypeError otherwise."""
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(self.path).metadata.num_rows
        if self.fmt == "hf":
            return len(self._load_hf())
        raise TypeError(f"{self.fmt} input has no cheap length")

    def _binary(self) -> BinaryIO:
        return sys.stdin.buffer if self.path == STDIN else open(self.path, "rb")  # noqa: SIM115

    def _jsonl(self) -> Iterator[Row | Reject]:
        stream = self._binary()
        try:
            index = 0
            for lineno, raw in enumerate(stream, 1):
                if not raw.strip():
                    continue
                yield _parse_json_line(raw, index, lineno)
                index += 1
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()

    def _json(self) -> Iterator[Row | Reject]:
        data = Path(self.path).read_bytes()
        if data.lstrip()[:1] != b"[":  # a .json file holding JSON Lines
            yield from self._jsonl()
            return
        try:
            items = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InputError("invalid UTF-8", path=self.path, line=data.count(b"\n", 0, exc.start) + 1) from exc
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON array: {exc.msg}", path=self.path, line=exc.lineno) from exc
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield Row(index, index + 1, item, "row")
            else:
                yield Reject(index, index + 1, f"expected a JSON object, got {type(item).__name__}", raw=json.dumps(item), unit="row")

    def _parquet(self) -> Iterator[Row]:
        import pyarrow.parquet as pq

        index = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=_BATCH):
            for item in batch.to_pylist():
                yield Row(index, index + 1, item, "row")
                index += 1

    def _csv(self) -> Iterator[Row | Reject]:
        with open(self.path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            reader = csv.DictReader(fh)
            for index, item in enumerate(reader):
                line = reader.line_num
                bad = [k for k, v in item.items() if _has_surrogates(k) or _has_surrogates(v)]
                if bad:
                    yield Reject(index, line, "invalid UTF-8", field=str(bad[0]).encode("utf-8", "replace").decode(), unit="line")
                elif None in item:
                    yield Reject(index, line, "more values than header columns", raw=str(item.pop(None)), unit="line")
                else:
                    yield Row(index, line, item, "line")

    def _load_hf(self) -> Any:
        from datasets import DatasetDict, load_from_disk

        ds = load_from_disk(self.path)
        if isinstance(ds, DatasetDict):
            raise InputError(f"a DatasetDict with splits {sorted(ds)}; pass one split's folder, e.g. {self.path}/{next(iter(ds))}", path=self.path)
        return ds

    def _hf(self) -> Iterator[Row]:
        ds = self._load_hf()
        index = 0
        for batch in ds.iter(batch_size=_BATCH):
            keys = list(batch)
            for values in zip(*(batch[k] for k in keys)):
                yield Row(index, index + 1, dict(zip(keys, values)), "row")
                index += 1


def _parse_json_line(raw: bytes, index: int, lineno: int) -> Row | Reject:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Reject(index, lineno, "invalid UTF-8", raw=raw.decode("utf-8", "replace").rstrip("\n"))
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        return Reject(index, lineno, f"malformed JSON: {exc.msg} at column {exc.colno}", raw=text.rstrip("\n"))
    if not isinstance(item, dict):
        return Reject(index, lineno, f"expected a JSON object, got {type(item).__name__}", raw=text.rstrip("\n"))
    return Row(index, lineno, item)


def _has_surrogates(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_rows(path: str | Path, fmt: str | None = None) -> Iterator[Row | Reject]:
    """Iterate the records of ``path`` (see :class:`RecordSource`)."""
    return iter(RecordSource.open(path, fmt))

