#!/usr/bin/env bash
# Training throughput of the C++ trainer (bench_train) beside the same step in PyTorch's Python API
# (train_reference.py), in one invocation on one machine, with the same thread count.
# Usage: BUILD_DIR=build THREADS=2 bash benchmarks/compare_train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
THREADS=${THREADS:-2}
PY=${PYTHON:-/usr/bin/python3}  # Debian's interpreter, which has python3-torch
BENCH="$BUILD_DIR/benchmarks/bench_train"
[ -x "$BENCH" ] || { echo "missing $BENCH: build it with cmake --build $BUILD_DIR --target bench_train" >&2; exit 1; }
export OMP_NUM_THREADS=$THREADS

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) cores, threads $THREADS"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== python ($PY, torch $($PY -c 'import torch; print(torch.__version__)'))"
py_json=$($PY benchmarks/train_reference.py --threads "$THREADS" --warmup 3 --steps ${STEPS:-10} --repeats 3 | tee /dev/stderr | tail -1)
echo "== c++ ($BENCH)"
cpp_json=$("$BENCH" --threads="$THREADS" --benchmark_filter='BM_train_step/0|BM_model_step' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_min_time=${MIN_TIME:-2} \
  --benchmark_format=json | tee /tmp/leadbench_bench_train.json)
"$BENCH" --threads="$THREADS" --benchmark_filter='BM_train_step/[12]|BM_inference' --benchmark_min_time=${MIN_TIME:-2} >&2
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$py_json" <<'PYEOF'
import json, sys
py = json.loads(sys.argv[1])
cpp = json.load(open("/tmp/leadbench_bench_train.json"))
med = {b["run_name"].split("/process_time")[0].split("/real_time")[0]: b
       for b in cpp["benchmarks"] if b.get("aggregate_name") == "median"}
trainer = med["BM_train_step/0"]
bare = med["BM_model_step"]
p, pc = py["tokens_per_second_median"], py["cpu_ms_per_step_median"]
print(f"python reference   {p:9.0f} tok/s  {pc:7.1f} cpu-ms/step  (median of 3 repeats, {py['params']} params)")
for name, b in (("c++ trainer     ", trainer), ("c++ bare model  ", bare)):
    print(f"{name}   {b['tok/s']:9.0f} tok/s  {b['cpu_time']:7.1f} cpu-ms/step  "
          f"ratio c++/python: tok/s {b['tok/s'] / p:5.2f}, cpu time {pc / b['cpu_time']:5.2f}")
PYEOF
