"""The compact per-row table ``balance`` selects from, and the two streaming passes over an input.

Pass 1 (:func:`scan`) keeps, per input record, only what selection needs: line number, risk group,
confidence, a 128-bit hash of the normalised prompt conversation, and (later) the row's fate, about
40 bytes a row. Pass 2 (:func:`write_rows`) reads the input again and writes the selected rows and
the manifest line of every row, in input order. Stdin cannot be read twice, so :func:`readable`
spools it to a private temporary file first.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from array import array
from collections.abc import Iterator
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from equidata.text import normalise_text
from equidata.errors import InputError
from equidata.groups import RISK_GROUPS
from equidata.io import STDIN, ErrorPolicy, RecordSource, Reject, Row, dumps_line, encode_line
from equidata.schemas import FieldProblem, Schema, detect_schema, extract_pair

GENERAL = "general"
GROUPS = (*RISK_GROUPS, GENERAL)
SELECTED, OVER_QUOTA, LOW_CONFIDENCE, DUPLICATE_OF, REJECTED = "selected", "over_quota", "low_confidence", "duplicate_of", "rejected"
#: fate codes, in :attr:`Rows.fate`; 0 means "no fate yet"
ALIVE, IS_REJECTED, IS_LOW, IS_DUPLICATE, IS_SELECTED, IS_OVER = range(6)
_FATE_NAMES = {IS_LOW: LOW_CONFIDENCE, IS_SELECTED: SELECTED, IS_OVER: OVER_QUOTA}


@dataclass
class Rows:
    """Every record of one input: the selection fields as arrays, indexed by record position."""

    label: str
    name: str
    path: Path | str
    unit: str = "line"
    schema: Schema | None = None
    line: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # index into GROUPS, -1 rejected
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    key: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.uint64))
    fate: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    dup_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    reasons: dict[int, str] = field(default_factory=dict)  # rejected positions only

    def __len__(self) -> int:
        return len(self.line)

    def alive(self, group: str | None = None) -> np.ndarray:
        """Positions of rows with no fate yet (optionally only of ``group``)."""
        mask = self.fate == ALIVE
        if group is not None:
            mask &= self.group == GROUPS.index(group)
        return np.flatnonzero(mask)

    def mark_duplicates(self, positions: np.ndarray, dup_of: np.ndarray) -> None:
        """Row ``positions[i]`` duplicates row ``positions[dup_of[i]]`` where ``dup_of[i] >= 0``."""
        hit = dup_of >= 0
        self.fate[positions[hit]] = IS_DUPLICATE
        self.dup_of[positions[hit]] = positions[dup_of[hit]]

    def fate_text(self, k: int) -> str:
        code = int(self.fate[k])
        if code == IS_REJECTED:
            return f"{REJECTED}:{self.reasons[k]}"
        if code == IS_DUPLICATE:
            return f"{DUPLICATE_OF}:{self.line[self.dup_of[k]]}"
        return _FATE_NAMES[code]

    def count(self, group: str) -> dict[int, int]:
        """Rows of ``group`` per fate code."""
        codes, counts = np.unique(self.fate[self.group == GROUPS.index(group)], return_counts=True)
        return dict(zip(codes.tolist(), counts.tolist()))


def readable(path: str | Path, stack: ExitStack) -> Path | str:
    """``path`` itself, or, for an input that can be read only once (stdin, a FIFO), a private temporary copy.

    Balance reads its input twice. The copy keeps the FIFO's name (so its format is detected the same
    way; stdin is JSONL) and is removed when ``stack`` closes.
    """
    stdin = str(path) == STDIN
    if not stdin and (Path(path).is_file() or Path(path).is_dir()):
        return path
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="equidata-balance-")))
    spool = folder / ("stdin.jsonl" if stdin else Path(path).name)
    with open(spool, "xb") as fh, (nullcontext(sys.stdin.buffer) if stdin else open(path, "rb")) as src:  # a fresh name in a fresh 0700 folder
        shutil.copyfileobj(src, fh, 1 << 20)
    return spool


def risk_of(data: dict[str, Any]) -> tuple[str, float]:
    """The row's ``risk_group`` and confidence, as written by ``classify``."""
    group = data.get("risk_group")
    if group not in RISK_GROUPS:
        why = "missing; is this `equidata classify` output?" if group is None else f"expected one of {list(RISK_GROUPS)}, got {group!r}"
        raise FieldProblem("risk_group", why)
    conf = data.get("risk_confidence")
    if conf is None and isinstance(data.get("risk_scores"), dict):
        conf = data["risk_scores"].get(group)
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.0 <= conf <= 1.0:
        raise FieldProblem("risk_confidence", f"expected a number in [0, 1], got {conf!r}")
    return group, float(conf)


