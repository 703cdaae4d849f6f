"""The local engine: stream an input through a batch transform in fixed-size chunks.

Every step that maps rows to rows (classify, annotate-masks, export) is a *batch transform*: a
callable taking a list of :class:`Row` and returning, in the same order, one output dict or one
:class:`Reject` per row. :func:`run_chunked` owns the rest: reading, the error policy, the rejects
file, atomic output, progress and the counts that must add up. Memory is bounded by the chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from equidata.errors import ParameterError
from equidata.io import ErrorPolicy, RecordSource, Reject, Row, RunCounts, atomic_output, dumps_line, sidecar_path

Transform = Callable[[list[Row]], list[dict[str, Any] | Reject]]
Progress = Callable[[int], None]
DEFAULT_CHUNK_SIZE = 8192


def chunks(records: RecordSource, policy: ErrorPolicy, size: int) -> Iterator[tuple[list[Row], list[Reject]]]:
    """Group parsed rows into lists of ``size``, each with the parse rejects that fell among them.

    Under ``fail`` a parse reject raises at once, before any work is spent on the chunk.
    """
    rows: list[Row] = []
    rejects: list[Reject] = []
    for rec in records:
        policy.counts.read += 1
        if isinstance(rec, Reject):
            if policy.mode == "fail":
                policy.reject(rec)
            rejects.append(rec)
            continue
        rows.append(rec)
        if len(rows) == size:
            yield rows, rejects
            rows, rejects = [], []
    if rows or rejects:
        yield rows, rejects


def run_chunked(
    source: RecordSource,
    transform: Transform,
    output: str | Path,
    *,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
) -> RunCounts:
    """Run ``transform`` over ``source`` chunk by chunk and write JSONL to ``output`` (``-``: stdout).

    With ``on_error="skip"`` rejected rows go, with line number and reason, to ``rejects``
    (default: next to the output); with ``"fail"`` the first one raises and no output is left.
    """
    if chunk_size < 1:
        raise ParameterError("chunk_size", "a positive integer", chunk_size)
    with ExitStack() as stack:
        sink = None
        rejects_path = None
        if on_error == "skip":
            rejects_path = Path(rejects) if rejects else sidecar_path(output, "rejects.jsonl", source.path)
            sink = stack.enter_context(atomic_output(rejects_path))
        policy = ErrorPolicy(on_error, source.name, sink)
        out = stack.enter_context(atomic_output(output))
        for rows, rejects_in_chunk in chunks(source, policy, chunk_size):
            bad = list(rejects_in_chunk)
            for result in transform(rows) if rows else []:
                if isinstance(result, Reject):
                    bad.append(result)
                else:
                    out.write(dumps_line(result))
                    policy.counts.written += 1
            for rej in sorted(bad, key=lambda r: r.index):  # the rejects file keeps input order
                policy.reject(rej)
            if progress:
                progress(len(rows) + len(rejects_in_chunk))
    counts = policy.counts
    counts.rejects_path = rejects_path
    counts.check()
    return counts
