"""The paper's risk groups and the label vocabularies that map onto them."""

from __future__ import annotations

from collections.abc import Mapping

from equidata.errors import ParameterError

#: Output order of every probability vector and confusion matrix.
RISK_GROUPS: tuple[str, ...] = ("explicit", "implicit", "mixed", "none")

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
    """Parse ``"A=explicit,B=none"`` into a mapping, merged over :data:`PAPER_LABEL_MAP`."""
    mapping = dict(PAPER_LABEL_MAP)
    if not spec:
        return mapping
    for item in spec.split(","):
        key, sep, group = item.partition("=")
        if not sep or not key.strip() or group.strip() not in RISK_GROUPS:
            raise ParameterError("label_map", f"comma-separated LABEL=GROUP with GROUP in {list(RISK_GROUPS)}", spec)
        mapping[key.strip()] = group.strip()
    return mapping
