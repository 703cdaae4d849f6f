"""`equidata train`: fit a risk classifier on labelled prompts and save it as safetensors + JSON."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.classifier.settings import ENCODERS, FinetuneParams, TrainParams, parse_class_weight, recipe_params
from equidata.cli import console
from equidata.cli.options import BatchSize, Device, LabelField, LabelMap, LabelRejects, Model, OnError, OnErrorChoice, PromptField, Quiet, Turns, TurnsChoice, choice
from equidata.groups import parse_label_map

EncoderChoice = choice("EncoderChoice", ENCODERS)


def train(
    labels: Annotated[list[str], typer.Argument(metavar="LABELS", help="Labelled prompts or dialogues: one file or several, each in any input format and schema.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the head (head.safetensors, config.json, encoder.safetensors).", show_default=False)],
    label_field: LabelField = "category",
    label_map: LabelMap = None,
    prompt_field: PromptField = None,
    turns: Turns = TurnsChoice.all,
    model: Model = None,
    device: Device = "auto",
    batch_size: BatchSize = None,
    encoder: Annotated[EncoderChoice, typer.Option("--encoder", help="finetune: train the embedding model with a linear head (best; minutes on a CPU). frozen: a head over fixed embeddings (seconds).")] = EncoderChoice.finetune,
    design: Annotated[Optional[str], typer.Option("--design", help="--encoder frozen only: softmax (four groups) or two_axis (explicit-content x harmful-intent sigmoids).", show_default=False)] = None,
    hidden: Annotated[Optional[int], typer.Option("--hidden", min=0, help="--encoder frozen only: hidden units, 0 for a linear head (default 256).", show_default=False)] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1, help=f"Passes over the data (default: {FinetuneParams.epochs} fine-tuning, {TrainParams.epochs} frozen).", show_default=False)] = None,
    class_weight: Annotated[Optional[str], typer.Option("--class-weight", help=f"Group c weighted by (N / 4 n_c) ** e: none (e=0), sqrt (0.5), balanced (1) or e itself (default: {FinetuneParams.class_weight} fine-tuning, {TrainParams.class_weight} frozen).", show_default=False)] = None,
    cv: Annotated[int, typer.Option("--cv", min=0, help="Grouped cross-validation folds reported in the config (0: skip).")] = 5,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seed for initialisation, shuffling and folds: same data and seed, same head.")] = 0,
    on_error: OnError = OnErrorChoice.fail,
    rejects: LabelRejects = None,
    quiet: Quiet = False,
) -> None:
    """Train a risk classifier on labelled prompts or dialogues (the paper's EHD/IHD/MHD/OTHER/'No risk' labels are understood).

    Several files (e.g. single-turn prompts and dialogues, each in its own schema) train one head.

    Example:  equidata train ../shared/data/erlhf-beavertails-dev.json dialogues.jsonl -o my-head
    """
    from equidata.classifier import train_from_file

    params = recipe_params(encoder.value, design=design, hidden=hidden, epochs=epochs, class_weight=parse_class_weight(class_weight), seed=seed)
    with console.err.status("training") if console.interactive(quiet) else nullcontext() as status:
        config = train_from_file(
            labels, output, label_field=label_field, label_map=parse_label_map(label_map), prompt_field=prompt_field,
            model=model, device=device, batch_size=batch_size, params=params, cv_folds=cv, on_error=on_error.value, rejects=rejects,
            progress=status.update if status else None, turns=turns.value,
        )
    cv_metrics = config.metrics.get("cv")
    rows = [["rows used", config.metrics["rows_used"]], ["rows rejected", config.metrics["rows_rejected"]]]
    if cv_metrics:
        rows += [[f"cv macro-F1 ({cv_metrics['folds']} folds)", cv_metrics["macro_f1_mean"]], ["cv accuracy", cv_metrics["accuracy_mean"]]]
    console.summary(quiet, console.table(f"head saved to {output}", ["", "value"], rows))
