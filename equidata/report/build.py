"""``build_report``: read the inputs streaming, draw the charts, write one self-contained HTML file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from equidata import __version__
from equidata.ama.weights import SIDES
from equidata.balance.quotas import parse_group_numbers
from equidata.errors import InputError, ParameterError
from equidata.io import STDOUT, atomic_output
from equidata.report import figures
from equidata.engines.local import Progress
from equidata.report.collect import Classified, collect_classified, collect_groups, collect_manifest, collect_masks
from equidata.report.render import mask_pieces, render
from equidata.tally import BINS, FATES, GroupTally, ordered_groups

MAP_POINTS = 3000


@dataclass
class ReportSummary:
    """What went into the report: rows read per input and the sections written."""

    rows: dict[str, int] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)


def _distinct(output: str | Path, inputs: list[str | Path | None]) -> None:
    if str(output) == STDOUT:
        return
    out = Path(output).resolve()
    for path in inputs:
        if path is not None and str(path) != STDOUT and Path(path).resolve() == out:
            raise ParameterError("output", "a new file, not one of the inputs", str(output))


@dataclass
class _Npy:
    """A 2-D ``.npy`` file read row by row at chosen indexes (no memory map: its read-ahead would grow with the file)."""

    path: Path
    shape: tuple[int, int]
    dtype: np.dtype
    offset: int

    @classmethod
    def open(cls, path: str | Path) -> _Npy:
        try:
            with open(path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"unsupported .npy version {version}")
                shape, fortran, dtype = read_header(fh)
                offset = fh.tell()
        except (OSError, ValueError) as exc:
            raise InputError(f"not a .npy array: {exc}", path=str(path)) from exc
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise InputError(f"expected a C-order numeric (rows, dim) array, got shape {shape} of {dtype}", path=str(path))
        return cls(Path(path), shape, dtype, offset)

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The rows at ``index`` as float32."""
        size = self.shape[1] * self.dtype.itemsize
        out = np.empty((len(index), self.shape[1]), dtype=np.float32)
        with open(self.path, "rb") as fh:
            for k, i in enumerate(index.tolist()):
                out[k] = np.frombuffer(os.pread(fh.fileno(), size, self.offset + i * size), dtype=self.dtype)
        return out


def _map_sample(embeddings: str | Path | None, points: int, seed: int) -> tuple[_Npy | None, np.ndarray]:
    """The embeddings file (not read yet) and the sorted row indexes sampled for the map."""
    if embeddings is None:
        return None, np.zeros(0, dtype=np.int64)
    vectors = _Npy.open(embeddings)
    n = vectors.shape[0]
    return vectors, np.sort(np.random.default_rng(seed).choice(n, size=min(n, points), replace=False))


def _group_table(tally: GroupTally) -> list[dict[str, Any]]:
    n = max(tally.rows, 1)
    return [
        {"group": g, "rows": tally.counts[g], "share": tally.counts[g] / n, "scored": tally.scored[g],
         "below": tally.below[g] / tally.scored[g] if tally.scored[g] else None}
        for g in tally.groups()
    ]


def _groups_section(classified: Classified, balanced: GroupTally | None, ratio: str | None) -> dict[str, Any]:
    before = classified.tally
    series = {"classified": {g: before.counts[g] / max(before.rows, 1) for g in before.groups()}}
    groups = before.groups()
    if balanced is not None:
        series["balanced"] = {g: balanced.counts[g] / max(balanced.rows, 1) for g in balanced.groups()}
        groups = ordered_groups(set(groups) | set(balanced.groups()))
    if ratio is not None:
        weights = parse_group_numbers(ratio, "ratio")
        total = sum(weights.values())
        series["requested"] = {g: float(w / total) for g, w in weights.items()}
    rows = [{"group": g, **{name: values.get(g) for name, values in series.items()}} for g in groups]
    counts = {"classified": before.counts, "balanced": balanced.counts if balanced is not None else None}
    for r in rows:
        r["rows"] = {name: c[r["group"]] for name, c in counts.items() if c is not None}
    return {"chart": figures.to_svg(figures.group_bars(series, groups), "groups"), "series": list(series), "rows": rows}


def _confidence_section(tally: GroupTally) -> dict[str, Any]:
    hists = {g: tally.hist[g] for g in tally.groups() if g in tally.hist}
    chart = figures.histograms(hists, figures.GROUP_COLOURS, "risk_confidence", tally.threshold)
    return {"chart": figures.to_svg(chart, "confidence"), "threshold": tally.threshold, "rows": _group_table(tally), "below": tally.share_below()}


