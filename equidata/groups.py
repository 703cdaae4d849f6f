"""The paper's risk groups and the label vocabularies that map onto them."""

from __future__ import annotations

from collections.abc import Mapping

from equidata.errors import ParameterError

#: Output order of every probability vector and confusion matrix.
RISK_GROUPS: tuple[str, ...] = ("explicit", "implicit", "mixed", "none")

#: The fields ``classify`` adds to every row, in output order (``export --drop-meta`` leaves them out).
RISK_FIELDS: tuple[str, ...] = ("risk_group", "risk_scores", "risk_confidence", "risk_turn")

#: Labels of the Equilibrate-RLHF authors (EHD/IHD/MHD) plus the group names themselves.
PAPER_LABEL_MAP: Mapping[str, str] = {
    "EHD": "explicit",
    "IHD": "implicit",
    "MHD": "mixed",
    "OTHER": "none",
    "No risk": "none",
    **{g: g for g in RISK_GROUPS},
}


def parse_label_map(spec: str | None) -> dict[str, str]:
    """Parse ``"A=explicit,B=none"`` into a mapping, merged over :data:`PAPER_LABEL_MAP`.

    A label given twice is refused, even with the same group: one of the two is a typo.
    """
    mapping = dict(PAPER_LABEL_MAP)
    if not spec:
        return mapping
    given: set[str] = set()
    for item in spec.split(","):
        key, sep, group = item.partition("=")
        key = key.strip()
        if not sep or not key or group.strip() not in RISK_GROUPS:
            raise ParameterError("label_map", f"comma-separated LABEL=GROUP with GROUP in {list(RISK_GROUPS)}", spec)
        if key in given:
            raise ParameterError("label_map", f"one group per label, but {key!r} is mapped twice", spec)
        given.add(key)
        mapping[key] = group.strip()
    return mapping


def empty_groups(counts: Mapping[str, int]) -> list[str]:
    """The risk groups with no training rows (a head never learns to predict them)."""
    return [g for g in RISK_GROUPS if not counts.get(g)]
