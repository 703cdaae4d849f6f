"""`equidata train`: fit a risk head on labelled prompts and save it as safetensors + JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from equidata.classifier import TrainParams, train_from_file
from equidata.cli import console
from equidata.cli.options import BatchSize, Device, LabelField, LabelMap, Model, OnError, OnErrorChoice, PromptField, Quiet, Rejects
from equidata.groups import parse_label_map


def train(
    labels: Annotated[str, typer.Argument(help="Labelled prompts (any input format).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for head.safetensors and config.json.", show_default=False)],
    label_field: LabelField = "category",
    label_map: LabelMap = None,
    prompt_field: PromptField = None,
    model: Model = None,
    device: Device = "auto",
    batch_size: BatchSize = None,
    design: Annotated[str, typer.Option("--design", help="softmax (four groups) or two_axis (explicit-content x harmful-intent sigmoids).")] = TrainParams.design,
    hidden: Annotated[int, typer.Option("--hidden", min=0, help="Hidden units; 0 for a linear head.")] = TrainParams.hidden,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = TrainParams.epochs,
    class_weight: Annotated[str, typer.Option("--class-weight", help="sqrt, balanced or none.")] = "sqrt",
    cv: Annotated[int, typer.Option("--cv", min=0, help="Grouped cross-validation folds reported in the config (0: skip).")] = 5,
    seed: Annotated[int, typer.Option("--seed")] = TrainParams.seed,
    on_error: OnError = OnErrorChoice.fail,
    rejects: Rejects = None,
    quiet: Quiet = False,
) -> None:
    """Train a risk head on labelled prompts (the paper's EHD/IHD/MHD/OTHER/'No risk' labels are understood).

    Example:  equidata train ../shared/data/erlhf-beavertails-dev.json --prompt-field question_y -o my-head
    """
    params = TrainParams(design=design, hidden=hidden, epochs=epochs, class_weight=None if class_weight == "none" else class_weight, seed=seed)
    config = train_from_file(
        labels, output, label_field=label_field, label_map=parse_label_map(label_map), prompt_field=prompt_field,
        model=model, device=device, batch_size=batch_size, params=params, cv_folds=cv, on_error=on_error.value, rejects=rejects,
    )
    cv_metrics = config.metrics.get("cv")
    rows = [["rows used", config.metrics["rows_used"]], ["rows rejected", config.metrics["rows_rejected"]]]
    if cv_metrics:
        rows += [[f"cv macro-F1 ({cv_metrics['folds']} folds)", cv_metrics["macro_f1_mean"]], ["cv accuracy", cv_metrics["accuracy_mean"]]]
    console.summary(quiet, console.table(f"head saved to {output}", ["", "value"], rows))
