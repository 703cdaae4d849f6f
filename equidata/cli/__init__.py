"""The ``equidata`` command: one module per command, wired together here."""

from __future__ import annotations

import errno
import os
import sys
import warnings
from typing import Any

import click
import typer
from rich.markup import escape
from typer.core import TyperCommand

from equidata import __version__
from equidata.cli.balance import balance
from equidata.cli.check import check
from equidata.cli.annotate_masks import annotate_masks
from equidata.cli.classify import classify
from equidata.cli.console import err
from equidata.cli.evaluate import evaluate
from equidata.cli.export import export
from equidata.cli.label import label
from equidata.cli.report import report
from equidata.cli.show import show
from equidata.cli.stats import stats
from equidata.cli.synthesize import synthesize
from equidata.cli.train import train
from equidata.errors import EquidataError, EquidataWarning


class Command(TyperCommand):
    """Click's usage line: a required argument as NAME, an optional one as [NAME] (Typer writes {name})."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces


# Plain Click help (rich_markup_mode=None): flags without a value placeholder, choices unbroken.
app = typer.Typer(
    name="equidata",
    help="Curate LLM safety preference data: classify risk groups, balance them (FDC), export, and annotate AMA masks.\n\n"
    "Example:  equidata classify prompts.jsonl | equidata balance - | equidata export - -o train.jsonl",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
app.command(cls=Command)(classify)
app.command(cls=Command)(train)
app.command(cls=Command)(evaluate)
app.command(cls=Command)(stats)
app.command(cls=Command)(balance)
app.command(cls=Command)(export)
app.command("annotate-masks", cls=Command)(annotate_masks)
app.command(cls=Command)(label)
app.command(cls=Command)(synthesize)
app.command(cls=Command)(check)
app.command(cls=Command)(report)
app.command(cls=Command)(show)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit.")) -> None:
    """Curate LLM safety preference data the Equilibrate-RLHF way."""


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Library warnings (:class:`EquidataWarning`) as one "warning:" line on stderr, without a source line."""
    if issubclass(category, EquidataWarning):
        err.print(f"[bold yellow]warning:[/] {escape(str(message))}", highlight=False)
    else:
        _default_showwarning(message, category, *args, **kwargs)


_default_showwarning = warnings.showwarning


def main() -> None:
    """Console entry point: library errors become a one-line message and exit code 1 or 2.

    Usage errors are Typer's own (exit 2). An environment failure while reading or writing (a full
    disk, a read-only folder) is one line and exit 1. A closed stdout (``| head``) ends the run
    quietly with exit 1, every command alike. Anything unexpected keeps its traceback (exit 1).
    Library warnings print as one line each (see :func:`_show_warning`).
    """
    warnings.showwarning = _show_warning
    try:
        app()
    except EquidataError as exc:
        _error(str(exc), exc.exit_code)
    except BrokenPipeError:
        _broken_pipe()
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            _broken_pipe()
        where = f": {exc.filename}" if exc.filename else ""
        hint = "; free some space and run again (with --resume where the command has it)" if exc.errno == errno.ENOSPC else ""
        _error(f"{exc.strerror or exc}{where}{hint}", 1)


def _error(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(code)


def _broken_pipe() -> None:
    """Exit 1 without a word; stdout goes to /dev/null so the interpreter's final flush stays quiet."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)
