#!/usr/bin/env bash
# Speed and rounding of OpenBLAS's kernel choice, side by side in one invocation: runs
# bench_blas_core under each OPENBLAS_CORETYPE in CORES (alternating, ROUNDS times), then prints the
# largest difference of every per-sample scoring loss and training loss from the first core's.
# usage: BUILD_DIR=build THREADS=1 CORES="Prescott SkylakeX" ROUNDS=2 REPEATS=3 STEPS=20 bash benchmarks/compare_blas_core.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build}
THREADS=${THREADS:-1}
CORES=${CORES:-"Prescott SkylakeX"}
ROUNDS=${ROUNDS:-2}
REPEATS=${REPEATS:-3}
STEPS=${STEPS:-20}
bin="$BUILD_DIR/benchmarks/bench_blas_core"
[ -x "$bin" ] || { echo "compare_blas_core: $bin not built (cmake --build $BUILD_DIR --target bench_blas_core)" >&2; exit 1; }
out=$(mktemp -d)
for r in $(seq 1 "$ROUNDS"); do
  for c in $CORES; do
    echo "== round $r, OPENBLAS_CORETYPE=$c"
    OPENBLAS_CORETYPE=$c "$bin" --threads="$THREADS" --repeats="$REPEATS" --steps="$STEPS" --dump="$out/$c.txt"
  done
done
python3 - "$out" $CORES <<'PY'
import sys, math
d, cores = sys.argv[1], sys.argv[2:]
def load(c):
    rows = [l.split() for l in open(f"{d}/{c}.txt") if not l.startswith("#")]
    return [(k, float(v)) for k, v in rows]
ref = load(cores[0])
for c in cores[1:]:
    other = load(c)
    for kind in ("score", "train"):
        a = [v for k, v in ref if k == kind]; b = [v for k, v in other if k == kind]
        pairs = [(x, y) for x, y in zip(a, b) if math.isfinite(x) and math.isfinite(y)]
        da = max(abs(x - y) for x, y in pairs); dr = max(abs(x - y) / max(abs(x), 1e-30) for x, y in pairs)
        same = sum(1 for x, y in pairs if x == y)
        print(f"{c} vs {cores[0]}: {kind} losses: {len(pairs)} values, {same} identical, largest difference {da:.3g} (relative {dr:.3g})")
PY
rm -rf "$out"
