"""The risk classifier: embedding model + a small head, trained on labelled prompts.

The names below load on first use (importing the package loads no torch), so a command line can take
:mod:`equidata.classifier.settings` without the model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from equidata.lazy import lazy_exports

if TYPE_CHECKING:
    from equidata.classifier.finetuning import Finetuned, finetune
    from equidata.classifier.head import DEFAULT_HEAD_DIR, HeadConfig, RiskHead, load_head, save_head
    from equidata.classifier.predict import ClassifyStep, RiskClassifier, load_encoder, risk_fields
    from equidata.classifier.api import ClassifyResult, classify_file, evaluate_file, train_from_file
    from equidata.classifier.settings import FinetuneParams, TrainParams, recipe_params
    from equidata.classifier.train import cross_validate, fit_head

_MODULES = {
    "finetuning": ("Finetuned", "finetune"),
    "head": ("DEFAULT_HEAD_DIR", "HeadConfig", "RiskHead", "load_head", "save_head"),
    "predict": ("ClassifyStep", "RiskClassifier", "load_encoder", "risk_fields"),
    "api": ("ClassifyResult", "classify_file", "evaluate_file", "train_from_file"),
    "settings": ("FinetuneParams", "TrainParams", "recipe_params"),
    "train": ("cross_validate", "fit_head"),
}
__getattr__, __all__ = lazy_exports(__name__, _MODULES)