def _map_section(vectors: _Npy, classified: Classified, seed: int) -> dict[str, Any] | None:
    from sklearn.decomposition import PCA

    if vectors.shape[0] != classified.tally.rows:
        raise InputError(f"has {vectors.shape[0]} rows but the classified file has {classified.tally.rows}; pass the file `classify --keep-embeddings` wrote with it", path=str(vectors.path))
    if len(classified.map_index) < 3:
        return None
    sample = vectors.rows(classified.map_index)
    points = PCA(n_components=2, random_state=seed).fit_transform(sample)
    title = f"PCA of {len(sample)} of {vectors.shape[0]} prompt embeddings"
    return {"chart": figures.to_svg(figures.scatter_map(points, classified.map_groups, title), "map"), "points": len(sample), "rows": vectors.shape[0]}


def _fates_section(path: str | Path, progress: Progress | None) -> dict[str, Any]:
    fates = collect_manifest(path, progress).by_group()
    kinds = [k for k in FATES if any(c[k] for c in fates.values())] + sorted({k for c in fates.values() for k in c} - set(FATES))
    rows = [{"group": g, "counts": [c[k] for k in kinds], "total": sum(c.values())} for g, c in fates.items()]
    totals = [sum(c[k] for c in fates.values()) for k in kinds]
    return {"chart": figures.to_svg(figures.fate_bars(fates, kinds), "fates"), "kinds": kinds, "rows": rows, "totals": totals, "total": sum(totals)}


def _masks_section(path: str | Path, pairs: int, seed: int, progress: Progress | None) -> dict[str, Any]:
    masks = collect_masks(path, pairs=pairs, seed=seed, progress=progress)
    tally = masks.tally
    chart = figures.histograms(tally.hist, figures.SIDE_COLOURS, "kept-token share of a response")
    sides = [{"side": s, "tokens": tally.tokens[s], "kept": tally.kept_share(s)} for s in SIDES]
    rendered = [{"line": p["line"], "prompt": p["prompt"], "sides": {s: mask_pieces(p[s], p[f"{s}_segments"]) for s in SIDES}} for p in masks.pairs]
    return {"chart": figures.to_svg(chart, "masks"), "rows": tally.rows, "fallbacks": tally.fallbacks, "sides": sides, "pairs": rendered}


def build_report(
    classified: str | Path,
    output: str | Path,
    *,
    balanced: str | Path | None = None,
    manifest: str | Path | None = None,
    masks: str | Path | None = None,
    embeddings: str | Path | None = None,
    ratio: str | None = None,
    threshold: float = 0.5,
    examples: int = 5,
    pairs: int = 4,
    map_points: int = MAP_POINTS,
    prompt_field: str | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> ReportSummary:
    """Write ``output``: one HTML file with every chart inline, readable offline.

    Each input is read once, streaming; memory holds tallies, ``examples`` rows per group and
    side, ``pairs`` mask pairs and ``map_points`` sampled embeddings, whatever the input size.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ParameterError("threshold", "a confidence in [0, 1]", threshold)
    for name, value in (("examples", examples), ("pairs", pairs), ("map_points", map_points)):
        if value < 0:
            raise ParameterError(name, "a non-negative integer", value)
    if ratio is not None:
        parse_group_numbers(ratio, "ratio")
    _distinct(output, [classified, balanced, manifest, masks, embeddings])
    vectors, index = _map_sample(embeddings, map_points, seed)
    data = collect_classified(classified, threshold=threshold, examples=examples, map_index=index, prompt_field=prompt_field, progress=progress)
    summary = ReportSummary({"classified": data.tally.rows})
    mix = collect_groups(balanced, threshold, progress) if balanced is not None else None
    if mix is not None:
        summary.rows["balanced"] = mix.rows
    sections: dict[str, Any] = {
        "groups": _groups_section(data, mix, ratio),
        "confidence": _confidence_section(data.tally),
        "fates": _fates_section(manifest, progress) if manifest is not None else None,
        "map": _map_section(vectors, data, seed) if vectors is not None else None,
        "examples": [{"group": g, "highest": data.examples.highest(g), "lowest": data.examples.lowest(g)} for g in data.tally.groups()],
        "masks": _masks_section(masks, pairs, seed, progress) if masks is not None else None,
    }
    if sections["fates"] is not None:
        summary.rows["manifest"] = sections["fates"]["total"]
    if sections["masks"] is not None:
        summary.rows["masks"] = sections["masks"]["rows"]
    summary.sections = [name for name, value in sections.items() if value]
    inputs = {"classified": classified, "balanced": balanced, "manifest": manifest, "masks": masks, "embeddings": embeddings}
    page = render(
        inputs={k: str(v) for k, v in inputs.items() if v is not None}, rows=data.tally.rows, has_turns=data.has_turns,
        version=__version__, bins=BINS, **sections,
    )
    with atomic_output(output, "w") as fh:
        fh.write(page)
    return summary
