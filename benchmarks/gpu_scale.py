"""Whole-process ``equidata classify`` on ROWS prompts (1M by default), then where the time goes.

Run by ``benchmarks/gpu_scale.sh`` on a GPU machine; on the CPU, ``--rows 2000 --device cpu`` tries it.

1. Writes ROWS synthetic prompts (``benchmarks/synth.py``) to a temporary folder.
2. Times ``python -m equidata classify`` as a child process (start-up, model load and all) with the
   given chunk and batch sizes: wall seconds, rows/s and the child's peak RSS.
3. Unless ``--no-stages`` or the CLI run used up half the time budget: ``import equidata.cli`` in a
   fresh process; in this process device start-up, model load and first batch; then each stage
   alone on the first ``--stage-rows`` of the same prompts (JSON decode, prompt extraction,
   tokenize, encode = tokenize + model, head, risk fields, JSON encode and write);
   ``stage_seconds_per_million`` scales them to 1M rows.

Writes ``gpu_scale.json`` (card, command, rows/s, stage seconds) to ``--out`` (default: $OUT),
after the CLI run and again after the stages.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peak import measure  # noqa: E402
from profile_classify import stages, timed  # noqa: E402
from synth import write_prompts  # noqa: E402


def card(device: str) -> dict[str, Any]:
    import sentence_transformers
    import torch
    import transformers

    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else platform.processor() or "cpu"
    return {"device": device, "name": name, "cpus": os.cpu_count(), "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__}


def whole_process(src: Path, dst: Path, device: str, batch: int, chunk: int) -> dict[str, Any]:
    """One ``equidata classify`` child process: command, wall seconds, rows/s, peak RSS."""
    cmd = [sys.executable, "-m", "equidata", "classify", str(src), "-o", str(dst), "--device", device,
           "--batch-size", str(batch), "--chunk-size", str(chunk), "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    wall, rss = measure(cmd, env=env, cwd=ROOT)
    with dst.open("rb") as fh:
        rows = sum(1 for _ in fh)
    shown = ["equidata", *cmd[3:]]
    return {"command": " ".join(shown), "rows_out": rows, "wall_s": round(wall, 2), "rows_per_s": round(rows / wall), "peak_rss_mib": round(rss)}


def stage_times(src: Path, work: Path, device: str, batch: int) -> dict[str, Any]:
    """Import time (fresh process), model load with the first batch, and each stage alone."""
    code = "import time; t = time.perf_counter(); import equidata.cli; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    imports = float(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout)
    from equidata.classifier import RiskClassifier

    import torch

    texts = [json.loads(line)["prompt"] for line in src.read_text(encoding="utf-8").splitlines()]
    init, _ = timed(lambda: torch.zeros(1, device=device).sum().item())  # CUDA context
    clf = RiskClassifier(device=device, batch_size=batch)
    load, _ = timed(lambda: clf.embedder.model)  # weights, encoder overlay, fp16
    first, _ = timed(lambda: clf.predict_proba(texts[:batch]))
    encode, _ = timed(lambda: clf.embedder.encode(texts))
    return {"import_equidata_cli": round(imports, 2), "device_init": round(init, 2), "model_load": round(load, 2), "first_batch": round(first, 2),
            "encode_tokenize_and_model": round(encode, 2), "encode_rows_per_s": round(len(texts) / encode), **stages(src, clf, work)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", 1_000_000)))
    ap.add_argument("--device", default=os.environ.get("DEVICE", "cuda"))
    ap.add_argument("--batch-size", type=int, default=int(os.environ.get("BATCH", 1024)))
    ap.add_argument("--chunk-size", type=int, default=int(os.environ.get("CHUNK", 32768)))
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-results")))
    ap.add_argument("--no-stages", action="store_true", help="only the whole-process run")
    ap.add_argument("--stage-rows", type=int, default=250_000, help="rows the stages are timed on")
    ap.add_argument("--budget-s", type=float, default=200.0, help="skip the stage timings when the CLI run leaves less than half of this")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result: dict[str, Any] = {"rows": args.rows, "card": card(args.device), "batch_size": args.batch_size, "chunk_size": args.chunk_size}
    with tempfile.TemporaryDirectory(prefix="equidata-gpu-scale-") as tmp:
        work = Path(tmp)
        seconds, src = timed(lambda: write_prompts(work / "prompts.jsonl", args.rows))
        result["prompt_generation_s"] = round(seconds, 2)
        result["whole_process"] = whole_process(src, work / "classified.jsonl", args.device, args.batch_size, args.chunk_size)
        (work / "classified.jsonl").unlink()
        save(result, args.out, t0)
        if not args.no_stages and time.perf_counter() - t0 < args.budget_s / 2:
            rows = min(args.rows, args.stage_rows)
            part = write_prompts(work / "stage-prompts.jsonl", rows)  # the first rows of the same prompts
            result["stage_rows"] = rows
            result["stage_seconds"] = stage_times(part, work, args.device, args.batch_size)
            result["stage_seconds_per_million"] = {k: round(v * 1e6 / rows, 1) for k, v in result["stage_seconds"].items()
                                                   if k not in ("import_equidata_cli", "device_init", "model_load", "first_batch", "encode_rows_per_s")}
            save(result, args.out, t0)
    print(json.dumps(result, indent=2))


def save(result: dict[str, Any], out: Path, t0: float) -> None:
    result["total_s"] = round(time.perf_counter() - t0, 1)
    (out / "gpu_scale.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
