"""Adaptive Message-wise Alignment (AMA) as a data step: segment values, per-token weights, token alignment."""

from equidata.ama.align import ALIGNMENTS, Aligner, Completion, load_tokenizer, template_hash, vocab_hash
from equidata.ama.scorers import SCORERS, ContrastScorer, FieldScorer, JudgeScorer, RewardModelScorer, build_scorer
from equidata.ama.segments import split_segments
from equidata.ama.step import AnnotateResult, MaskStats, MaskStep, ScoreStep, annotate_file
from equidata.ama.weights import SIDES, WEIGHT_MODES, Baseline, MaskRule

__all__ = [
    "ALIGNMENTS",
    "SCORERS",
    "SIDES",
    "WEIGHT_MODES",
    "build_scorer",
    "Aligner",
    "AnnotateResult",
    "Baseline",
    "Completion",
    "ContrastScorer",
    "JudgeScorer",
    "FieldScorer",
    "MaskRule",
    "MaskStats",
    "MaskStep",
    "RewardModelScorer",
    "ScoreStep",
    "annotate_file",
    "load_tokenizer",
    "split_segments",
    "template_hash",
    "vocab_hash",
]
