"""`equidata show`: print a few rows readably, AMA responses with kept and masked segments marked."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from equidata.cli import console
from equidata.cli.options import Input, Quiet, choice
from equidata.io import Row
from equidata.show import SORTS, default_fields, pick_rows
from equidata.tally import confidence_of

LIMIT = 2000  # characters of one non-text value


Sort = choice("Sort", SORTS)


def _value(row: Row, name: str) -> Any:
    value = row.data.get(name)
    segments = row.data.get(f"{name}_segments")
    if isinstance(value, str) and isinstance(segments, list):
        from equidata.report.render import mask_pieces  # the report's renderer; loaded only when a row has segments

        text = Text()
        for piece in mask_pieces(value, [s for s in segments if isinstance(s, dict)]):
            text.append(piece["text"], {"kept": "on dark_green", "masked": "dim strike"}.get(piece["kind"], ""))
        return text
    if isinstance(value, str):
        return Text(value)
    dumped = json.dumps(value, ensure_ascii=False)
    return Text(dumped if len(dumped) <= LIMIT else dumped[: LIMIT - 1] + "…", style="cyan")


def _panel(row: Row, fields: list[str]) -> Panel:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name in fields:
        grid.add_row(name, _value(row, name) if name in row.data else Text("(absent)", style="dim"))
    conf = confidence_of(row.data)
    title = " · ".join(str(x) for x in (f"{row.unit} {row.line}", row.data.get("risk_group"), None if conf is None else f"{conf:.3f}") if x)
    return Panel(grid, title=title, title_align="left")


def show(
    input: Input,
    group: Annotated[Optional[str], typer.Option("--group", help="Only rows of this risk_group.", show_default=False)] = None,
    n: Annotated[int, typer.Option("-n", min=0, help="Rows to show.")] = 10,
    sort: Annotated[Sort, typer.Option("--sort", help="input order, confidence (lowest first), -confidence (highest first) or random.")] = Sort.input,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --sort random.")] = 0,
    fields: Annotated[Optional[str], typer.Option("--fields", help="Comma-separated fields to print (default: all but per-token lists).", show_default=False)] = None,
    quiet: Quiet = False,
) -> None:
    """Print rows for a quick look; AMA responses show kept segments highlighted and masked ones struck through.

    Example:  equidata show classified.jsonl --group implicit --sort -confidence -n 5 --fields prompt,risk_confidence
    """
    with console.progress_bar("show", quiet, console.input_total(input) if not quiet else None) as advance:
        rows = pick_rows(input, group=group, n=n, sort=sort.value, seed=seed, progress=advance)
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    console.out.print(Group(*(_panel(r, wanted or default_fields(r)) for r in rows)))
    console.summary(quiet, f"{len(rows)} rows shown")
