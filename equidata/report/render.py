"""HTML for the report: a Jinja2 template (autoescaped) with the charts' SVG inlined."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

TEMPLATE = "report.html.j2"


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["svg"] = Markup  # charts are matplotlib's own SVG output
    env.filters["pct"] = lambda v: "" if v is None else f"{v:.1%}"
    return env


def mask_pieces(text: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split a response into runs: text outside segments, kept segments and masked segments.

    A segment is kept when its weight is at least 0.5 (binary masks: 1); soft weights set the shade.
    """
    pieces: list[dict[str, Any]] = []
    at = 0
    for seg in sorted(segments, key=lambda s: s.get("start", 0)):
        start, end = int(seg.get("start", 0)), int(seg.get("end", 0))
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        if start > at:
            pieces.append({"text": text[at:start], "kind": "plain"})
        weight = float(seg.get("weight", 1.0))
        value = seg.get("value")
        pieces.append({"text": text[start:end], "kind": "kept" if weight >= 0.5 else "masked", "weight": weight, "value": value})
        at = end
    if at < len(text):
        pieces.append({"text": text[at:], "kind": "plain"})
    return pieces


def render(**context: Any) -> str:
    """The report page for ``context`` (see ``build_report``)."""
    return _environment().get_template(TEMPLATE).render(**context)
