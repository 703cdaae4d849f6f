"""`equidata stats`: group counts, shares and confidence quantiles of classified data."""

from __future__ import annotations

import json

import typer

from equidata.cli import console
from equidata.cli.options import Input, Json


def stats(input: Input, json_out: Json = False) -> None:
    """Summarise classified rows; the report goes to stdout.

    Example:  equidata classify prompts.jsonl | equidata stats -
    """
    from equidata.stats import group_stats

    report = group_stats(input)
    console.empty_input_warning(report["rows"], input)
    if json_out:
        typer.echo(json.dumps(report, indent=2))
        return
    rows = [[g, s["count"], s["share"], *s["confidence"].values()] for g, s in report["groups"].items()]
    quantiles = list(next(iter(report["groups"].values()))["confidence"]) if report["groups"] else []
    console.out.print(console.table(f"{report['rows']} rows", ["group", "rows", "share", *(f"conf {q}" for q in quantiles)], rows))
