#!/usr/bin/env bash
# One prepared GPU run for multi-turn classification (issue 14): the joint single-turn + dialogue CV sweep
# (benchmarks/dialogue_sweep.py) and the two candidate default heads, fitted as `make head` fits them.
#
#   bash benchmarks/gpu_dialogue.sh DATA_DIR
#
# DATA_DIR holds model/ (all-MiniLM-L6-v2; its weights may be float16 to fit the transfer),
# erlhf-beavertails-dev.json and hh-harmless-dialogues.jsonl. Env: OUT (results folder, default
# ./gpu-results), SWEEP_S (seconds the sweep may run, default 200), PYTHON (default python3).
# The heads come back as a tar split into 15 MB parts: cat heads.tar.part-* | tar -x.
set -uo pipefail
cd "$(dirname "$0")/.."
D="$(realpath "${1:?DATA_DIR}")"
export EQUIDATA_MINILM_PATH="$D/model" PYTHONUNBUFFERED=1
source benchmarks/gpu_env.sh
W=$(mktemp -d)
"$PY" data/labels/training_rows.py "$D/hh-harmless-dialogues.jsonl" data/labels/hh-dialogues-team.jsonl -o "$W/hh-train.jsonl"
# Candidates: the dialogue rows once (x1) or twice (x2) beside the single-turn labels.
OMP_NUM_THREADS=2 "$PY" -m equidata train "$D/erlhf-beavertails-dev.json" "$W/hh-train.jsonl" -o "$W/head-x1" --cv 0 --device cuda -q > "$OUT/train.log" 2>&1 &
OMP_NUM_THREADS=2 "$PY" -m equidata train "$D/erlhf-beavertails-dev.json" "$W/hh-train.jsonl" "$W/hh-train.jsonl" -o "$W/head-x2" --cv 0 --device cuda -q >> "$OUT/train.log" 2>&1 &
timeout "${SWEEP_S:-200}" "$PY" benchmarks/dialogue_sweep.py "$D/erlhf-beavertails-dev.json" "$D/hh-harmless-dialogues.jsonl" \
  --team data/labels/hh-dialogues-team.jsonl --device cuda --workers 8 --json "$OUT/dialogue_sweep.jsonl" \
  --jobs mix:0 mix-x2:0 mix-noteam:0 mix-team-only:0 mix-last:0 mix-context:0 mix:1 mix-x2:1 2>&1 | grep -v -i warn
wait
tar -C "$W" -cf - head-x1 head-x2 | split -b 15m - "$OUT/heads.tar.part-"
ls -la "$OUT"
