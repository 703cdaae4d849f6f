"""`equidata evaluate`: macro-F1, per-group precision/recall/F1 and a confusion matrix."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from equidata.cli import console
from equidata.cli.options import BatchSize, Device, Head, Json, LabelField, LabelMap, LabelRejects, OnError, OnErrorChoice, PromptField, Turns, TurnsChoice
from equidata.groups import RISK_GROUPS, parse_label_map


def evaluate(
    labels: Annotated[str, typer.Argument(help="Labelled prompts (any input format).", show_default=False)],
    head: Head = None,
    label_field: LabelField = "category",
    label_map: LabelMap = None,
    prompt_field: PromptField = None,
    turns: Turns = TurnsChoice.all,
    device: Device = "auto",
    batch_size: BatchSize = None,
    on_error: OnError = OnErrorChoice.fail,
    rejects: LabelRejects = None,
    json_out: Json = False,
) -> None:
    """Score a risk head against labelled prompts or dialogues (any supported schema); the report goes to stdout.

    Example:  equidata evaluate ../shared/data/hh-harmless-dialogues.jsonl --label-field label --on-error skip --json
    """
    from equidata.classifier import evaluate_file

    report = evaluate_file(
        labels, head=head, label_field=label_field, label_map=parse_label_map(label_map), prompt_field=prompt_field,
        device=device, batch_size=batch_size, on_error=on_error.value, rejects=rejects, turns=turns.value,
    )
    if json_out:
        typer.echo(json.dumps(report, indent=2))
        return
    per = report["per_group"]
    console.out.print(console.table(
        f"{report['n']} rows (--turns {report['turns']}): accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}",
        ["group", "precision", "recall", "f1", "support"],
        [[g, per[g]["precision"], per[g]["recall"], per[g]["f1"], per[g]["support"]] for g in RISK_GROUPS],
    ))
    console.out.print(console.table("confusion (rows: true, columns: predicted)", ["", *RISK_GROUPS], [[g, *row] for g, row in zip(RISK_GROUPS, report["confusion"])]))
