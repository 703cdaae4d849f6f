"""From values to weights: the baseline, the binary/soft mask rule, and the empty-mask guard.

A token of the chosen response is *kept* when its value is above the baseline b, a token of the
rejected response when its value is below b (the paper's Adaptive Message-wise Alignment).

- ``binary``: chosen w = 1[v > b], rejected w = 1[v < b];
- ``soft``: chosen w = sigmoid((v - b) / T), rejected w = sigmoid((b - v) / T).

Guard: a response none of whose *response* tokens is kept (template tokens do not count) gets
weight 1 on every token, and the row is flagged ``ama_fallback``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

from equidata.errors import ParameterError

WEIGHT_MODES = ("binary", "soft")
SIDES = ("chosen", "rejected")
DECIMALS = 6


@dataclass(frozen=True)
class Baseline:
    """``zero``, ``mean`` (over the dataset's response-token values) or a fixed number."""

    kind: str
    value: float = 0.0

    @classmethod
    def parse(cls, text: str | float) -> Baseline:
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            return cls("float", float(text))
        text = str(text).strip().lower()
        if text in ("zero", "mean"):
            return cls(text)
        try:
            value = float(text)
        except ValueError:
            raise ParameterError("baseline", "zero, mean or a number", text) from None
        if not math.isfinite(value):
            raise ParameterError("baseline", "a finite number", text)
        return cls("float", value)


@dataclass(frozen=True)
class MaskRule:
    """The mask rule with a resolved baseline value."""

    baseline: float = 0.0
    mode: str = "binary"
    temperature: float = 0.1

    def __post_init__(self) -> None:
        if self.mode not in WEIGHT_MODES:
            raise ParameterError("weights", f"one of {list(WEIGHT_MODES)}", self.mode)
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ParameterError("temperature", "a positive number", self.temperature)

    def kept(self, value: float, side: str) -> bool:
        """Whether a token of ``side`` with ``value`` lies on the keep side of the baseline."""
        return value > self.baseline if side == "chosen" else value < self.baseline

    def weight(self, value: float, side: str) -> float:
        if self.mode == "binary":
            return 1.0 if self.kept(value, side) else 0.0
        signed = (value - self.baseline) if side == "chosen" else (self.baseline - value)
        z = signed / self.temperature
        w = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return round(w, DECIMALS)


def token_values(spans: list[tuple[int, int] | None], segments: list[tuple[int, int]], values: list[float]) -> list[float]:
    """Each token takes the value of the segment it overlaps most; tokens in no segment (whitespace, template) get 0."""
    starts = [s for s, _ in segments]
    out = []
    for span in spans:
        best, best_overlap = 0.0, 0
        if span is not None:
            k = max(bisect_right(starts, span[0]) - 1, 0)
            while k < len(segments) and segments[k][0] < span[1]:
                overlap = min(span[1], segments[k][1]) - max(span[0], segments[k][0])
                if overlap > best_overlap:
                    best, best_overlap = values[k], overlap
                k += 1
        out.append(best)
    return out


def segment_means(spans: list[tuple[int, int] | None], segments: list[tuple[int, int]], tok_values: list[float]) -> list[float]:
    """Mean value of the tokens overlapping each segment (0 for a segment with none)."""
    sums, counts = [0.0] * len(segments), [0] * len(segments)
    starts = [s for s, _ in segments]
    for span, v in zip(spans, tok_values):
        if span is None:
            continue
        k = max(bisect_right(starts, span[0]) - 1, 0)
        while k < len(segments) and segments[k][0] < span[1]:
            if min(span[1], segments[k][1]) > max(span[0], segments[k][0]):
                sums[k] += v
                counts[k] += 1
            k += 1
    return [s / c if c else 0.0 for s, c in zip(sums, counts)]
