"""Raw ``SentenceTransformer.encode`` against end-to-end classify on the same prompts.

Run: ``python benchmarks/bench_classify.py [--rows 10000] [--device cpu] [--head DIR] [--batch-size N ...] [--dialogues FILE] [--json FILE]``

1. raw: ``SentenceTransformer.encode`` of the head's embedding model (normalised, fp16 on CUDA,
   equidata's default batch size unless ``--batch-size``) on the prompt texts already in memory;
2. end-to-end: the classify pipeline (read JSONL, extract prompts, embed, run the head, write
   JSONL) through :func:`equidata.engines.local.run_chunked`, model already loaded;
3. CLI: ``equidata classify`` as a subprocess, wall time including start-up and model load;
4. with ``--dialogues FILE`` (e.g. ``../shared/data/hh-harmless-dialogues.jsonl``): end-to-end classify
   of that file's multi-turn rows, ``--turns all`` (every user turn joined, plus each user turn alone
   for ``risk_turn``) and ``--turns last``, in rows per second.

Each timing is the best of ``--repeats`` rounds after a warm-up, raw and end-to-end taking turns. Goal: end-to-end / raw >= 0.90.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth import write_prompts  # noqa: E402

from equidata.classifier import ClassifyStep, RiskClassifier  # noqa: E402
from equidata.embedding import default_batch_size, resolve_device, resolve_model  # noqa: E402
from equidata.engines.local import DEFAULT_CHUNK_SIZE, run_chunked  # noqa: E402
from equidata.io import RecordSource  # noqa: E402


def best_of(fns: dict[str, Any], repeats: int) -> dict[str, float]:
    """The best time of each function over ``repeats`` rounds, the functions taking turns (fair under drifting load)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: min(ts) for name, ts in times.items()}


def bench(rows: int, device: str, batch_size: int | None, chunk_size: int, repeats: int, cli: bool, head: Path | None = None, dialogues: Path | None = None) -> dict[str, Any]:
    import torch
    from sentence_transformers import SentenceTransformer

    device = resolve_device(device)
    batch = batch_size or default_batch_size(device)
    work = Path(tempfile.mkdtemp(prefix="equidata-bench-"))
    src = write_prompts(work / "prompts.jsonl", rows)
    texts = [json.loads(line)["prompt"] for line in src.read_text(encoding="utf-8").splitlines()]

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    clf = RiskClassifier(head, device=device, batch_size=batch)
    model = clf.head.config.embedding_model
    raw_model = SentenceTransformer(resolve_model(model), device=device)
    raw_model.half() if device.startswith("cuda") else raw_model.float()  # the precision equidata's Embedder runs
    raw_model.encode(texts[: 2 * batch], batch_size=batch, normalize_embeddings=True)
    clf.predict_proba(texts[: 2 * batch])
    out = work / "classified.jsonl"
    timing = best_of({
        "raw": lambda: raw_model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True),
        "e2e": lambda: run_chunked(RecordSource.open(src), ClassifyStep(clf), out, chunk_size=chunk_size),
    }, repeats)
    raw, e2e = timing["raw"], timing["e2e"]
    result: dict[str, Any] = {
        "rows": rows, "head": str(clf.head_dir), "model": model, "device": device, "device_name": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
        "torch_threads": torch.get_num_threads(), "batch_size": batch, "chunk_size": chunk_size,
        "raw_encode_rows_per_s": round(rows / raw), "end_to_end_rows_per_s": round(rows / e2e), "ratio": round(raw / e2e, 3),
    }
    if dialogues:
        n = sum(1 for line in dialogues.read_text(encoding="utf-8").splitlines() if line.strip())
        turns = best_of({t: lambda t=t: run_chunked(RecordSource.open(dialogues), ClassifyStep(clf, turns=t), out, chunk_size=chunk_size) for t in ("all", "last")}, repeats)
        result.update({"dialogue_rows": n, **{f"dialogue_rows_per_s_turns_{t}": round(n / s) for t, s in turns.items()}})
    if cli:
        cmd = [sys.executable, "-m", "equidata", "classify", str(src), "-o", str(work / "cli.jsonl"), "--device", device,
               "--batch-size", str(batch), "--chunk-size", str(chunk_size), "--head", str(clf.head_dir), "-q"]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parents[1])
        result["cli_wall_rows_per_s_incl_startup"] = round(rows / (time.perf_counter() - t))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, nargs="*", default=[None])
    ap.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    ap.add_argument("--head", type=Path, help="head folder to time (default: the shipped head)")
    ap.add_argument("--dialogues", type=Path, help="also time classify on this file of multi-turn rows, --turns all and last")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI subprocess timing")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    results = []
    for bs in args.batch_size:
        r = bench(args.rows, args.device, bs, args.chunk_size, args.repeats, not args.no_cli, args.head, args.dialogues)
        print(json.dumps(r), flush=True)
        results.append(r)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
