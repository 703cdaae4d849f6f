"""equidata on an accelerator against the CPU: the shipped head's scores, and fine-tuning there.

Run: ``python benchmarks/gpu_check.py LABELS [--device cuda] [--json FILE]``

1. The shipped head on the prompts of LABELS, fp16 on ``--device`` against float32 on the CPU: the
   share of prompts given the same group, and the largest score difference.
2. Fine-tuning with the shipped recipe (through :func:`recipe_fitter`, as ``train`` fits) on the
   first fold of the grouped 5-fold split, on ``--device``: seconds, and macro-F1 / accuracy on the
   held-out fold (``make head`` on 2 CPU cores gives that fold 0.496 / 0.582). The head is then
   saved and reloaded through :class:`RiskClassifier` on the device, which must give the same groups.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from equidata.classifier import RiskClassifier  # noqa: E402
from equidata.classifier.data import load_labelled  # noqa: E402
from equidata.classifier.settings import FinetuneParams  # noqa: E402
from equidata.classifier.head import save_head  # noqa: E402
from equidata.classifier.metrics import macro_f1  # noqa: E402
from equidata.classifier.api import recipe_fitter  # noqa: E402
from equidata.classifier.train import grouped_folds  # noqa: E402
from equidata.embedding import DEFAULT_MODEL  # noqa: E402


def check(labels: str, device: str) -> dict[str, object]:
    """Run both checks; returns what they measured."""
    import torch

    data = load_labelled(labels)
    texts, y = data.texts, data.y
    out: dict[str, object] = {"device": device, "device_name": torch.cuda.get_device_name(0) if device.startswith("cuda") else device}
    on_device = RiskClassifier(device=device).predict_proba(texts)
    on_cpu = RiskClassifier(device="cpu").predict_proba(texts)
    out["shipped_head_same_group"] = round(float(np.mean(on_device.argmax(1) == on_cpu.argmax(1))), 4)
    out["shipped_head_max_score_diff"] = float(np.abs(on_device - on_cpu).max())

    tr, te = grouped_folds(y, texts)[0]
    start = time.perf_counter()
    head, encoder, predict = recipe_fitter(FinetuneParams(), texts, y, model=DEFAULT_MODEL, device=device, batch_size=None)(tr)
    out["finetune_fold1_seconds"] = round(time.perf_counter() - start, 1)
    pred = predict(te).argmax(1)
    out["finetune_fold1_macro_f1"] = round(macro_f1(y[te], pred), 4)
    out["finetune_fold1_accuracy"] = round(float(np.mean(pred == y[te])), 4)
    with tempfile.TemporaryDirectory() as tmp:
        save_head(head, tmp, encoder)
        reloaded = RiskClassifier(tmp, device=device).predict_proba([texts[i] for i in te]).argmax(1)
    out["reloaded_head_same_group"] = round(float(np.mean(reloaded == pred)), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", help="labelled prompts, e.g. ../shared/data/erlhf-beavertails-dev.json")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    result = check(a.labels, a.device)
    print(json.dumps(result), flush=True)
    if a.json:
        a.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
