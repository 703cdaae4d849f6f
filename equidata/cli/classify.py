"""`equidata classify`: add risk_group, risk_scores and risk_confidence to each row."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.classifier.settings import ENGINES
from equidata.cli import console
from equidata.cli.options import BatchSize, ChunkSize, Device, Head, Input, Model, OnError, OnErrorChoice, Output, PromptField, Quiet, Rejects, Resume, Turns, TurnsChoice, choice
from equidata.engines import DEFAULT_CHUNK_SIZE

EngineChoice = choice("EngineChoice", ENGINES)


def classify(
    input: Input,
    output: Output = "-",
    model: Model = None,
    head: Head = None,
    device: Device = "auto",
    devices: Annotated[Optional[str], typer.Option("--devices", help="Several devices on this machine, e.g. 0,1 (cuda:0, cuda:1): one model copy each.", show_default=False)] = None,
    batch_size: BatchSize = None,
    chunk_size: ChunkSize = DEFAULT_CHUNK_SIZE,
    prompt_field: PromptField = None,
    turns: Turns = TurnsChoice.all,
    on_error: OnError = OnErrorChoice.fail,
    rejects: Rejects = None,
    resume: Resume = False,
    engine: Annotated[EngineChoice, typer.Option("--engine", help="local, or ray (Ray Data; a folder of shards in, shards or one .jsonl out).")] = EngineChoice.local,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="Join this Ray cluster (auto, ray://HOST:10001); default: start a local one.", show_default=False)] = None,
    ray_actors: Annotated[Optional[int], typer.Option("--ray-actors", min=1, help="Model actors (default: one per GPU, else a few per CPU count).", show_default=False)] = None,
    quiet: Quiet = False,
    keep_embeddings: Annotated[Optional[Path], typer.Option("--keep-embeddings", help="Also save the prompt embeddings (float16 .npy, one row per output row) for `balance --embeddings`.", show_default=False)] = None,
) -> None:
    """Sort prompts into the risk groups explicit, implicit, mixed and none.

    Adds risk_group, risk_scores, risk_confidence and risk_turn (the riskiest user turn of a dialogue, from 0).

    Example:  equidata classify examples/prompts.jsonl -o classified.jsonl
    """
    from equidata.classifier import classify_file
    from equidata.classifier.devices import parse_devices

    local = engine.value == "local"
    total = console.input_total(input) if local else None  # a Ray input may be a folder of shards
    with console.progress_bar("classify", quiet, total) as advance:
        result = classify_file(
            input, output, head=head, model=model, device=device, batch_size=batch_size, prompt_field=prompt_field,
            on_error=on_error.value, rejects=rejects, progress=advance, batch_progress=advance.batch if advance and local else None,
            chunk_size=chunk_size, resume=resume, devices=parse_devices(devices) if devices else None, keep_embeddings=keep_embeddings,
            turns=turns.value, engine=engine.value, address=ray_address, actors=ray_actors,
        )
    console.empty_input_warning(result.counts.read, input)
    n = max(result.counts.written, 1)
    groups = console.table("risk groups", ["group", "rows", "share"], [[g, c, c / n] for g, c in result.groups.items()])
    console.summary(quiet, groups, console.counts_table(result.counts))
