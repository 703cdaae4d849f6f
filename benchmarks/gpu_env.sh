# Sourced by benchmarks/gpu*.sh from the repository root: the root on PYTHONPATH, the Hub offline,
# $PY (PYTHON, default python3), $OUT (default ./gpu-results, created) and the machine written to
# $OUT/env.txt (the card, library versions, cores). EQUIDATA_MINILM_PATH is the caller's.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY="${PYTHON:-python3}"
OUT="${OUT:-$PWD/gpu-results}"
mkdir -p "$OUT"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
  "$PY" -c "import torch, sentence_transformers as st, transformers as tf; print('torch', torch.__version__, 'st', st.__version__, 'transformers', tf.__version__, 'cpus', __import__('os').cpu_count())"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
