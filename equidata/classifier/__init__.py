"""The risk classifier: embedding model + a small head, trained on labelled prompts."""

from equidata.classifier.finetune import FinetuneParams, Finetuned, finetune
from equidata.classifier.head import DEFAULT_HEAD_DIR, HeadConfig, RiskHead, load_head, save_head
from equidata.classifier.predict import ClassifyStep, RiskClassifier, load_encoder, risk_fields
from equidata.classifier.run import ClassifyResult, classify_file, evaluate_file, train_from_file
from equidata.classifier.train import TrainParams, cross_validate, fit_head

__all__ = [
    "DEFAULT_HEAD_DIR",
    "FinetuneParams",
    "Finetuned",
    "ClassifyResult",
    "ClassifyStep",
    "HeadConfig",
    "RiskClassifier",
    "load_encoder",
    "RiskHead",
    "TrainParams",
    "classify_file",
    "cross_validate",
    "evaluate_file",
    "finetune",
    "fit_head",
    "load_head",
    "risk_fields",
    "save_head",
    "train_from_file",
]
