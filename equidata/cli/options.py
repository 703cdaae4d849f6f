"""Options shared by several commands, defined once as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.embedding import DEVICE_HELP, resolve_device
from equidata.io.policy import ON_ERROR
from equidata.schemas import PREFER, TURNS


def check_device(value: str) -> str:
    """Refuse a device this machine lacks while the command line is parsed, before any file is opened."""
    resolve_device(value)
    return value


def choice(name: str, values: Iterable[str]) -> type[Enum]:
    """A Typer choice made from the library's own tuple of values: each list of choices is written once, in the library."""
    return Enum(name, [(v, v) for v in values], type=str)  # type: ignore[return-value]


OnErrorChoice = choice("OnErrorChoice", ON_ERROR)
TurnsChoice = choice("TurnsChoice", TURNS)
PreferChoice = choice("PreferChoice", PREFER)


Input = Annotated[str, typer.Argument(help="JSONL, JSON array, Parquet, CSV, a `datasets` folder, or - for JSONL on stdin.", show_default=False)]
Output = Annotated[str, typer.Option("--output", "-o", help="Output JSONL file; - for stdout.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary on stderr.")]
OnError = Annotated[OnErrorChoice, typer.Option("--on-error", help="fail: exit 2 at the first bad row. skip: write bad rows to the rejects file.")]
Rejects = Annotated[Optional[Path], typer.Option("--rejects", help="Rejects file for --on-error skip (default: next to the output).", show_default=False)]
#: ``--rejects`` of the commands that read labelled prompts and write no rows (train, evaluate).
LabelRejects = Annotated[Optional[Path], typer.Option("--rejects", help="Rejects file for --on-error skip (default: in the current folder, named after the input; train: rejects.jsonl in the head folder).", show_default=False)]
PromptField = Annotated[Optional[str], typer.Option("--prompt-field", help="Field holding the prompt (default: detected from the schema).", show_default=False)]
Model = Annotated[Optional[str], typer.Option("--model", help="Embedding model: hub name or local path (default: bundled all-MiniLM-L6-v2).", show_default=False)]
Head = Annotated[Optional[Path], typer.Option("--head", help="Risk head folder from `equidata train` (default: the shipped head).", show_default=False)]
Device = Annotated[str, typer.Option("--device", help=DEVICE_HELP + ".", callback=check_device)]
BatchSize = Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Texts per model batch (default: 256-2048 to fit GPU memory on CUDA, 64 on CPU).", show_default=False)]
LabelField = Annotated[str, typer.Option("--label-field", help="Field holding the label.")]
LabelMap = Annotated[Optional[str], typer.Option("--label-map", help="Extra LABEL=GROUP pairs, comma-separated, over the built-in EHD/IHD/MHD/OTHER/'No risk' map.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print JSON to stdout instead of tables.")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from the checkpoint next to the output (refused if the input, model or head changed).")]
ChunkSize = Annotated[int, typer.Option("--chunk-size", min=1, help="Rows read, processed and written (and checkpointed) at a time; bounds memory.")]
Turns = Annotated[TurnsChoice, typer.Option("--turns", help="Dialogues: classify from all user turns (all), or from the last user turn only (last: the older behaviour, for comparison).")]
