"""Benchmark `equidata label` against the scripted local chat-completions server with 200 ms latency per answer.

Reports rows/s at concurrency 1, 8 and 64 (a fresh cache each), then the time of a second run of the
concurrency-64 input with the cache warm (no request sent). Rows are prompts from examples/prompts.jsonl
made unique with a counter. Run: ``PYTHONPATH=. python benchmarks/bench_judge.py [--latency 0.2]``.
Prints the results and writes them to ``bench-out/judge.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from equidata.io import write_jsonl
from equidata.judge.client import JudgeConfig
from equidata.judge.label import label_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from judge_server import JudgeServer  # noqa: E402

#: (concurrency, rows): enough rows for a few seconds at each setting.
RUNS = ((1, 25), (8, 200), (64, 1280))


def prompts(n: int) -> list[dict[str, str]]:
    base = [json.loads(line)["prompt"] for line in (ROOT / "examples" / "prompts.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"prompt": f"{base[i % len(base)]} (#{i})"} for i in range(n)]


def timed_label(src: Path, out: Path, config: JudgeConfig) -> tuple[float, int]:
    t = time.perf_counter()
    result = label_file(src, out, config=config)
    return time.perf_counter() - t, result.stats.http_requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    results: dict[str, object] = {"latency_s": args.latency, "python": platform.python_version(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp, JudgeServer(latency=args.latency) as server:
        d = Path(tmp)
        for concurrency, n in RUNS:
            src = d / f"in{concurrency}.jsonl"
            write_jsonl(src, prompts(n))
            config = JudgeConfig(endpoint=server.url, model="scripted", concurrency=concurrency, cache=d / f"cache{concurrency}.sqlite")
            seconds, sent = timed_label(src, d / f"out{concurrency}.jsonl", config)
            results["runs"].append({"concurrency": concurrency, "rows": n, "seconds": round(seconds, 2), "rows_per_s": round(n / seconds, 1), "requests": sent})  # type: ignore[attr-defined]
        warm, sent = timed_label(src, d / "warm.jsonl", config)
        results["warm_cache"] = {"rows": n, "seconds": round(warm, 2), "rows_per_s": round(n / warm, 1), "requests": sent}
    print(json.dumps(results, indent=2))
    out_dir = ROOT / "bench-out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "judge.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
