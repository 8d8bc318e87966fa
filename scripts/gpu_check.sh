#!/usr/bin/env bash
# Builds leadbench against the LibTorch of an installed PyTorch (CUDA), runs the tests (the CUDA ones
# included) and a short GPU training run, logging to ${1:-gpu-logs}. For machines where nothing can be
# installed: header-only dependencies come from LEADBENCH_EXTRA_INCLUDE (nlohmann/, boost/, catch2/, zlib.h).
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${1:-gpu-logs}
mkdir -p "$LOG"
TORCH_PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
EXTRA=${LEADBENCH_EXTRA_INCLUDE:-}
ZLIB_LIB=$(ls /usr/lib/x86_64-linux-gnu/libz.so /lib/x86_64-linux-gnu/libz.so.1 /usr/lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -1)
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda)'
  nproc
} > "$LOG/machine.txt" 2>&1
gen=""; command -v ninja >/dev/null && gen="-G Ninja"
t0=$(date +%s)
cmake -S . -B build-gpu $gen -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
  -DLEADBENCH_EXTRA_INCLUDE="$EXTRA" -DZLIB_LIBRARY="$ZLIB_LIB" -DLEADBENCH_BUILD_BENCHMARKS=OFF \
  > "$LOG/configure.log" 2>&1 || { tail -50 "$LOG/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" > "$LOG/build.log" 2>&1 || { grep -E "error|Error" "$LOG/build.log" | head -60; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
(cd build-gpu && ctest --output-on-failure -j 8 --timeout 300 > "../$LOG/ctest.log" 2>&1); rc=$?
tail -15 "$LOG/ctest.log"
for t in build-gpu/tests/test_core; do
  "$t" "cuda:*" -s > "$LOG/cuda_tests.log" 2>&1; echo "cuda tests rc=$?"; grep -E "diff|SKIPPED|passed|failed" "$LOG/cuda_tests.log" | head
done
exit $rc
