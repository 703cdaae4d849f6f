"""The Ray Data engine: the local engine's chunks, classified by an actor pool on a Ray cluster.

Layout of a run:

1. ``from_items`` over the input shards (one file, or every JSONL/JSON/Parquet/CSV file of a
   folder, in name order); a ``flat_map`` task per shard reads it with equidata's own readers and
   cuts it into exactly the chunks the local engine would cut (``chunk_size`` rows);
2. ``map_batches`` with an actor pool (one batch = one chunk): each actor builds its step once
   (model loaded once per actor, one GPU per actor when the cluster has GPUs) and transforms chunks;
3. the driver iterates the results in order and writes one output shard per input shard, or
   merges them into one file, plus the rejects file; the error policy and counts are the local
   engine's.

Why not ``read_json``: Arrow's JSON reader infers one table schema (a key missing in some rows comes
back as null, numbers may be re-typed) and cuts blocks at its own row counts. Embedding scores
depend, in the last float bits, on which texts share a padded batch, so equal chunks are what make
the results equal to the local engine's row for row, and equidata's readers are what keep every
row's fields, line numbers and rejects unchanged.

Ray is imported lazily: install the ``ray`` extra (``pip install 'equidata[ray]'``). A run leaves the
process as it found it: a Ray it started is shut down, and Ray Data's context is restored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from equidata.engines.base import Step, Transform, as_step
from equidata.engines.local import DEFAULT_CHUNK_SIZE, Progress
from equidata.errors import EquidataError, ParameterError
from equidata.io import STDOUT, Chunk, ErrorPolicy, RecordSource, Reject, Row, RunCounts, atomic_output, check_paths, encode_results, read_chunks, rejects_file
from equidata.io.readers import _SUFFIXES

StepFactory = Callable[[], Step | Transform]


def shard_paths(input: str | Path) -> list[Path]:
    """The input file, or the data files of a folder in name order."""
    p = Path(input)
    if str(input) == "-":
        raise ParameterError("input", "a file or a folder of shards for --engine ray (not stdin)", str(input))
    if not p.exists():
        raise ParameterError("input", "an existing file or folder", str(input))
    if p.is_file():
        return [p]
    files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in _SUFFIXES)
    if not files:
        raise ParameterError("input", f"a folder holding files ending in one of {sorted(_SUFFIXES)}", str(input))
    return files


def _read_shard(item: dict[str, Any], chunk_size: int) -> Iterator[dict[str, Any]]:
    """Ray task: one shard's chunks, each as the :class:`~equidata.io.Chunk` object itself.

    Objects, not JSON lines: the step must see each row exactly as the local engine's step does (a
    NaN or a decimal from Parquet included), so that :func:`~equidata.io.encode_results` rejects the
    same rows. Ray Data carries such a column between its own workers; nothing is stored.
    """
    source = RecordSource.open(item["path"])
    for k, chunk in enumerate(read_chunks(source, chunk_size)):
        yield {"shard": item["shard"], "chunk": k, "data": chunk}


class _ChunkActor:
    """Ray actor: builds the step once; each call transforms one chunk from ``initial_state``."""

    def __init__(self, factory: StepFactory, initial_state: dict[str, Any], threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.step, self.initial_state = as_step(factory()), initial_state

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"shard": [], "chunk": [], "out": [], "settled": [], "state": []}
        for shard, k, chunk in zip(batch["shard"], batch["chunk"], batch["data"]):
            self.step.restore(self.initial_state)
            lines, bad = encode_results(chunk.rows, self.step(chunk.rows) if chunk.rows else [])
            out["shard"].append(int(shard))
            out["chunk"].append(int(k))
            out["out"].append(b"".join(lines))
            out["settled"].append(Chunk(rejects=chunk.rejects + bad, records=chunk.records))  # the rows' places: their lines in "out"
            out["state"].append(json.dumps(self.step.state()).encode())
        return out


@contextmanager
def _connected(address: str | None) -> Iterator[Any]:
    """Ray, initialised for the block: joined at ``address`` or started locally, and shut down after if started here.

    Ray Data's process-wide context is set for the run (rows in order, no progress bars) and put back after.
    """
    try:
        import ray
    except ImportError as exc:
        raise EquidataError("--engine ray needs Ray: pip install 'equidata[ray]'") from exc
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    before = ctx.execution_options.preserve_order, ctx.enable_progress_bars
    ctx.execution_options.preserve_order, ctx.enable_progress_bars = True, False
    try:
        yield ray
    finally:
        ctx.execution_options.preserve_order, ctx.enable_progress_bars = before
        if started:
            ray.shutdown()


def run_ray(
    input: str | Path,
    factory: StepFactory,
    output: str | Path,
    *,
    initial_state: dict[str, Any] | None = None,
    on_state: Callable[[dict[str, Any]], None] | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    address: str | None = None,
    actors: int | None = None,
    progress: Progress | None = None,
) -> RunCounts:
    """Run the step built by ``factory`` over ``input`` on Ray and write JSONL to ``output``.

    ``output`` ending in ``.jsonl`` (or ``-``) receives the merged result; any other path is a
    folder receiving one ``<shard>.jsonl`` per input shard. Each chunk starts from
    ``initial_state`` (via the step's ``restore``); ``on_state`` receives each chunk's final state.
    ``address`` joins an existing cluster (``auto``, ``ray://host:10001``); none starts a local one.
    """
    if chunk_size < 1:
        raise ParameterError("chunk_size", "a positive integer", chunk_size)
    if actors is not None and actors < 1:
        raise ParameterError("ray_actors", "a positive integer", actors)
    files = shard_paths(input)
    merged = str(output) == STDOUT or Path(output).suffix == ".jsonl"
    rejects_path = rejects_file(on_error, rejects, output if merged else Path(output).with_suffix(".jsonl"), files[0])
    check_paths({"input": input, **{f"input shard {f.name}": f for f in files}}, {"--output": output if merged else None, "--rejects": rejects_path}, None if merged else {"--output": output})
    policy = ErrorPolicy(on_error, str(files[0]))
    with _connected(address) as ray:
        ds = _dataset(ray, files, factory, initial_state or {}, chunk_size, actors)
        _write(ds.iter_rows(), files, output, merged, rejects_path, policy, on_state, progress)
    return policy.finish(rejects_path)


def _dataset(ray: Any, files: list[Path], factory: StepFactory, initial_state: dict[str, Any], chunk_size: int, actors: int | None) -> Any:
    """The Ray Data pipeline: shards read into chunks (no CPU reserved), each chunk through a step actor."""
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), max(1, int(resources.get("CPU", 1)))
    # A CPU actor reserves, and runs torch on, up to 4 CPUs (CPU scores depend in the last bit on
    # the thread count: a local run with as many threads gives the same bytes). Readers reserve none.
    actor_cpus = 1 if gpus else min(4, cpus)
    actors = actors or (gpus or max(1, cpus // actor_cpus))
    ds = ray.data.from_items([{"shard": i, "path": str(f.resolve())} for i, f in enumerate(files)], override_num_blocks=len(files))
    ds = ds.flat_map(_read_shard, fn_kwargs={"chunk_size": chunk_size}, num_cpus=0)
    return ds.map_batches(
        _ChunkActor, fn_constructor_args=(factory, initial_state, actor_cpus), batch_size=1, batch_format="numpy",
        concurrency=actors, num_gpus=1 if gpus else 0, num_cpus=actor_cpus,
    )


def _write(
    results: Iterator[dict[str, Any]], files: list[Path], output: str | Path, merged: bool, rejects_path: Path | None, policy: ErrorPolicy,
    on_state: Callable[[dict[str, Any]], None] | None, progress: Progress | None,
) -> None:
    """Write the chunks' results in input order: to one ``output`` if ``merged``, else one file per shard in that folder."""
    with ExitStack() as stack:
        if rejects_path is not None:
            policy.sink = stack.enter_context(atomic_output(rejects_path, skip_empty=True))
        out, shard_out, current = (stack.enter_context(atomic_output(output)) if merged else None), ExitStack(), -1
        stack.enter_context(shard_out)
        for result in results:
            shard = int(result["shard"])
            policy.source = str(files[shard])
            if not merged and shard != current:
                shard_out.close()
                out = shard_out.enter_context(atomic_output(Path(output) / f"{files[shard].stem}.jsonl"))
                current = shard
            settled: Chunk = result["settled"]
            blob = bytes(result["out"])
            rejects = settled.rejects if len(files) == 1 else [_with_file(r, files[shard]) for r in settled.rejects]
            policy.settle(settled.records, rejects, blob.count(b"\n"))
            out.write(blob)  # type: ignore[union-attr]
            if on_state:
                on_state(json.loads(bytes(result["state"])))
            if progress:
                progress(settled.records)


def _with_file(rej: Reject, path: Path) -> Reject:
    """A reject from one shard of several names its file in its reason."""
    return replace(rej, reason=f"{path.name}: {rej.reason}")
