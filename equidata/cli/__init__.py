"""The ``equidata`` command: one module per command, wired together here."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from equidata import __version__
from equidata.cli.balance import balance
from equidata.cli.check import check
from equidata.cli.annotate_masks import annotate_masks
from equidata.cli.classify import classify
from equidata.cli.console import err
from equidata.cli.evaluate import evaluate
from equidata.cli.export import export
from equidata.cli.report import report
from equidata.cli.show import show
from equidata.cli.stats import stats
from equidata.cli.train import train
from equidata.errors import EquidataError

app = typer.Typer(
    name="equidata",
    help="Curate LLM safety preference data: classify risk groups, balance them (FDC), export, and annotate AMA masks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(classify)
app.command()(train)
app.command()(evaluate)
app.command()(stats)
app.command()(balance)
app.command()(export)
app.command("annotate-masks")(annotate_masks)
app.command()(check)
app.command()(report)
app.command()(show)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit.")) -> None:
    """Curate LLM safety preference data the Equilibrate-RLHF way."""


def main() -> None:
    """Console entry point: library errors become a one-line message and exit code 1 or 2.

    Usage errors are Typer's own (exit 2); anything unexpected keeps its traceback (exit 1).
    """
    try:
        app()
    except EquidataError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
