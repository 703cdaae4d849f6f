"""stats: exact quantiles from value counts, in one streaming pass."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from equidata.stats import QUANTILES, counted_quantiles, group_stats
from tests.helpers import write_jsonl


def test_counted_quantiles_equal_numpy_over_the_expanded_values() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 100, 2501):
        for values in (rng.uniform(size=n).round(2), rng.uniform(size=n).round(4), rng.normal(size=n)):
            assert np.array_equal(counted_quantiles(Counter(values.tolist())), np.quantile(values, QUANTILES))


def test_group_stats_counts_shares_and_quantiles(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.25, 1.0, size=300).round(4)
    groups = rng.choice(["explicit", "implicit", "none", "general"], size=300, p=[0.5, 0.2, 0.2, 0.1])
    rows = [{"prompt": f"p{i}", "risk_group": str(g), "risk_confidence": float(c)} for i, (g, c) in enumerate(zip(groups, conf))]
    rows.append({"prompt": "no confidence", "risk_group": "mixed"})
    report = group_stats(write_jsonl(tmp_path / "c.jsonl", rows))
    assert report["rows"] == 301 and list(report["groups"]) == ["explicit", "implicit", "mixed", "none", "general"]
    explicit = report["groups"]["explicit"]
    assert explicit["count"] == int((groups == "explicit").sum()) and explicit["share"] == round(explicit["count"] / 301, 4)
    assert list(explicit["confidence"].values()) == np.quantile(conf[groups == "explicit"], QUANTILES).round(4).tolist()
    assert report["groups"]["mixed"]["confidence"]["p50"] is None
