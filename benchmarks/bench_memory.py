"""Peak RSS of a whole-file command (``classify``, ``evaluate``, ``stats``, ``check``, ``report``) on a small and a large input of the same kind.

Run: ``python benchmarks/bench_memory.py [--command classify] [--rows 20000 80000] [--encoder minilm] [--device cpu] [--json FILE]``

    python benchmarks/bench_memory.py --command stats --rows 100000 1000000
    python benchmarks/bench_memory.py --command evaluate --encoder tiny --rows 100000 1000000

Inputs: prompts for ``classify``; prompts labelled with the paper's categories for ``evaluate``;
classified rows (synthetic groups and four-decimal confidences, no model needed) for ``stats``;
for ``check``, its most demanding mode: a classified input, a ``balance`` manifest of it (every
other row selected), the selected rows, and annotate-masks rows, checked all at once (ratio,
confidence, manifest accounting, kept-token shares); for ``report``, classified rows with 384-d
embeddings (``bench_report.py``'s input).

``--encoder tiny`` runs ``classify`` and ``evaluate`` with a random one-layer, 32-wide encoder and a
head over it (``tiny_encoder.py``), one torch thread: the whole pipeline at a fraction of MiniLM's
cost, so 1M rows take minutes on a CPU. It measures the streaming, not the model.

Each run is a fresh ``python -m equidata COMMAND`` subprocess; its peak resident set is the
kernel's ``ru_maxrss`` for that child alone (see ``peak.py``). Goal: the largest run stays within
1.2x the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report import write_classified  # noqa: E402
from peak import measure, rss_summary  # noqa: E402
from synth import prompts, write_prompts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("classify", "evaluate", "stats", "check", "report")
MODEL_COMMANDS = ("classify", "evaluate")
GROUPS = ("explicit", "implicit", "mixed", "none")
LABELS = ("EHD", "IHD", "MHD", "No risk")
MASK_TOKENS = 24  # response tokens per side of a synthetic annotate-masks row


def write_rows(path: Path, rows: int, make: Any) -> Path:
    """``rows`` synthetic prompts, each row extended by ``make(rng)``."""
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(prompts(rows)):
            fh.write(json.dumps({"id": f"p{i:07d}", "prompt": text, **make(rng)}) + "\n")
    return path


def classified(rng: random.Random) -> dict[str, Any]:
    conf = round(rng.uniform(0.25, 1.0), 4)
    group = rng.choice(GROUPS)
    return {"risk_group": group, "risk_scores": {g: conf if g == group else round((1 - conf) / 3, 4) for g in GROUPS}, "risk_confidence": conf}


def write_check_files(work: Path, rows: int) -> dict[str, Path]:
    """A classified input, balance's manifest of it (even rows selected), the selected rows, and masks of every row.

    Groups are drawn uniformly and a third of the confidences lie below 0.5, so :data:`CHECK_ARGS` pass (from a few hundred rows).
    """
    rng = random.Random(0)
    paths = {name: work / f"check-{name}-{rows}.jsonl" for name in ("input", "manifest", "mix", "masks")}
    with ExitStack() as stack:
        out = {name: stack.enter_context(path.open("w", encoding="utf-8")) for name, path in paths.items()}
        for i, text in enumerate(prompts(rows)):
            row = {"id": f"p{i:07d}", "prompt": text, **classified(rng)}
            line = json.dumps(row) + "\n"
            out["input"].write(line)
            fate = "over_quota" if i % 2 else "selected"
            out["manifest"].write(json.dumps({"source": "input", "line": i + 1, "id": row["id"], "risk_group": row["risk_group"], "fate": fate}) + "\n")
            if fate == "selected":
                out["mix"].write(line)
            weights = {f"{side}_token_weights": [float(rng.random() < 0.8) for _ in range(MASK_TOKENS)] for side in ("chosen", "rejected")}
            out["masks"].write(json.dumps({"id": row["id"], "prompt": text, **weights, "ama_fallback": False}) + "\n")
    return paths


CHECK_ARGS = ["--ratio", "explicit=1,implicit=1,mixed=1,none=1", "--tolerance", "0.2", "--max-share-below-confidence", "0.5:0.5"]


def command(name: str, rows: int, model: list[str], work: Path) -> list[str]:
    """The CLI arguments of one run, after writing its input; ``model``: the device and head arguments."""
    if name == "classify":
        return ["classify", str(write_prompts(work / f"prompts-{rows}.jsonl", rows)), "-o", str(work / f"out-{rows}.jsonl"), *model, "-q"]
    if name == "evaluate":
        labelled = write_rows(work / f"labelled-{rows}.jsonl", rows, lambda rng: {"category": rng.choice(LABELS)})
        return ["evaluate", str(labelled), *model, "--json"]
    if name == "stats":
        return ["stats", str(write_rows(work / f"classified-{rows}.jsonl", rows, classified)), "--json"]
    if name == "report":
        path, npy = write_classified(work, rows)
        return ["report", str(path), "--embeddings", str(npy), "-o", str(work / f"report-{rows}.html"), "-q"]
    f = write_check_files(work, rows)
    return ["check", str(f["mix"]), *CHECK_ARGS, "--manifest", str(f["manifest"]), "--input", str(f["input"]), "--masks", str(f["masks"]), "--json", "-q"]


def peak_rss(name: str, rows: int, model: list[str], work: Path, env: dict[str, str]) -> dict[str, Any]:
    """Write the input of ``rows`` rows, run the command on it, delete the input; its figures."""
    run = work / str(rows)
    run.mkdir()
    cmd = [sys.executable, "-m", "equidata", *command(name, rows, model, run)]
    seconds, rss = measure(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    for path in run.iterdir():
        path.unlink()
    return {"command": name, "rows": rows, "peak_rss_mib": round(rss, 1), "seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--command", choices=COMMANDS, default="classify")
    ap.add_argument("--rows", type=int, nargs="+", default=[20_000, 80_000])
    ap.add_argument("--encoder", choices=["minilm", "tiny"], default="minilm", help="classify/evaluate: the shipped head, or a tiny random encoder")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory(prefix="equidata-mem-") as tmp:
        model = ["--device", args.device]
        if args.encoder == "tiny":
            from tiny_encoder import build_tiny_head

            model += ["--head", str(build_tiny_head(Path(tmp) / "tiny"))]
            env.setdefault("OMP_NUM_THREADS", "1")  # a 32-wide model gains nothing from threads that fight over shared cores
        runs = []
        for n in args.rows:
            runs.append(peak_rss(args.command, n, model, Path(tmp), env))
            if args.command in MODEL_COMMANDS:
                runs[-1]["encoder"] = args.encoder
            print(json.dumps(runs[-1]), flush=True)
    rss_summary(runs, args.json)


if __name__ == "__main__":
    main()
