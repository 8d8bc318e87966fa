#!/usr/bin/env bash
# Peak resident memory of loading a random bfloat16 Llama checkpoint (default ~1e9 parameters)
# against its float32 size. Needs the reference environment (scripts/setup_reference_env.sh) for
# the checkpoint and a built bench_hf_load.
#   benchmarks/hf_load_memory.sh [PARAMS] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PARAMS=${1:-1e9}
DIR=${2:-$(mktemp -d)/llama_random}
PY=${PYTHON:-.venv-ref/bin/python}
BENCH=${BENCH:-build/benchmarks/bench_hf_load}
start=$(date +%s)
"$PY" tests/fixtures/make_hf_checkpoints.py --big "$DIR" --big-params "$PARAMS"
echo "checkpoint written in $(( $(date +%s) - start )) s"
"$BENCH" "$DIR"
