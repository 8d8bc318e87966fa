#!/usr/bin/env bash
# Training tokens/s of the shared trainer with 1 and 2 data-parallel ranks (Gloo on CPU), THREADS
# threads each (default 1), on the reference config (bench_data_parallel), and the scaling ratio.
# Repeats REPEATS times (default 3), alternating 1 and 2 ranks; prints each repeat and the medians.
# Usage: BUILD_DIR=build REPEATS=3 STEPS=30 bash benchmarks/data_parallel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
THREADS=${THREADS:-1}
STEPS=${STEPS:-30}
REPEATS=${REPEATS:-3}
BENCH="$BUILD_DIR/benchmarks/bench_data_parallel"
[ -x "$BENCH" ] || { echo "missing $BENCH: build it with cmake --build $BUILD_DIR --target bench_data_parallel" >&2; exit 1; }
export OMP_NUM_THREADS=$THREADS

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# One measurement with $1 ranks: rank 0's JSON line.
measure() {
  local n=$1 port pids=() out
  port=$(free_port)
  out=$(mktemp)
  for ((r = 0; r < n; r++)); do
    RANK=$r WORLD_SIZE=$n LOCAL_RANK=$r LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "$BENCH" --threads="$THREADS" --steps="$STEPS" >>"$out" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  cat "$out"
  rm -f "$out"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) cores, $THREADS thread(s) per rank, $STEPS steps of 16 x 128 tokens"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
results=$(mktemp)
for ((i = 1; i <= REPEATS; i++)); do
  for n in 1 2; do
    line=$(measure "$n")
    echo "repeat $i: $line"
    echo "$line" >>"$results"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
tps = {n: [r["tokens_per_second"] for r in rows if r["ranks"] == n] for n in (1, 2)}
m1, m2 = statistics.median(tps[1]), statistics.median(tps[2])
for n, m in ((1, m1), (2, m2)):
    print(f"{n} rank(s): {m:9.0f} tok/s median of {len(tps[n])} (min {min(tps[n]):.0f}, max {max(tps[n]):.0f})")
print(f"scaling 2 ranks / 1 rank: {m2 / m1:.2f}x (efficiency {m2 / m1 / 2 * 100:.0f} %)")
PYEOF
rm -f "$results"
