"""Deterministic JSONL encoding and atomic file output (temporary file, then rename)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

STDOUT = "-"


def _default(value: Any) -> Any:
    """JSON fallback for what Parquet/``datasets`` rows may hold (numpy scalars, bytes, dates)."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    raise TypeError(f"cannot write a value of type {type(value).__name__} as JSON")


def dumps_line(record: dict[str, Any]) -> bytes:
    """One JSONL line: UTF-8, keys in insertion order, no ASCII escaping."""
    return (json.dumps(record, ensure_ascii=False, default=_default) + "\n").encode("utf-8")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open ``path`` for writing through a temporary file renamed into place on success.

    On an exception the temporary file is removed, so no partial output is left behind.
    ``-`` writes straight to stdout (streamed, so not atomic).
    """
    if str(path) == STDOUT:
        stream = sys.stdout.buffer if "b" in mode else sys.stdout
        yield stream
        stream.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write ``records`` atomically as JSONL; returns how many were written."""
    n = 0
    with atomic_output(path) as fh:
        for record in records:
            fh.write(dumps_line(record))
            n += 1
    return n


def write_json(path: str | Path, obj: Any) -> None:
    """Write one JSON document atomically (sorted keys, indented, trailing newline)."""
    with atomic_output(path, "w") as fh:
        fh.write(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=_default) + "\n")


def sidecar_path(output: str | Path, suffix: str, input_path: str | Path = "stdin") -> Path:
    """Where a side file (rejects, manifest) goes by default.

    Next to the output (``out.jsonl`` -> ``out.rejects.jsonl``); when the output is stdout, in the
    current folder, named after the input, so side files never enter the data stream.
    """
    if str(output) != STDOUT:
        out = Path(output)
        return out.with_name(f"{out.stem}.{suffix}")
    stem = "stdin" if str(input_path) == "-" else Path(input_path).stem
    return Path(f"{stem}.{suffix}")
