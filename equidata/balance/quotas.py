"""Group quotas: parse ``--ratio`` / ``--per-group`` / ``--general-ratio`` and turn them into counts.

Ratios are exact fractions (``explicit=10,implicit=2.5`` is 4:1), reduced to coprime integer
weights. Without a total, the plan is the largest multiple of the weights that every group can
supply, so the ratio holds exactly. With a total, counts are apportioned by largest remainder
(each within one row of its exact share). When a group cannot supply its count, ``scale`` falls
back to the largest exact multiple of the weights that fits (the ratio holds exactly); ``fill``
takes what each group has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from equidata.errors import ParameterError
from equidata.groups import RISK_GROUPS

DEFAULT_RATIO = "explicit=10,implicit=3,mixed=1"
SHORTFALL = ("scale", "fill")


#: Ratio numbers stay within these bounds: an exponent such as 1e100000000 would make exact fractions endless.
_LIMITS = (1e-9, 1e12)


def _number(text: str, name: str, spec: str, must: str = "GROUP=NUMBER pairs separated by commas, e.g. explicit=10,implicit=3,mixed=1") -> Fraction:
    """An exact fraction from ``text``; refused (as ``must``) when it is not a number, or a non-zero one outside :data:`_LIMITS`."""
    text = text.strip()
    bounded = must + f", each number 0 or between {_LIMITS[0]:g} and {_LIMITS[1]:g}"
    try:
        # an exponent is checked as a float first: the exact parse of 1e100000000 would not end
        value = Fraction(text) if "e" not in text.lower() or _LIMITS[0] <= abs(float(text)) <= _LIMITS[1] else Fraction(_LIMITS[1] * 10)
    except (ValueError, ZeroDivisionError):
        raise ParameterError(name, must, spec) from None
    if value and not _LIMITS[0] <= abs(value) <= _LIMITS[1]:
        raise ParameterError(name, bounded, spec)
    return value


def parse_group_numbers(spec: str, name: str, *, integer: bool = False) -> dict[str, Fraction]:
    """Parse ``"explicit=10,implicit=3"`` (groups from :data:`RISK_GROUPS`, positive numbers) in order."""
    must = "GROUP=NUMBER pairs separated by commas, e.g. explicit=10,implicit=3,mixed=1, with GROUP in " + str(list(RISK_GROUPS))
    out: dict[str, Fraction] = {}
    if not spec.strip():
        raise ParameterError(name, must + "; leave the option out for the default", spec)
    for item in spec.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in RISK_GROUPS or key in out:
            raise ParameterError(name, must + " (each once)", spec)
        number = _number(value, name, spec)
        if number <= 0 or (integer and number.denominator != 1):
            raise ParameterError(name, "positive " + ("integers" if integer else "numbers") + " after each '='", spec)
        out[key] = number
    return out


def parse_pair_ratio(spec: str, name: str = "general_ratio") -> Fraction:
    """Parse ``"1:20"`` (safety:general) into general rows per safety row."""
    must = "SAFETY:GENERAL with positive numbers, e.g. 1:20"
    left, sep, right = spec.partition(":")
    if not sep:
        raise ParameterError(name, must, spec)
    safety, general = _number(left, name, spec, must), _number(right, name, spec, must)
    if safety <= 0 or general < 0:
        raise ParameterError(name, must, spec)
    return general / safety


def integer_weights(ratio: dict[str, Fraction]) -> dict[str, int]:
    """Scale fractions to the smallest coprime integers with the same ratio."""
    lcm = math.lcm(*(f.denominator for f in ratio.values()))
    ints = {g: int(f * lcm) for g, f in ratio.items()}
    gcd = math.gcd(*ints.values())
    return {g: v // gcd for g, v in ints.items()}


def apportion(weights: dict[str, int], total: int) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights`` by largest remainder (ties: earlier group first)."""
    wsum = sum(weights.values())
    exact = {g: Fraction(total * w, wsum) for g, w in weights.items()}
    out = {g: math.floor(x) for g, x in exact.items()}
    left = total - sum(out.values())
    for g in sorted(weights, key=lambda g: -(exact[g] - out[g]))[:left]:  # sorted() is stable
        out[g] += 1
    return out


@dataclass(frozen=True)
class Plan:
    """Wanted, available and taken rows per group."""

    wanted: dict[str, int]
    available: dict[str, int]
    taken: dict[str, int]


def plan(weights: dict[str, int], available: dict[str, int], *, total: int | None = None, shortfall: str = "scale") -> Plan:
    """Counts per group for ``weights`` given what each group has."""
    if shortfall not in SHORTFALL:
        raise ParameterError("shortfall", f"one of {list(SHORTFALL)}", shortfall)
    avail = {g: available.get(g, 0) for g in weights}
    if total is None:
        m = min(avail[g] // w for g, w in weights.items())
        wanted = {g: m * w for g, w in weights.items()}
        return Plan(wanted, avail, dict(wanted))
    wanted = apportion(weights, total)
    if shortfall == "fill":
        return Plan(wanted, avail, {g: min(wanted[g], avail[g]) for g in weights})
    if all(wanted[g] <= avail[g] for g in weights):
        return Plan(wanted, avail, dict(wanted))
    m = min(total // sum(weights.values()), *(avail[g] // w for g, w in weights.items()))
    return Plan(wanted, avail, {g: m * w for g, w in weights.items()})
