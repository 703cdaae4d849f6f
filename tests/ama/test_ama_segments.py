"""Segmentation, token values and the mask rule: pure functions, no model."""

from __future__ import annotations

import math

import pytest

from equidata.ama import Baseline, MaskRule, split_segments
from equidata.ama.weights import segment_means, token_values
from equidata.errors import ParameterError


def texts(t: str) -> list[str]:
    return [t[s:e] for s, e in split_segments(t)]


def test_sentences_clauses_and_exclusive_end_offsets() -> None:
    t = "I can't help with that. If you are interested in chemistry, a supervised class is a safe place to start."
    assert texts(t) == ["I can't help with that.", "If you are interested in chemistry,", "a supervised class is a safe place to start."]
    spans = split_segments(t)
    assert spans[0] == (0, 23) and t[spans[0][1]] == " "  # end is exclusive


def test_newlines_and_list_items_keep_their_marker() -> None:
    t = "Steps:\n1. Mix the powder.\n- heat it\n\n* done!"
    assert texts(t) == ["Steps:", "1. Mix the powder.", "- heat it", "* done!"]


def test_no_split_on_abbreviations_initials_decimals_or_short_clauses() -> None:
    t = "Ask Dr. Smith e.g. by phone. Take 2.5 mg of J. Doe's pills, then salt."
    assert texts(t) == ["Ask Dr. Smith e.g. by phone.", "Take 2.5 mg of J. Doe's pills, then salt."]


def test_blank_text_has_no_segments() -> None:
    assert split_segments(" \n\t") == []


def test_tokens_take_the_value_of_the_segment_they_overlap_most() -> None:
    segments, values = [(0, 5), (6, 12)], [0.5, -1.0]
    spans = [(0, 3), (4, 8), (5, 6), (6, 12), None]
    assert token_values(spans, segments, values) == [0.5, -1.0, 0.0, -1.0, 0.0]
    assert segment_means(spans, segments, [1.0, 2.0, 9.0, 4.0, 9.0]) == [1.5, 3.0]


def test_binary_rule_keeps_chosen_above_and_rejected_below_the_baseline() -> None:
    rule = MaskRule(0.0, "binary")
    assert [rule.weight(v, "chosen") for v in (-0.3, 0.0, 0.4)] == [0.0, 0.0, 1.0]
    assert [rule.weight(v, "rejected") for v in (-0.3, 0.0, 0.4)] == [1.0, 0.0, 0.0]


def test_soft_rule_is_a_sigmoid_of_the_signed_distance() -> None:
    rule = MaskRule(0.2, "soft", temperature=0.5)
    assert rule.weight(0.7, "chosen") == pytest.approx(1 / (1 + math.exp(-1.0)), abs=1e-6)
    assert rule.weight(0.7, "rejected") == pytest.approx(1 / (1 + math.exp(1.0)), abs=1e-6)
    assert rule.weight(0.2, "chosen") == 0.5


def test_baseline_parsing_and_validation() -> None:
    assert Baseline.parse("zero") == Baseline("zero", 0.0)
    assert Baseline.parse("mean").kind == "mean"
    assert Baseline.parse("-0.25") == Baseline("float", -0.25)
    with pytest.raises(ParameterError, match="The 'baseline' parameter must be zero, mean or a number. Got 'median' instead."):
        Baseline.parse("median")
    with pytest.raises(ParameterError, match="'temperature'"):
        MaskRule(0.0, "soft", temperature=0.0)
