"""The local engine: stream an input through a batch transform in fixed-size chunks.

Every step that maps rows to rows (classify, annotate-masks, export) is a
:class:`~equidata.engines.base.Step` (or a plain batch-transform function, given the step's default
hooks). :func:`run_chunked` owns the rest: reading, the error policy, the rejects file, atomic output,
progress, resume (through the step's ``fingerprint``/``state``/``restore``) and the counts that must
add up. Memory is bounded by the chunk: at most three chunks are alive at once, because reading (a
worker thread), the transform (this thread) and writing (another worker thread) overlap.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from equidata.engines.base import Step, Transform, as_step
from equidata.engines.checkpoint import ResumableOutput, input_fingerprint
from equidata.errors import InputError, ParameterError
from equidata.io import STDOUT, Chunk, ErrorPolicy, RecordSource, Reject, Row, RunCounts, atomic_output, encode_results, read_chunks, rejects_file

Progress = Callable[[int], None]
DEFAULT_CHUNK_SIZE = 8192


def _prefetched(items: Iterator[Chunk], pool: ThreadPoolExecutor) -> Iterator[Chunk]:
    """Iterate ``items`` one step ahead in ``pool`` (parsing overlaps the transform)."""
    pending = pool.submit(next, items, None)
    while (item := pending.result()) is not None:
        pending = pool.submit(next, items, None)
        yield item


def run_chunked(
    source: RecordSource,
    transform: Step | Transform,
    output: str | Path,
    *,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    resume: bool = False,
) -> RunCounts:
    """Run the step ``transform`` over ``source`` chunk by chunk and write JSONL to ``output`` (``-``: stdout).

    With ``on_error="skip"`` rejected rows go, with line number and reason, to ``rejects``
    (default: next to the output); with ``"fail"`` the first one raises and no output is left.
    A file output is checkpointed after every chunk (see :mod:`equidata.engines.checkpoint`);
    ``resume=True`` continues an interrupted run from its checkpoint (or starts if there is none).
    """
    if chunk_size < 1:
        raise ParameterError("chunk_size", "a positive integer", chunk_size)
    # A checkpoint needs a file on both ends: stdin or a FIFO cannot be re-read, stdout cannot be rewound.
    checkpointed = str(output) != STDOUT and source.rereadable
    if resume and not checkpointed:
        raise ParameterError("resume", "used with a regular input file and a file output (-o FILE), not stdin, a FIFO or stdout", f"{source.name} -> {output}")
    step = as_step(transform)
    rejects_path = rejects_file(on_error, rejects, output, source.path)
    policy = ErrorPolicy(on_error, source.name)
    with ExitStack() as stack:
        records: Iterator[Row | Reject] = iter(source)
        if not checkpointed:
            sink: ResumableOutput | None = None
            out = stack.enter_context(atomic_output(output))
            if rejects_path is not None:
                policy.sink = stack.enter_context(atomic_output(rejects_path, skip_empty=True))
        else:
            settings = {"chunk_size": chunk_size, "on_error": on_error}
            sink = _checkpointed_output(source, step, Path(output), rejects_path, settings, policy, resume)
            out = sink.out
            if sink.done:
                records = itertools.islice(records, sink.done["read"], None)
                if progress:
                    progress(sink.done["read"])
        try:
            _pipeline(read_chunks(records, chunk_size), step, out, policy, sink, progress)
        except InputError:
            if sink is not None:
                sink.discard()
            raise
        except BaseException:
            if sink is not None:
                sink.interrupt()  # keep the partial files and checkpoint for --resume
            raise
        if sink is not None:
            sink.finish()
    return policy.finish(rejects_path)


def _checkpointed_output(
    source: RecordSource, step: Step, output: Path, rejects_path: Path | None, settings: dict[str, Any], policy: ErrorPolicy, resume: bool,
) -> ResumableOutput:
    """The output and rejects file, checkpointed; on ``resume``, the counts and the step's state taken back from the checkpoint."""
    identity = {"input": input_fingerprint(source.path), **step.fingerprint(), "settings": settings}
    sink = ResumableOutput(output, rejects_path, identity)
    done = sink.open(resume)
    policy.sink = sink.rej
    if done:
        policy.counts = RunCounts(done["read"], done["written"], done["rejected"])
        step.restore(done["step_state"])
    return sink


def _pipeline(
    items: Iterator[Chunk], step: Step, out: Any, policy: ErrorPolicy, sink: ResumableOutput | None, progress: Progress | None
) -> None:
    """Read ahead in one thread, transform here, write (and checkpoint) behind in another."""
    def write(chunk: Chunk, results: list[dict[str, Any] | Reject], step_state: dict[str, Any]) -> None:
        lines, bad = encode_results(chunk.rows, results)
        policy.settle(chunk.records, [*chunk.rejects, *bad], len(lines))  # the rejects file keeps input order
        out.write(b"".join(lines))
        if sink is not None:
            sink.commit(policy.counts, step_state)
        if progress:
            progress(chunk.records)

    with ThreadPoolExecutor(1, thread_name_prefix="equidata-read") as reader, ThreadPoolExecutor(1, thread_name_prefix="equidata-write") as writer:
        written: Future[None] | None = None
        for chunk in _prefetched(items, reader):
            results = step(chunk.rows) if chunk.rows else []
            step_state = step.state()  # taken here: the next transform may change it while this chunk is written
            if written is not None:
                written.result()
            written = writer.submit(write, chunk, results, step_state)
        if written is not None:
            written.result()
