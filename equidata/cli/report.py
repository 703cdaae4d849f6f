"""`equidata report`: one self-contained HTML file with charts of classified, balanced and masked data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.cli import console
from equidata.cli.options import Input, PromptField, Quiet


def report(
    input: Input,
    output: Annotated[str, typer.Option("--output", "-o", help="HTML file to write; - for stdout.")] = "report.html",
    balanced: Annotated[Optional[Path], typer.Option("--balanced", help="balance output: group shares before and after.", show_default=False)] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="balance manifest: the fate of every input row.", show_default=False)] = None,
    masks: Annotated[Optional[Path], typer.Option("--masks", help="annotate-masks output: kept-token shares and sample pairs.", show_default=False)] = None,
    embeddings: Annotated[Optional[Path], typer.Option("--embeddings", help="classify --keep-embeddings file: a 2-D map of sampled prompts.", show_default=False)] = None,
    ratio: Annotated[Optional[str], typer.Option("--ratio", help="The ratio asked of balance, drawn next to the shares.", show_default=False)] = None,
    threshold: Annotated[float, typer.Option("--threshold", min=0.0, max=1.0, help="Confidence below which rows are counted as uncertain.")] = 0.5,
    examples: Annotated[int, typer.Option("--examples", min=0, help="Prompts shown per group at each end of the confidence range.")] = 5,
    pairs: Annotated[int, typer.Option("--pairs", min=0, help="Mask pairs rendered as text.")] = 4,
    map_points: Annotated[int, typer.Option("--map-points", min=0, help="Embeddings sampled for the map.")] = 3000,
    prompt_field: PromptField = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the samples: same inputs and seed, same bytes.")] = 0,
    quiet: Quiet = False,
) -> None:
    """Write an offline HTML report: group shares, confidence, row fates, an embedding map, examples, AMA masks.

    Example:  equidata report classified.jsonl --balanced mix.jsonl --manifest mix.manifest.jsonl --embeddings classified.npy -o report.html
    """
    from equidata.report import build_report

    total = console.input_total(input, balanced, manifest, masks) if not quiet else None
    with console.progress_bar("report", quiet, total) as advance:
        summary = build_report(
            input, output, balanced=balanced, manifest=manifest, masks=masks, embeddings=embeddings, ratio=ratio, threshold=threshold,
            examples=examples, pairs=pairs, map_points=map_points, prompt_field=prompt_field, seed=seed, progress=advance,
        )
    rows = [[name, n] for name, n in summary.rows.items()] + [["sections", ", ".join(summary.sections)], ["written to", output]]
    console.summary(quiet, console.table("report", ["", ""], rows))
