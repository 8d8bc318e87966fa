#!/usr/bin/env bash
# Tokenizer speed: leadbench's HfTokenizer (bench_tokenizer) beside Hugging Face `tokenizers` (Rust,
# from .venv-ref) on the same texts (GSM8K, HumanEval, MMLU, TyDiQA, Code Alpaca from ../shared/data),
# single thread, one invocation, one machine, for Llama 3.1, Qwen3 and Mistral v0.1. Both check that
# they produced the same ids (a hash of every id of every text).
# Usage: BUILD_DIR=build PASSES=3 bash benchmarks/compare_tokenizer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PASSES=${PASSES:-3}
DATA=${DATA:-../shared/data}
PY=${PYTHON:-.venv-ref/bin/python}
BENCH="$BUILD_DIR/benchmarks/bench_tokenizer"
[ -x "$BENCH" ] || { echo "missing $BENCH: cmake --build $BUILD_DIR --target bench_tokenizer" >&2; exit 1; }
[ -x "$PY" ] || { echo "missing $PY: bash scripts/setup_reference_env.sh" >&2; exit 1; }
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1
TEXTS="$BUILD_DIR/tokenizer_bench_texts.jsonl"
"$PY" benchmarks/tokenizer_reference.py texts "$TEXTS" "$DATA"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for tok in llama3_1 qwen3 mistral_v0_1; do
  hf=$("$PY" benchmarks/tokenizer_reference.py bench "$DATA/tokenizers/$tok" "$TEXTS" "$PASSES")
  lb=$("$BENCH" "$DATA/tokenizers/$tok" "$TEXTS" "$PASSES")
  results+=("$tok $hf $lb")
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${results[@]}" > "$BUILD_DIR/tokenizer_bench_results.txt"
"$PY" benchmarks/tokenizer_reference.py report < "$BUILD_DIR/tokenizer_bench_results.txt"
