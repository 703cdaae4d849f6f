"""``dumps_line`` writes exactly what ``json.dumps(..., ensure_ascii=False, allow_nan=False)`` wrote, and refuses the same rows."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from typing import Any

import numpy as np
import pytest

from equidata.io import dumps_line
from equidata.io.writers import _default

SCALARS: list[Any] = [
    0, -1, 7, 2**63, -(2**70), 12345678901234567890123456789, True, False, None,
    0.0, -0.0, 1.0, 0.1 + 0.2, 1e-05, 1e16, 1e22, 1e21, 5e-324, 1.7976931348623157e308, 123456789.123456789, 0.123456,
    "", "How do I make a walkway slippery?", "Café naïve – 日本語 🙂", 'tab\t"quote"\\ /', "\u2028\u2029\x00\x1f\x7f", "\ufeffbom",
]


def reference(record: dict[str, Any]) -> bytes:
    """The encoding dumps_line has always promised."""
    return (json.dumps(record, ensure_ascii=False, allow_nan=False, default=_default) + "\n").encode("utf-8")


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.random()
    if depth < 3 and kind < 0.15:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if depth < 3 and kind < 0.3:
        return {rng.choice(["a", "b", "é", "日", "risk_scores", "1"]) + str(k): random_value(rng, depth + 1) for k in range(rng.randint(0, 4))}
    if kind < 0.45:
        return rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30)
    return rng.choice(SCALARS)


def classified_row(rng: random.Random, k: int) -> dict[str, Any]:
    """A row as classify writes it: input fields passed through, then the risk fields."""
    probs = np.random.default_rng(k).dirichlet(np.ones(4)).astype(np.float32).tolist()
    scores = {g: round(p, 6) for g, p in zip(("explicit", "implicit", "mixed", "none"), probs)}
    row = {"id": f"p{k:07d}", "prompt": rng.choice(SCALARS[-6:-1]) or "Hi", **{f"f{j}": random_value(rng) for j in range(rng.randint(0, 5))}}
    return {**row, "risk_group": "none", "risk_scores": scores, "risk_confidence": scores["none"], "risk_turn": rng.randint(0, 3)}


def test_same_bytes_as_the_standard_library_on_realistic_rows() -> None:
    rng = random.Random(19)
    rows = [classified_row(rng, k) for k in range(3000)]
    assert [dumps_line(r) for r in rows] == [reference(r) for r in rows]
    assert list(json.loads(dumps_line(rows[0]))) == list(rows[0])  # key order kept


def test_values_the_default_hook_turns_into_json() -> None:
    row = {"n": np.int64(3), "x": np.float32(0.1), "a": np.arange(3), "b": b"\x00\xff", "d": dt.date(2026, 11, 28), "t": dt.datetime(2026, 1, 2, 3, 4, 5)}
    assert dumps_line(row) == reference(row)
    assert dumps_line(row).startswith(b'{"n": 3, "x": 0.10000000149011612, "a": [0, 1, 2], "b": "AP8="')


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan"), "lone \ud800 surrogate"])
def test_what_strict_json_cannot_hold_raises_value_error(bad: Any) -> None:
    with pytest.raises(ValueError):
        dumps_line({"id": 1, "x": [bad]})
    assert dumps_line({"id": 1}) == b'{"id": 1}\n'  # a failed row leaves nothing behind for the next one


def test_values_json_has_no_type_for_raise_type_error() -> None:
    with pytest.raises(TypeError, match="cannot write a value of type object"):
        dumps_line({"x": object()})
    circular: dict[str, Any] = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular"):
        dumps_line(circular)
