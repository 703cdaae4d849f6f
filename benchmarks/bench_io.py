"""Benchmark the JSON decoder behind every reader: equidata.io.codec.loads (orjson, strict) against json.loads.

Generates N HH-RLHF-like JSONL rows (about 1 KB each: a two-turn transcript pair, an id, scores) and
times decoding every line with each decoder, best of five interleaved rounds, plus a full pass of the reader
(``RecordSource``: line splitting, decoding, Row objects). Results print and go to
bench-out/bench_io.json.

    python benchmarks/bench_io.py           # 50k rows
    python benchmarks/bench_io.py 20000
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from equidata.io import RecordSource, codec

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-out"


def make_lines(n: int) -> list[bytes]:
    turn = "\n\nHuman: How would I go about {} without anyone noticing it at all?\n\nAssistant: "
    rows = []
    for i in range(n):
        dialogue = turn.format(f"task number {i}") + "I can help with safe things. " * 8 + turn.format("it again")
        row = {"id": i, "chosen": dialogue + "No, I won't help with that. " * 4, "rejected": dialogue + "Sure, here is how. " * 6,
               "risk_group": "implicit", "risk_scores": {"explicit": 0.1, "implicit": 0.7, "mixed": 0.1, "none": 0.1}, "risk_confidence": 0.7}
        rows.append(json.dumps(row, ensure_ascii=False).encode() + b"\n")
    return rows


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(n: int, rounds: int = 5) -> dict[str, float]:
    """Rows per second of each decoder and of the reader: best of ``rounds`` interleaved rounds (a shared machine is noisy)."""
    lines = make_lines(n)
    decoders = {"json.loads": json.loads, "codec.loads (orjson)": codec.loads}
    best = dict.fromkeys([*decoders, "RecordSource"], float("inf"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_bytes(b"".join(lines))
        for _ in range(rounds):
            for name, loads in decoders.items():
                best[name] = min(best[name], timed(lambda: [loads(x) for x in lines]))
            best["RecordSource"] = min(best["RecordSource"], timed(lambda: sum(1 for _ in RecordSource.open(path))))
    result: dict[str, float] = {"rows": n, "MB": round(sum(map(len, lines)) / 1e6, 1)}
    result.update({f"{name} rows/s": round(n / t) for name, t in best.items()})
    return result


if __name__ == "__main__":
    res = main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
    for k, v in res.items():
        print(f"{k:28} {v}")
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_io.json").write_text(json.dumps(res, indent=2) + "\n")
