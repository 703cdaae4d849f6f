"""``BalanceParams``: what balance keeps (ratio or quotas, general mix, selection, dedup), checked when made."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from equidata.balance.quotas import DEFAULT_RATIO, SHORTFALL, integer_weights, parse_group_numbers, parse_pair_ratio
from equidata.balance.select import STRATEGIES
from equidata.errors import ParameterError


def _check(name: str, value: float | None, lo: float, hi: float, must: str) -> None:
    if value is not None and not lo <= value <= hi:
        raise ParameterError(name, must, value)


@dataclass(frozen=True)
class BalanceParams:
    """The settings of :func:`~equidata.balance.balance_file` that decide which rows are kept.

    ``ratio`` (GROUP=N pairs, default :data:`DEFAULT_RATIO`) with an optional ``total``, or
    ``per_group`` absolute quotas; ``shortfall`` (``scale``/``fill``) when a group runs short;
    ``general_ratio`` (``SAFETY:GENERAL``) or ``general_total`` for the general rows; ``strategy``
    inside a group; rows below ``min_confidence`` dropped first; ``dedup`` exact and near duplicates
    (cosine above ``dedup_threshold``); ``seed`` for k-means and random picks.
    """

    ratio: str | None = None
    per_group: str | None = None
    total: int | None = None
    shortfall: str = "scale"
    general_ratio: str | None = None
    general_total: int | None = None
    strategy: str = "diverse"
    min_confidence: float | None = None
    dedup: bool = True
    dedup_threshold: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if self.per_group is not None and (self.ratio is not None or self.total is not None):
            raise ParameterError("per_group", "used without --ratio and --total (it sets both)", self.per_group)
        _check("total", self.total, 0, math.inf, "a non-negative integer")
        _check("general_total", self.general_total, 0, math.inf, "a non-negative integer")
        _check("min_confidence", self.min_confidence, 0.0, 1.0, "a number in [0, 1]")
        _check("dedup_threshold", self.dedup_threshold, 1e-9, 1.0, "a cosine similarity in (0, 1]")
        if self.strategy not in STRATEGIES:
            raise ParameterError("strategy", f"one of {list(STRATEGIES)}", self.strategy)
        if self.shortfall not in SHORTFALL:
            raise ParameterError("shortfall", f"one of {list(SHORTFALL)}", self.shortfall)
        self.quotas()
        self.general_per()

    def quotas(self) -> dict[str, Fraction]:
        """The per-group quotas, or the ratio's weights."""
        if self.per_group:
            return parse_group_numbers(self.per_group, "per_group", integer=True)
        return parse_group_numbers(DEFAULT_RATIO if self.ratio is None else self.ratio, "ratio")

    def weights(self) -> dict[str, int]:
        """The ratio as the smallest integers."""
        return integer_weights(self.quotas())

    def wanted_total(self) -> int | None:
        """Risk-group rows wanted: the sum of the quotas, ``total``, or None (the largest set that keeps the ratio)."""
        return sum(int(q) for q in self.quotas().values()) if self.per_group else self.total

    def general_per(self) -> Fraction | None:
        """General rows per safety row, from ``general_ratio``."""
        return parse_pair_ratio(self.general_ratio) if self.general_ratio is not None else None

    def check_general(self, general: object) -> None:
        """The general-mix settings go with a ``general`` file, and exactly one of them."""
        if general is not None and (self.general_ratio is None) == (self.general_total is None):
            raise ParameterError("general_ratio", "given, or --general-total instead (exactly one), with --general", self.general_ratio)
        if general is None and (self.general_ratio is not None or self.general_total is not None):
            raise ParameterError("general", "a file when --general-ratio or --general-total is given", general)
