"""The classifier's settings, torch-free: training recipes and their parameters, class weights, engines.

Kept apart from the modules that train and predict, so that a command line can offer these choices
and defaults without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from equidata.errors import ParameterError

#: Named class-weight exponents: group c is weighted by (N / (4 n_c)) ** exponent.
CLASS_WEIGHTS = {"none": 0.0, "sqrt": 0.5, "balanced": 1.0}

#: Training recipes: fine-tune the encoder with a linear head, or fit a head over frozen embeddings.
ENCODERS: tuple[str, ...] = ("finetune", "frozen")

#: Engines ``classify`` runs on: this process, or Ray Data.
ENGINES: tuple[str, ...] = ("local", "ray")


def weight_exponent(class_weight: str | float | None) -> float:
    """The exponent behind a ``class_weight`` setting: a name of :data:`CLASS_WEIGHTS`, None, or a number in [0, 1]."""
    if class_weight is None:
        return 0.0
    if isinstance(class_weight, str):
        if class_weight in CLASS_WEIGHTS:
            return CLASS_WEIGHTS[class_weight]
    elif 0.0 <= class_weight <= 1.0:
        return float(class_weight)
    raise ParameterError("class_weight", f"one of {list(CLASS_WEIGHTS)} or an exponent in [0, 1]", class_weight)


def parse_class_weight(text: str | None) -> str | float | None:
    """A command line's ``class_weight``: a number is an exponent, anything else a name (checked by the recipe)."""
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return text


def check_shared_params(params: Any) -> None:
    """Validate the settings both recipes share: epochs, batch_size, dropout, class_weight."""
    for name in ("epochs", "batch_size"):
        if getattr(params, name) < 1:
            raise ParameterError(name, "a positive integer", getattr(params, name))
    if not 0.0 <= params.dropout < 1.0:
        raise ParameterError("dropout", "a float in [0, 1)", params.dropout)
    weight_exponent(params.class_weight)


@dataclass
class TrainParams:
    """Hyper-parameters of :func:`~equidata.classifier.fit_head`, a head over frozen embeddings (``train --encoder frozen``).

    ``class_weight`` weights group c by (N / (4 n_c)) ** e: ``none`` e = 0, ``sqrt`` e = 0.5,
    ``balanced`` e = 1, or any e in [0, 1].
    ``soft_dedup`` collapses duplicate prompts (normalised text) into one row whose target is
    their label distribution, so conflicting labels teach uncertainty instead of noise.
    ``tune_bias`` tunes a per-group log-prior on inner out-of-fold predictions (off: it lowered
    macro-F1 in grouped CV, see the model card).
    """

    design: str = "softmax"
    hidden: int = 256
    dropout: float = 0.5
    epochs: int = 20
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 64
    class_weight: str | float | None = "sqrt"
    soft_dedup: bool = True
    tune_bias: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        check_shared_params(self)


@dataclass
class FinetuneParams:
    """Hyper-parameters of :func:`~equidata.classifier.finetune` (the defaults are the shipped head's; see its model card).

    ``lr`` is the encoder's peak learning rate, ``head_lr`` the linear head's; both warm up over
    the first ``warmup`` share of steps, then decay linearly to zero. ``class_weight`` as in
    :class:`TrainParams` (default: the fourth root of the inverse frequency).
    ``scale`` multiplies the unit-length embedding before the head (a cosine classifier with
    temperature 1/scale).
    """

    epochs: int = 4
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 32
    warmup: float = 0.1
    class_weight: str | float | None = 0.25
    dropout: float = 0.1
    scale: float = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_shared_params(self)
        if not 0.0 <= self.warmup < 1.0:
            raise ParameterError("warmup", "a share of steps in [0, 1)", self.warmup)


def recipe_params(
    encoder: str = "finetune",
    *,
    design: str | None = None,
    hidden: int | None = None,
    epochs: int | None = None,
    class_weight: str | float | None = None,
    seed: int = 0,
) -> FinetuneParams | TrainParams:
    """The parameters of the recipe ``encoder`` names; ``None`` keeps that recipe's default.

    ``design`` and ``hidden`` belong to the frozen recipe only, and are refused with ``finetune``.
    """
    if encoder not in ENCODERS:
        raise ParameterError("encoder", f"one of {list(ENCODERS)}", encoder)
    if encoder == "frozen":
        given = {"design": design, "hidden": hidden, "epochs": epochs, "class_weight": class_weight}
        return TrainParams(seed=seed, **{k: v for k, v in given.items() if v is not None})
    for name, value in (("design", design), ("hidden", hidden)):
        if value is not None:
            raise ParameterError(name, "left out with --encoder finetune (a linear softmax head); use --encoder frozen", value)
    return FinetuneParams(seed=seed, **{k: v for k, v in (("epochs", epochs), ("class_weight", class_weight)) if v is not None})
