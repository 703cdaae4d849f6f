"""The report's charts: matplotlib figures rendered to SVG text for inlining.

SVG output is deterministic: no date in the metadata, and element ids hashed with a per-figure
salt so that several inline charts never share an id.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

GROUP_COLOURS = {"explicit": "#d62728", "implicit": "#ff7f0e", "mixed": "#9467bd", "none": "#2ca02c", "general": "#7f7f7f"}
FATE_COLOURS = {"selected": "#2ca02c", "duplicate": "#8c564b", "over_quota": "#bcbd22", "low_confidence": "#17becf", "rejected": "#d62728"}
SIDE_COLOURS = {"chosen": "#1f77b4", "rejected": "#d62728"}
_OTHER = "#555555"


def colour(group: str) -> str:
    return GROUP_COLOURS.get(group, _OTHER)


def _figure(width: float = 6.4, height: float = 3.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def to_svg(fig: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), ids salted with ``name``."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"equidata-{name}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def group_bars(series: Mapping[str, Mapping[str, float]], groups: Sequence[str], ylabel: str = "share of rows") -> Figure:
    """Grouped bars: one cluster per group, one bar per series (e.g. classified, balanced, requested)."""
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(groups))
    width = 0.8 / max(len(series), 1)
    styles = [{"alpha": 1.0}, {"alpha": 0.5}, {"fill": False, "linewidth": 1.5}]  # classified, balanced, requested
    for k, (label, values) in enumerate(series.items()):
        heights = [values.get(g, 0.0) for g in groups]
        colours = [colour(g) for g in groups]
        style = styles[k % len(styles)]
        paint = {"edgecolor": colours} if style.get("fill") is False else {"color": colours}
        bars = ax.bar(x + (k - (len(series) - 1) / 2) * width, heights, width, label=label, **paint, **style)
        ax.bar_label(bars, labels=[f"{h:.0%}" for h in heights], fontsize=7, padding=1)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8)
    return fig


def histograms(hists: Mapping[str, Sequence[int]], colours: Mapping[str, str], xlabel: str, threshold: float | None = None) -> Figure:
    """Step histograms over [0, 1], each normalised to its own total, one line per key."""
    fig = _figure()
    ax = fig.add_subplot()
    for name, counts in hists.items():
        counts = np.asarray(counts, dtype=np.float64)
        if counts.sum() == 0:
            continue
        edges = np.linspace(0.0, 1.0, len(counts) + 1)
        ax.stairs(counts / counts.sum(), edges, label=f"{name} ({int(counts.sum())})", color=colours.get(name, _OTHER), linewidth=1.8)
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1)
        ax.annotate(f"threshold {threshold:g}", (threshold, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10), textcoords="offset points", fontsize=8)
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of rows")
    ax.spines[["top", "right"]].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)
    return fig


def fate_bars(fates: Mapping[str, Mapping[str, int]], kinds: Sequence[str]) -> Figure:
    """Horizontal stacked bars: one per group, split by fate."""
    groups = list(fates)
    fig = _figure(height=0.5 + 0.45 * max(len(groups), 1))
    ax = fig.add_subplot()
    left = np.zeros(len(groups))
    for kind in kinds:
        widths = np.array([fates[g].get(kind, 0) for g in groups], dtype=np.float64)
        if widths.sum() == 0:
            continue
        ax.barh(groups, widths, left=left, label=kind.replace("_", " "), color=FATE_COLOURS.get(kind, _OTHER))
        left += widths
    ax.invert_yaxis()
    ax.set_xlabel("input rows")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, ncols=len(kinds), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig


def scatter_map(points: np.ndarray, groups: Sequence[str], title: str) -> Figure:
    """A 2-D map of points coloured by group."""
    fig = _figure(5.6, 4.4)
    ax = fig.add_subplot()
    labels = np.asarray(groups)
    size = 24 if len(points) < 500 else 6
    for group in sorted(set(groups), key=lambda g: (list(GROUP_COLOURS).index(g) if g in GROUP_COLOURS else len(GROUP_COLOURS), g)):
        at = labels == group
        ax.scatter(points[at, 0], points[at, 1], s=size, alpha=0.7, color=colour(group), label=f"{group} ({int(at.sum())})", linewidths=0)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(frameon=False, fontsize=8, markerscale=2)
    return fig
