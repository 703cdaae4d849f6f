"""The CPU side of ``classify`` with the model stubbed out: what would the GPU wait for?

Run: ``python benchmarks/profile_classify.py [--rows 200000] [--chunk-size 32768] [--json FILE]``

Times each stage alone on the same synthetic prompts (JSON decode, prompt extraction, tokenizing
with the real tokenizer, the head, the risk fields, JSON encode and write), then the whole
pipelined path (:func:`equidata.classifier.classify_file`) with the transformer forward pass
replaced by a stub that only tokenizes and returns fixed unit vectors. The pipelined figure is
the ceiling on whole-process rows/s whatever the accelerator; adding the model's own time
(``--model-seconds-per-million``, the H200's 26.7 s by default) estimates the non-model share.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth import write_prompts  # noqa: E402

from equidata.classifier import RiskClassifier, classify_file  # noqa: E402
from equidata.classifier.predict import chunk_risk_fields  # noqa: E402
from equidata.embedding import Embedder  # noqa: E402
from equidata.io import RecordSource, Row, dumps_line  # noqa: E402
from equidata.schemas import detect_schema  # noqa: E402


def stub_encode(self: Embedder, texts: list[str]) -> np.ndarray:
    """Tokenize as the real encode does (length-sorted batches, one ahead) but skip the forward pass."""
    for _ in self._batches(texts):
        pass
    out = np.zeros((len(texts), self.dim), dtype=np.float32)
    out[:, 0] = 1.0
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def stages(src: Path, classifier: RiskClassifier, work: Path) -> dict[str, float]:
    """Seconds of each CPU stage run alone over the whole file."""
    out: dict[str, float] = {}
    out["json_decode"], records = timed(lambda: [r for r in RecordSource.open(src) if isinstance(r, Row)])
    schema = detect_schema(records[0].data)
    out["prompt_extraction"], texts = timed(lambda: [schema.prompt(r.data).text for r in records])
    emb = classifier.embedder
    out["tokenize"], _ = timed(lambda: [None for _ in emb._batches(texts)])
    x = np.random.default_rng(0).normal(size=(len(texts), emb.dim)).astype(np.float32)
    out["head"], probs = timed(lambda: classifier.head.predict_proba(x))
    out["risk_fields"], rows = timed(lambda: [{**r.data, **f} for r, f in zip(records, chunk_risk_fields(probs, [0] * len(records)))])

    def write() -> None:
        with open(work / "stage-out.jsonl", "wb") as fh:
            fh.write(b"".join(dumps_line(r) for r in rows))

    out["json_encode_write"], _ = timed(write)
    return {k: round(v, 3) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--chunk-size", type=int, default=32768)
    ap.add_argument("--model-seconds-per-million", type=float, default=26.7, help="the model's own time for 1M prompts (H200, fp16, batch 1024)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    classifier = RiskClassifier(device="cpu")
    classifier.embedder.dim  # load the tokenizer and weights outside the timings
    Embedder.encode = stub_encode  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="equidata-prof-") as tmp:
        work = Path(tmp)
        src = write_prompts(work / "prompts.jsonl", args.rows)
        alone = stages(src, classifier, work)
        import equidata.classifier.api as api

        api.RiskClassifier = lambda *a, **k: classifier  # type: ignore[assignment,misc]  # reuse the loaded one
        pipelined, _ = timed(lambda: classify_file(src, work / "out.jsonl", chunk_size=args.chunk_size))
    cpu_per_million = pipelined / args.rows * 1e6
    model = args.model_seconds_per_million
    result = {
        "rows": args.rows,
        "stages_seconds": alone,
        "stages_sum_seconds": round(sum(alone.values()), 2),
        "json_share_of_stages": round((alone["json_decode"] + alone["json_encode_write"]) / sum(alone.values()), 3),
        "pipelined_stub_seconds": round(pipelined, 2),
        "pipelined_stub_rows_per_s": round(args.rows / pipelined),
        "non_model_share_if_serial": round(cpu_per_million / (cpu_per_million + model), 3),
        "non_model_share_if_fully_overlapped": round(max(0.0, cpu_per_million - model) / max(cpu_per_million, model), 3),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
