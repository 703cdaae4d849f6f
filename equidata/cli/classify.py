"""`equidata classify`: add risk_group, risk_scores and risk_confidence to each row."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.classifier import classify_file
from equidata.cli import console
from equidata.cli.options import BatchSize, Device, Head, Input, Model, OnError, OnErrorChoice, Output, PromptField, Quiet, Rejects
from equidata.io import RecordSource


def classify(
    input: Input,
    output: Output = "-",
    model: Model = None,
    head: Head = None,
    device: Device = "auto",
    batch_size: BatchSize = None,
    prompt_field: PromptField = None,
    on_error: OnError = OnErrorChoice.fail,
    rejects: Rejects = None,
    quiet: Quiet = False,
    keep_embeddings: Annotated[Optional[Path], typer.Option("--keep-embeddings", help="Also save the prompt embeddings (float16 .npy, one row per output row) for `balance --embeddings`.", show_default=False)] = None,
) -> None:
    """Sort prompts into the risk groups explicit, implicit, mixed and none.

    Example:  equidata classify examples/prompts.jsonl -o classified.jsonl
    """
    try:
        total = len(RecordSource.open(input))
    except TypeError:
        total = None
    with console.progress_bar("classify", quiet, total) as advance:
        result = classify_file(
            input, output, head=head, model=model, device=device, batch_size=batch_size, prompt_field=prompt_field,
            on_error=on_error.value, rejects=rejects, progress=advance, keep_embeddings=keep_embeddings,
        )
    n = max(result.counts.written, 1)
    groups = console.table("risk groups", ["group", "rows", "share"], [[g, c, c / n] for g, c in result.groups.items()])
    console.summary(quiet, groups, console.counts_table(result.counts))