def prompt_key(schema: Schema, data: dict[str, Any]) -> bytes:
    """16-byte hash of the normalised prompt conversation (context turns and the classified text).

    The row must also hold a usable preference pair when it has responses: ``export``'s
    :func:`~equidata.schemas.extract_pair` check runs here, so a row ``export`` would refuse is
    rejected before selection and the delivered ratio holds.
    """
    extract_pair(schema, data)
    prompt = schema.prompt(data)
    turns = [[m["role"], normalise_text(m["content"])] for m in prompt.context]
    text = json.dumps([turns, normalise_text(prompt.text)], ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _source(rows: Rows) -> RecordSource:
    source = RecordSource.open(rows.path)
    rows.unit = source.unit
    return source


def scan(path: str | Path, label: str, policy: ErrorPolicy, prompt_field: str | None, *, name: str | None = None) -> Rows:
    """Pass 1: validate every record of ``path`` and keep its selection fields (see :class:`Rows`).

    Its rejects go through ``policy``, each rejects line led by ``"source": label``. Pass 2 writes a
    selected row whole, so a row that cannot be written as strict JSON is rejected here, before
    selection, and quotas and counts stay right. Only Parquet and ``datasets`` rows can be such a row
    (:attr:`~equidata.io.RecordSource.strict_json`), so only they pay for the check (one encoding).
    """
    rows = Rows(label, name or str(path), path)
    policy.source, policy.prefix = rows.name, {"source": label}
    lines, groups, conf, keys, reasons = array("q"), array("b"), array("d"), bytearray(), {}
    general = GROUPS.index(GENERAL)
    unmatched: InputError | None = None
    source = _source(rows)
    check_writable = not source.strict_json
    for rec in policy.counted(source):
        lines.append(rec.line)
        if isinstance(rec, Row):
            try:
                rows.schema = rows.schema or detect_schema(rec.data, prompt_field, source=rows.name)
                key = prompt_key(rows.schema, rec.data)
                group, c = (GENERAL, 1.0) if label == GENERAL else risk_of(rec.data)
            except InputError as exc:  # no schema yet and this row fits none: rejected by its line (none at all: below)
                unmatched = unmatched or exc
                rec = Reject.of(rec, exc.reason, exc.field)
            except FieldProblem as p:
                rec = Reject.of(rec, p.reason, p.field)
            else:
                encoded = encode_line(rec, rec.data) if check_writable else None
                if not isinstance(encoded, Reject):
                    groups.append(general if label == GENERAL else RISK_GROUPS.index(group))
                    conf.append(c)
                    keys += key
                    continue
                rec = encoded
        policy.reject(rec)
        reasons[len(lines) - 1] = rec.reason
        groups.append(-1)
        conf.append(np.nan)
        keys += bytes(16)
    if rows.schema is None and unmatched is not None:
        raise unmatched
    n = len(lines)
    rows.line = np.frombuffer(lines, dtype=np.int64).copy()
    rows.group = np.frombuffer(groups, dtype=np.int8).copy()
    rows.confidence = np.frombuffer(conf, dtype=np.float64).copy()
    rows.key = np.frombuffer(bytes(keys), dtype=np.uint64).reshape(n, 2)
    rows.fate = np.zeros(n, dtype=np.int8)
    rows.fate[rows.group < 0] = IS_REJECTED
    rows.dup_of = np.full(n, -1, dtype=np.int64)
    rows.reasons = reasons
    return rows


def texts(rows: Rows, wanted: np.ndarray) -> Iterator[str]:
    """The classified text of each row at sorted positions ``wanted``, read from the input again."""
    assert rows.schema is not None or not len(wanted)
    take = np.zeros(len(rows), dtype=bool)
    take[wanted] = True
    for k, rec in _again(rows):
        if take[k]:
            yield rows.schema.prompt(rec.data).classified_text()  # type: ignore[union-attr]


def _again(rows: Rows) -> Iterator[tuple[int, Row | Reject]]:
    """Records of the input read again, checked against pass 1 (the file must not change)."""
    k = -1
    for k, rec in enumerate(_source(rows)):
        if k >= len(rows) or rec.line != rows.line[k]:
            break
        yield k, rec
    else:
        if k + 1 == len(rows):
            return
    raise InputError("changed while balance was reading it; balance reads its inputs twice", path=rows.name)


def write_rows(rows: Rows, out: IO[bytes], manifest: IO[bytes]) -> int:
    """Pass 2: write the selected rows to ``out`` and every row's fate to ``manifest``; returns rows written."""
    written = 0
    for k, rec in _again(rows):
        data = rec.data if isinstance(rec, Row) else None
        code = int(rows.group[k])
        if rows.fate[k] == IS_SELECTED:
            out.write(dumps_line({**data, "risk_group": GENERAL} if rows.label == GENERAL else data))  # type: ignore[dict-item,arg-type]
            written += 1
        group = GROUPS[code] if code >= 0 else None
        manifest.write(_manifest_line({"source": rows.label, rows.unit: rec.line, "id": data.get("id") if data is not None else None, "risk_group": group, "fate": rows.fate_text(k)}))
    return written


def _manifest_line(entry: dict[str, Any]) -> bytes:
    """The manifest line of one row; an ``id`` JSON cannot hold (a NaN from Parquet: pass 1 rejected that row) is written as null."""
    try:
        return dumps_line(entry)
    except (ValueError, TypeError):
        return dumps_line({**entry, "id": None})
