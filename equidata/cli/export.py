"""`equidata export`: write preference pairs in the layout a trainer loads directly."""

from __future__ import annotations

from typing import Annotated

import typer

from equidata.cli import console
from equidata.cli.options import ChunkSize, Input, OnError, OnErrorChoice, Output, PreferChoice, PromptField, Quiet, Rejects, Resume, choice
from equidata.engines import DEFAULT_CHUNK_SIZE
from equidata.export.formats import FORMATS

Format = choice("Format", FORMATS)


def export(
    input: Input,
    output: Output = "-",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="trl (standard), trl-chat (conversational), openrlhf, llamafactory (Alpaca ranking), or prompt-only (PPO/GRPO).")] = Format.trl,
    prefer: Annotated[PreferChoice, typer.Option("--prefer", help="PKU-SafeRLHF: order pairs by safer_response_id or better_response_id.")] = PreferChoice.safer,
    drop_meta: Annotated[bool, typer.Option("--drop-meta", help="Leave out the fields classify added (risk_group, risk_scores, risk_confidence, risk_turn).")] = False,
    keep_fields: Annotated[bool, typer.Option("--keep-fields/--no-keep-fields", help="Keep the other input fields (id, source, ...) after the layout's columns.")] = True,
    prompt_field: PromptField = None,
    on_error: OnError = OnErrorChoice.fail,
    rejects: Rejects = None,
    resume: Resume = False,
    chunk_size: ChunkSize = DEFAULT_CHUNK_SIZE,
    quiet: Quiet = False,
) -> None:
    """Export preference pairs (prompt-only rows for PPO/GRPO) for TRL, OpenRLHF or LLaMA-Factory.

    Example:  equidata export mix.jsonl -o train.jsonl --format trl
    """
    from equidata.export import export_file

    total = console.input_total(input)
    with console.progress_bar("export", quiet, total) as advance:
        result = export_file(
            input, output, fmt=fmt.value, prefer=prefer.value, drop_meta=drop_meta, keep_fields=keep_fields, prompt_field=prompt_field,
            on_error=on_error.value, rejects=rejects, progress=advance, resume=resume, chunk_size=chunk_size,
        )
    console.empty_input_warning(result.counts.read, input)
    rows = [["input schema", result.schema or "-"], ["records", "preference pairs" if result.pairs else "prompts only"]]
    if result.dataset_info_path is not None:
        rows.append(["dataset_info entry", str(result.dataset_info_path)])
    console.summary(quiet, console.table(f"export --format {fmt.value}", ["", ""], rows), console.counts_table(result.counts))
