"""Readers for JSONL, JSON arrays, Parquet, CSV and ``datasets`` folders, all yielding :class:`Row`.

Parsing problems (malformed or non-strict JSON, invalid UTF-8, a non-object row) come out of the
stream as :class:`Reject` records so that the caller's error policy decides between failing and
skipping. Text inputs may be gzip (``.gz``) or Zstandard (``.zst``) compressed and may start with
a UTF-8 byte order mark. A FIFO or other non-regular file is read once, like stdin.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from equidata.errors import InputError, ParameterError
from equidata.io import codec
from equidata.io.records import Reject, Row

#: Input formats a RecordSource reads (``format=``); the export layouts are :data:`equidata.export.FORMATS`.
INPUT_FORMATS = ("jsonl", "json", "parquet", "csv", "hf")
STDIN = "-"
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
_COMPRESSED = (".gz", ".zst")
_HF_MARKERS = ("dataset_info.json", "state.json")
_BATCH = 4096
_NOT_JSON_NUMBER = re.compile(rb"-?(NaN|Infinity)")


def compression(path: str | Path) -> str | None:
    """The compression suffix of a path (`.gz`, `.zst`), or None."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in _COMPRESSED else None


def detect_format(path: str | Path) -> str:
    """Pick a reader from the path: ``-`` is JSONL on stdin, a folder is a ``datasets`` save.

    ``.gz`` and ``.zst`` are read through the decompressor; the suffix before them names the format.
    """
    if str(path) == STDIN:
        return "jsonl"
    p = Path(path)
    if p.is_dir():
        if not any((p / m).is_file() for m in _HF_MARKERS):
            raise InputError(
                "a folder is read only as a `datasets` save_to_disk folder (with dataset_info.json and state.json), "
                "and this one is not; pass a file, or concatenate shards in name order: cat DIR/*.jsonl | equidata COMMAND -",
                path=str(path),
            )
        return "hf"
    name = p.with_suffix("") if compression(p) else p
    fmt = _SUFFIXES.get(name.suffix.lower())
    if fmt is None or (compression(p) and fmt == "parquet"):
        allowed = sorted(_SUFFIXES) + [f"{s}{c}" for s in (".jsonl", ".json", ".csv") for c in _COMPRESSED]
        raise ParameterError("input", f"a file ending in one of {allowed}, a datasets folder or '-'", str(path))
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
        if fmt not in INPUT_FORMATS:
            raise ParameterError("format", f"one of {list(INPUT_FORMATS)}", fmt)
        return cls(path, fmt)

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == STDIN else self.path

    @property
    def rereadable(self) -> bool:
        """A regular file or a folder: it can be fingerprinted and read again (not stdin, a FIFO or a device)."""
        p = Path(self.path)
        return self.path != STDIN and (p.is_file() or p.is_dir())

    @property
    def unit(self) -> str:
        """What a record's number counts: lines for text formats, rows for the rest."""
        return "line" if self.fmt in ("jsonl", "csv") else "row"

    @property
    def strict_json(self) -> bool:
        """Whether every row read can be written back as strict JSON unchecked.

        JSONL and JSON arrays come through the strict decoder and CSV holds text; Parquet and
        ``datasets`` rows may hold NaN, infinities or types JSON lacks (see :func:`equidata.io.encode_line`).
        """
        return self.fmt in ("jsonl", "json", "csv")

    def __iter__(self) -> Iterator[Row | Reject]:
        readers = {"jsonl": self._jsonl, "json": self._json, "parquet": self._parquet, "csv": self._csv, "hf": self._hf}
        return readers[self.fmt]()

    def __len__(self) -> int:
        """Row count where the format knows it cheaply; raises TypeError otherwise."""
        if self.fmt == "parquet":
            return self._parquet_file().metadata.num_rows
        if self.fmt == "hf":
            return len(self._load_hf())
        raise TypeError(f"{self.fmt} input has no cheap length")

    def _binary(self) -> BinaryIO:
        """The raw bytes, decompressed; stdin is left open for the caller's other uses."""
        if self.path == STDIN:
            return sys.stdin.buffer
        kind = compression(self.path)
        if kind == ".gz":
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        if kind == ".zst":
            return io.BufferedReader(_ZstdReader(open(self.path, "rb")))  # noqa: SIM115
        return open(self.path, "rb")  # noqa: SIM115

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A corrupt or truncated compressed file is bad input (exit 2), named by its path."""
        try:
            yield
        except (EOFError, ValueError, OSError) as exc:
            if not compression(self.path) or isinstance(exc, InputError):
                raise
            raise InputError(f"cannot decompress: {exc}", path=self.name) from exc

    def _jsonl(self) -> Iterator[Row | Reject]:
        stream = self._binary()
        try:
            with self._reading():
                yield from self._json_lines(stream)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()

    def _json_lines(self, lines: Iterable[bytes]) -> Iterator[Row | Reject]:
        index = 0
        for lineno, raw in enumerate(lines, 1):
            if lineno == 1 and raw.startswith(codec.BOM):
                raw = raw[len(codec.BOM):]
            if not raw.strip():
                continue
            yield _parse_json_line(raw, index, lineno)
            index += 1

    def _json(self) -> Iterator[Row | Reject]:
        with self._reading(), self._binary() as stream:
            data = stream.read()
        data = data[len(codec.BOM):] if data.startswith(codec.BOM) else data
        head = data.lstrip()[:1]
        if head == b"{" and data.strip().count(b"\n"):
            try:
                whole = codec.loads(data)
            except codec.JSONDecodeError:
                whole = None  # JSON Lines: one object per line
            if isinstance(whole, dict):
                raise InputError(
                    f"holds one JSON object (with keys {sorted(whole)[:8]}), not rows; expected a JSON array of objects or JSON Lines (one object per line)",
                    path=self.name,
                )
        if head != b"[":  # a .json file holding JSON Lines
            yield from self._json_lines(data.splitlines(keepends=True))
            return
        try:
            items = codec.loads(data)
        except codec.JSONDecodeError as exc:
            raise InputError(f"malformed JSON array: {_json_reason(data, exc)}", path=self.name, line=exc.lineno) from exc
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield Row(index, index + 1, item, "row")
            else:
                yield Reject(index, index + 1, f"expected a JSON object, got {type(item).__name__}", raw=repr(item)[:200], unit="row")

    def _parquet_file(self) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"not a readable Parquet file: {exc}", path=self.name) from exc

    def _parquet(self) -> Iterator[Row]:
        import pyarrow as pa

        index = 0
        try:
            for batch in self._parquet_file().iter_batches(batch_size=_BATCH):
                for item in batch.to_pylist():
                    yield Row(index, index + 1, item, "row")
                    index += 1
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"not a readable Parquet file: {exc}", path=self.name, line=index + 1, unit="row") from exc

    def _csv(self) -> Iterator[Row | Reject]:
        with self._reading(), io.TextIOWrapper(self._binary(), encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            reader = csv.DictReader(fh, strict=True)
            try:
                reader.fieldnames  # noqa: B018 -- reads the header, so line_num counts from it
            except csv.Error as exc:
                raise InputError(f"malformed CSV header: {exc}", path=self.name, line=1) from exc
            index = 0
            while True:
                start = reader.line_num + 1
                try:
                    item = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # e.g. an unterminated quote: the rest of the file is unreadable
                    raise InputError(f"malformed CSV: {exc}", path=self.name, line=start) from exc
                line = reader.line_num
                bad = [k for k, v in item.items() if _has_surrogates(k) or _has_surrogates(v)]
                if bad:
                    yield Reject(index, line, "invalid UTF-8", field=str(bad[0]).encode("utf-8", "replace").decode(), unit="line")
                elif None in item:
                    yield Reject(index, line, "more values than header columns", raw=str(item.pop(None)), unit="line")
                else:
                    yield Row(index, line, item, "line")
                index += 1

    def _load_hf(self) -> Any:
        from datasets import DatasetDict, load_from_disk

        try:
            ds = load_from_disk(self.path)
        except (OSError, ValueError) as exc:
            raise InputError(f"not a readable `datasets` folder: {exc}", path=self.name) from exc
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


class _ZstdReader(io.RawIOBase):
    """A Zstandard stream as a raw binary file; raises ``EOFError`` when the input ends inside a frame."""

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self._raw, self._zstd = raw, zstandard
        self._dec = zstandard.ZstdDecompressor().decompressobj()
        self._pending, self._fed = b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            rest = b""
            if self._dec.eof:  # one frame done; another may follow
                rest, self._dec, self._fed = self._dec.unused_data, self._zstd.ZstdDecompressor().decompressobj(), False
            chunk = rest or self._raw.read(1 << 16)
            if not chunk:
                if self._fed and not self._dec.eof:
                    raise EOFError("the file ends inside a Zstandard frame (truncated?)")
                return 0
            self._fed = True
            try:
                self._pending = self._dec.decompress(chunk)
            except self._zstd.ZstdError as exc:
                raise ValueError(str(exc)) from exc
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _json_reason(raw: bytes, exc: codec.JSONDecodeError) -> str:
    """A JSON error in words, naming the non-JSON numbers that other encoders write."""
    if _NOT_JSON_NUMBER.match(raw, exc.pos):
        return f"NaN and Infinity are not JSON (RFC 8259) at column {exc.colno}; write null or a number"
    if exc.msg.startswith("depth limit"):
        return f"nested more than 1024 levels deep at column {exc.colno}"
    return f"{exc.msg} at column {exc.colno}"


def _raw_text(raw: bytes) -> str:
    """The line as text for the rejects file: invalid UTF-8 and lone surrogates replaced, so it stays strict JSON."""
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def _parse_json_line(raw: bytes, index: int, lineno: int) -> Row | Reject:
    try:
        item = codec.loads(raw)
    except codec.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return Reject(index, lineno, "invalid UTF-8", raw=_raw_text(raw))
        return Reject(index, lineno, f"malformed JSON: {_json_reason(raw, exc)}", raw=_raw_text(raw))
    if not isinstance(item, dict):
        return Reject(index, lineno, f"expected a JSON object, got {type(item).__name__}", raw=_raw_text(raw))
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

