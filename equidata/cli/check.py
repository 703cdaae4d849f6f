"""`equidata check`: a CI gate; exit 1 when a check fails, 2 on bad usage or input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.check import DEFAULT_KEPT_SHARE, check_file
from equidata.cli import console
from equidata.cli.options import Input, Json, Quiet


def check(
    input: Input,
    ratio: Annotated[Optional[str], typer.Option("--ratio", help="Expected risk-group ratio, e.g. explicit=10,implicit=3,mixed=1 (groups left out: share 0).", show_default=False)] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0.0, max=1.0, help="Largest allowed difference between a group's share and the ratio's.")] = 0.05,
    min_rows: Annotated[int, typer.Option("--min-rows", min=0, help="Fewest rows the file must hold.")] = 1,
    max_share_below_confidence: Annotated[Optional[str], typer.Option("--max-share-below-confidence", help="THRESHOLD:SHARE, e.g. 0.5:0.2: at most 20% of rows below risk_confidence 0.5.", show_default=False)] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="balance's manifest: every --input row must appear once, its selected rows must be the file's.", show_default=False)] = None,
    balance_input: Annotated[Optional[Path], typer.Option("--input", help="The file balance read (with --manifest).", show_default=False)] = None,
    masks: Annotated[Optional[Path], typer.Option("--masks", help="annotate-masks output whose kept-token share --kept-share bounds.", show_default=False)] = None,
    kept_share: Annotated[Optional[str], typer.Option("--kept-share", help=f"LO:HI bounds on each side's kept-token share (default {DEFAULT_KEPT_SHARE} with --masks; alone, it checks FILE).", show_default=False)] = None,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Gate a dataset in CI: print each check's result; exit 1 if any fails, 2 on bad usage.

    Example:  equidata check mix.jsonl --ratio explicit=10,implicit=3,mixed=1 --tolerance 0.05 --manifest mix.manifest.jsonl --input classified.jsonl
    """
    total = console.input_total(input, manifest, masks) if not quiet else None
    with console.progress_bar("check", quiet, total) as advance:
        report = check_file(
            input, ratio=ratio, tolerance=tolerance, min_rows=min_rows, max_share_below_confidence=max_share_below_confidence,
            manifest=manifest, input=balance_input, masks=masks, kept_share=kept_share, progress=advance,
        )
    if json_out:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        rows = [["PASS" if r.passed else "FAIL", r.name, r.value, r.limit, r.detail] for r in report.results]
        verdict = "passed" if report.passed else f"FAILED ({sum(not r.passed for r in report.results)} of {len(report.results)})"
        console.out.print(console.table(f"check {verdict}", ["", "check", "value", "limit", "detail"], rows))
    if not report.passed:
        raise typer.Exit(1)
