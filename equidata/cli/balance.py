"""`equidata balance`: dedupe classified rows and keep risk groups in a ratio (the paper's FDC step)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.balance.quotas import DEFAULT_RATIO, SHORTFALL
from equidata.balance.select import STRATEGIES
from equidata.cli import console
from equidata.cli.options import BatchSize, Device, Head, Input, OnError, OnErrorChoice, Output, PromptField, Quiet, Rejects, choice

Shortfall = choice("Shortfall", SHORTFALL)
Strategy = choice("Strategy", STRATEGIES)


def balance(
    input: Input,
    output: Output = "-",
    ratio: Annotated[Optional[str], typer.Option("--ratio", help=f"Group weights, GROUP=N pairs (default: {DEFAULT_RATIO}); add none=K to keep benign prompts.", show_default=False)] = None,
    total: Annotated[Optional[int], typer.Option("--total", min=0, help="Risk-group rows wanted (default: the largest set that keeps the ratio exactly).", show_default=False)] = None,
    per_group: Annotated[Optional[str], typer.Option("--per-group", help="Absolute quotas instead of --ratio/--total, e.g. explicit=10000,implicit=3000,mixed=1000.", show_default=False)] = None,
    shortfall: Annotated[Shortfall, typer.Option("--shortfall", help="scale: shrink every group so the ratio holds exactly. fill: take what each group has.")] = Shortfall.scale,
    general: Annotated[Optional[Path], typer.Option("--general", help="General-domain rows to mix in (not classified; tagged risk_group: general).", show_default=False)] = None,
    general_ratio: Annotated[Optional[str], typer.Option("--general-ratio", help="SAFETY:GENERAL rows, e.g. 1:20.", show_default=False)] = None,
    general_total: Annotated[Optional[int], typer.Option("--general-total", min=0, help="General rows wanted, instead of --general-ratio.", show_default=False)] = None,
    strategy: Annotated[Strategy, typer.Option("--strategy", help="Selection inside a group: diverse (k-means strata), random, or confident (highest group probability first).")] = Strategy.diverse,
    min_confidence: Annotated[Optional[float], typer.Option("--min-confidence", min=0.0, max=1.0, help="Drop rows whose risk_confidence is below this first.", show_default=False)] = None,
    dedup: Annotated[bool, typer.Option("--dedup/--no-dedup", help="Drop exact (case/whitespace) and near duplicates, keeping the most confident row.")] = True,
    dedup_threshold: Annotated[float, typer.Option("--dedup-threshold", min=0.0, max=1.0, help="Cosine similarity above which prompts are near duplicates.")] = 0.95,
    embeddings: Annotated[Optional[Path], typer.Option("--embeddings", help="Embeddings saved by `classify --keep-embeddings` for this input (default: recompute).", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Embedding model for recomputed embeddings (default: the encoder of --head, as classify used it).", show_default=False)] = None,
    head: Head = None,
    device: Device = "auto",
    batch_size: BatchSize = None,
    prompt_field: PromptField = None,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seed for k-means and random picks: same input and seed, same bytes.")] = 0,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="Fate of every input row (default: next to the output).", show_default=False)] = None,
    on_error: OnError = OnErrorChoice.fail,
    rejects: Rejects = None,
    quiet: Quiet = False,
) -> None:
    """Deduplicate classified rows and keep the risk groups in a ratio, optionally mixed into general data.

    Example:  equidata balance classified.jsonl -o mix.jsonl --ratio explicit=10,implicit=3,mixed=1 --general general.jsonl --general-ratio 1:20
    """
    from equidata.balance import BalanceParams, balance_file

    params = BalanceParams(
        ratio=ratio, per_group=per_group, total=total, shortfall=shortfall.value, general_ratio=general_ratio, general_total=general_total,
        strategy=strategy.value, min_confidence=min_confidence, dedup=dedup, dedup_threshold=dedup_threshold, seed=seed,
    )
    report = balance_file(
        input, output, params, general=general, embeddings=embeddings, model=model, head=head, device=device, batch_size=batch_size,
        prompt_field=prompt_field, manifest=manifest, on_error=on_error.value, rejects=rejects,
    )
    console.empty_input_warning(report.read, input)
    columns = ["group", "rows", "low conf", "dups", "available", "wanted", "selected", "over quota"]
    lines = [[g.group, g.rows, g.low_confidence, g.duplicates, g.available, g.wanted, g.selected, g.over_quota] for g in report.groups]
    lines.append(["rejected", report.rejected, "", "", "", "", "", ""])
    lines.append(["read", report.read, "", sum(g.duplicates for g in report.groups), "", "", report.written, ""])
    where = [["manifest", str(report.manifest_path)], ["embeddings", report.embeddings]]
    if report.rejects_path is not None:
        where.append(["rejects file", str(report.rejects_path)])
    console.summary(quiet, console.table("balance", columns, lines), console.table("files", ["", ""], where))
