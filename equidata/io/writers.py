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

from equidata.errors import ParameterError

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
    """One strict JSONL line: UTF-8, keys in insertion order, no ASCII escaping.

    Raises ``ValueError`` for what RFC 8259 cannot hold (NaN, infinities, lone surrogates) and
    ``TypeError`` for values JSON has no type for; callers reject such a row.
    """
    return (_LINE_ENCODER.encode(record) + "\n").encode("utf-8")


# What ``json.dumps(record, ensure_ascii=False, allow_nan=False, default=_default)`` builds on every call,
# built once: the same C encoder and bytes, without constructing an encoder per row (it keeps no state
# between calls, so threads share it). orjson cannot stand in: it writes no space after ``,`` and ``:``
# and formats floats its own way (``1e16`` for ``1e+16``).
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_default)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: str | Path, mode: str = "wb", *, skip_empty: bool = False) -> Iterator[IO[Any]]:
    """Open ``path`` for writing through a temporary file renamed into place on success.

    On an exception the temporary file is removed, so no partial output is left behind. The
    temporary file has a random name created exclusively, so a planted link is never followed.
    ``skip_empty`` leaves ``path`` alone when nothing was written (no empty rejects files).
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
            empty = fh.tell() == 0
        if skip_empty and empty:
            Path(tmp).unlink()
        else:
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


def sidecar_path(output: str | Path, suffix: str, input_path: str | Path | None = None, option: str = "rejects") -> Path:
    """Where a side file (rejects, manifest) goes by default.

    Next to the output (``out.jsonl`` -> ``out.rejects.jsonl``); when the output is stdout, in the
    current folder, named after the input, so side files never enter the data stream. Stdin to
    stdout has no name to give: two piped stages would write (and so clobber) the same side file,
    so the caller must name it with ``--<option>`` (:class:`ParameterError` otherwise).
    """
    if str(output) != STDOUT:
        out = Path(output)
        return out.with_name(f"{out.stem}.{suffix}")
    if input_path is None or str(input_path) == "-":
        raise ParameterError(option, f"given (--{option} FILE) when reading stdin and writing stdout, so that piped stages never share a side file", None)
    return Path(f"{Path(input_path).stem}.{suffix}")


def rejects_file(on_error: str, rejects: str | Path | None, output: str | Path, input_path: str | Path) -> Path | None:
    """The rejects file of a run: ``rejects`` if given, else next to the output; none unless skipping."""
    if on_error != "skip":
        return None
    return Path(rejects) if rejects else sidecar_path(output, "rejects.jsonl", input_path)
