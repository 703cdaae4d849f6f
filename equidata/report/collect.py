"""One streaming pass per input file, keeping only tallies and bounded samples for the report."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from equidata.ama.weights import SIDES
from equidata.errors import InputError
from equidata.io import Row
from equidata.schemas import FieldProblem, Schema, detect_schema
from equidata.engines.local import Progress
from equidata.tally import GroupTally, ManifestTally, MaskTally, Reservoir, confidence_of, read_valid

TEXT_LIMIT = 600  # characters of a prompt or response shown in the report
TURN_FIELD = "risk_turn"


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


@dataclass
class Example:
    """A prompt shown in the report, with its confidence and (when classified per turn) the risk turn."""

    line: int
    confidence: float
    prompt: str
    id: str | None = None
    risk_turn: int | None = None


@dataclass
class Extremes:
    """The ``k`` most and least confident rows of each group (heaps, so memory is ``k`` per group)."""

    k: int
    top: dict[str, list[tuple[float, int, Example]]] = field(default_factory=dict)
    bottom: dict[str, list[tuple[float, int, Example]]] = field(default_factory=dict)

    def add(self, group: str, conf: float, make: Callable[[], Example], index: int) -> None:
        top, bottom = self.top.setdefault(group, []), self.bottom.setdefault(group, [])
        if len(top) < self.k or conf > top[0][0]:
            (heapq.heappush if len(top) < self.k else heapq.heapreplace)(top, (conf, -index, make()))
        if len(bottom) < self.k or -conf > bottom[0][0]:
            (heapq.heappush if len(bottom) < self.k else heapq.heapreplace)(bottom, (-conf, -index, make()))

    def highest(self, group: str) -> list[Example]:
        return [e for _, _, e in sorted(self.top.get(group, []), key=lambda t: (-t[0], -t[1]))]

    def lowest(self, group: str) -> list[Example]:
        return [e for _, _, e in sorted(self.bottom.get(group, []), key=lambda t: (-t[0], -t[1]))]


@dataclass
class Classified:
    """What the report shows of a classified file."""

    tally: GroupTally
    examples: Extremes
    map_groups: list[str]  # groups of the rows sampled for the embedding map, in index order
    map_index: np.ndarray  # their row indexes (into the embeddings file)
    has_turns: bool = False


def _prompt_text(schema: Schema | None, data: dict[str, Any]) -> str:
    if schema is None:
        return "(no prompt field)"
    try:
        return _clip(schema.prompt(data).text)
    except FieldProblem as p:
        return f"({p.field}: {p.reason})"


def collect_classified(
    path: str | Path, *, threshold: float, examples: int, map_index: np.ndarray, prompt_field: str | None, progress: Progress | None
) -> Classified:
    """Tally groups and confidences, keep the extreme examples and the groups of the rows in ``map_index``."""
    tally = GroupTally(threshold)
    extremes = Extremes(examples)
    wanted = map_index.tolist()
    groups: list[str] = []
    schema: Schema | None = None
    detected = has_turns = False
    for i, row in enumerate(read_valid(path, progress)):
        tally.add(row)
        data = row.data
        if len(groups) < len(wanted) and wanted[len(groups)] == i:
            groups.append(str(data.get("risk_group")))
        conf = confidence_of(data)
        group = data.get("risk_group")
        if conf is None or not isinstance(group, str):
            continue
        if not detected:
            detected = True
            try:
                schema = detect_schema(data, prompt_field, source=str(path))
            except InputError:
                schema = None  # the examples then say the prompt is missing
        turn = data.get(TURN_FIELD)
        has_turns = has_turns or isinstance(turn, int)
        extremes.add(group, conf, lambda: _example(row, conf, schema), i)
    tally.require_groups(path)
    return Classified(tally, extremes, groups, map_index, has_turns)


def _example(row: Row, conf: float, schema: Schema | None) -> Example:
    data = row.data
    turn = data.get(TURN_FIELD)
    ident = data.get("id")
    return Example(row.line, conf, _prompt_text(schema, data), None if ident is None else str(ident), turn if isinstance(turn, int) and not isinstance(turn, bool) else None)


def collect_groups(path: str | Path, threshold: float, progress: Progress | None) -> GroupTally:
    """Group counts of a file (the balanced mix)."""
    tally = GroupTally(threshold)
    for row in read_valid(path, progress):
        tally.add(row)
    tally.require_groups(path)
    return tally


def collect_manifest(path: str | Path, progress: Progress | None) -> ManifestTally:
    tally = ManifestTally()
    for row in read_valid(path, progress):
        tally.add(row, path)
    return tally


@dataclass
class Masks:
    """Kept-share tallies and a few sampled pairs (partly masked ones first)."""

    tally: MaskTally
    pairs: list[dict[str, Any]]


def _pair(row: Row) -> dict[str, Any]:
    data = row.data
    out: dict[str, Any] = {"line": row.line, "prompt": _clip(str(data.get("prompt", ""))) if isinstance(data.get("prompt"), str) else ""}
    for side in SIDES:
        text = data.get(side)
        if isinstance(text, list):  # conversational: the last message is the response
            text = text[-1].get("content", "") if text and isinstance(text[-1], dict) else ""
        out[side] = str(text or "")
        segments = data.get(f"{side}_segments")
        out[f"{side}_segments"] = [s for s in segments if isinstance(s, dict)] if isinstance(segments, list) else []
    return out


def collect_masks(path: str | Path, *, pairs: int, seed: int, progress: Progress | None) -> Masks:
    tally = MaskTally()
    partial, whole = Reservoir(pairs, seed), Reservoir(pairs, seed + 1)
    for row in read_valid(path, progress):
        shares = tally.add(row, path)
        (partial if any(0.0 < s < 1.0 for s in shares.values()) else whole).add(row)
    chosen = (partial.items + whole.items)[:pairs]
    return Masks(tally, [_pair(r) for r in sorted(chosen, key=lambda r: r.index)])
