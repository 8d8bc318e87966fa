#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang under AddressSanitizer and UBSan into
# build-fuzz/ (apart from the normal g++ build), runs each from its committed seed corpus for
# FUZZ_SECONDS (default 30) and fails on any finding. Prints executions per second per target.
#   FUZZ_SECONDS=60 bash scripts/fuzz.sh            # all targets
#   bash scripts/fuzz.sh fuzz_csv fuzz_config       # some of them
# Findings (crash-*, leak-*, timeout-*, oom-* inputs) are kept under build-fuzz/findings/<target>/;
# rerun one with build-fuzz/<target> <file>. New corpus entries go to build-fuzz/corpus/<target>/,
# never into the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# FUZZ_SEED=N fixes libFuzzer's random seed (CI does, so that a landing's run can be replayed);
# unset, each run explores differently.
OUT=$ROOT/build-fuzz
ALL_TARGETS=(fuzz_config fuzz_csv fuzz_pool fuzz_hf_tokenizer fuzz_gguf fuzz_safetensors fuzz_predictions)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")

# clang with libFuzzer's runtime (Debian 12: clang 14 and libclang-rt-14-dev).
CXX=${FUZZ_CXX:-clang++}
need_install=0
command -v "$CXX" >/dev/null || need_install=1
if [ $need_install -eq 0 ]; then
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > /tmp/lb-fuzz-probe.$$.cpp
  "$CXX" -fsanitize=fuzzer /tmp/lb-fuzz-probe.$$.cpp -o /tmp/lb-fuzz-probe.$$ 2>/dev/null || need_install=1
  rm -f /tmp/lb-fuzz-probe.$$.cpp /tmp/lb-fuzz-probe.$$
fi
if [ $need_install -eq 1 ]; then
  echo "fuzz: installing clang and libclang-rt-14-dev (libFuzzer)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang libclang-rt-14-dev libpcre2-dev libutf8proc-dev zlib1g-dev nlohmann-json3-dev
fi

FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -I"$ROOT"
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
[ -n "${LEADBENCH_EXTRA_INCLUDE:-}" ] && FLAGS+=(-I"$LEADBENCH_EXTRA_INCLUDE")
# LibTorch's C++ API headers (Debian's libtorch-dev), for the targets that make tensors.
TORCH_INCLUDE=${TORCH_INCLUDE:-/usr/include/torch/csrc/api/include}
[ -d "$TORCH_INCLUDE" ] && FLAGS+=(-I"$TORCH_INCLUDE")

sources_of() {
  case "$1" in
    fuzz_config) echo core/config.cpp core/json_io.cpp ;;
    fuzz_csv) echo evaluation/csv.cpp core/json_io.cpp ;;
    fuzz_pool) echo core/pool.cpp core/pool_convert.cpp core/tokenizer.cpp core/json_io.cpp ;;
    fuzz_hf_tokenizer | fuzz_gguf)
      echo core/hf_tokenizer.cpp core/bpe_model.cpp core/unicode_text.cpp core/json_io.cpp core/gguf.cpp core/gguf_tokenizer.cpp ;;
    fuzz_safetensors) echo core/safetensors.cpp core/json_io.cpp ;;
    fuzz_predictions) echo evaluation/predictions.cpp evaluation/metrics.cpp core/json_io.cpp ;;
    *) echo "fuzz: unknown target $1 (known: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
  esac
}
libs_of() {
  case "$1" in
    fuzz_hf_tokenizer | fuzz_gguf) echo -lpcre2-8 -lutf8proc -lz ;;
    # LibTorch itself is not instrumented: the sanitizers see leadbench's code and the tensors it makes.
    fuzz_safetensors) echo -ltorch -ltorch_cpu -lc10 -lz ;;
    *) echo -lz ;;
  esac
}
# Longest input tried: large enough for a few records or a small tokenizer.json.
max_len_of() {
  case "$1" in
    fuzz_hf_tokenizer | fuzz_gguf) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

mkdir -p "$OUT/obj"
for t in "${TARGETS[@]}"; do
  objs=()
  for src in tests/fuzz/$t.cpp $(sources_of "$t"); do
    obj=$OUT/obj/$(echo "$src" | tr / _).o
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$ROOT/core" "$ROOT/evaluation" "$ROOT/tests/fuzz" -name '*.h' -newer "$obj" -print -quit)" ]; then
      echo "fuzz: compiling $src"
      "$CXX" "${FLAGS[@]}" -c "$src" -o "$obj"
    fi
    objs+=("$obj")
  done
  # shellcheck disable=SC2046
  "$CXX" "${FLAGS[@]}" "${objs[@]}" $(libs_of "$t") -o "$OUT/$t"
done

start=$(date +%s)
failed=()
summary=()
for t in "${TARGETS[@]}"; do
  corpus=$OUT/corpus/$t findings=$OUT/findings/$t log=$OUT/$t.log
  mkdir -p "$corpus" "$findings" "$OUT/tmp/$t"
  seeds=(tests/fuzz/corpus/$t)
  # Optional extra seeds from outside the repository, copied at run time (FUZZ_EXTRA_SEEDS=dir).
  [ -n "${FUZZ_EXTRA_SEEDS:-}" ] && [ -d "$FUZZ_EXTRA_SEEDS/$t" ] && seeds+=("$FUZZ_EXTRA_SEEDS/$t")
  echo "fuzz: running $t for ${FUZZ_SECONDS}s"
  set +e
  ( cd "$findings" && TMPDIR=$OUT/tmp/$t ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$OUT/$t" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len_of "$t")" -timeout=10 -rss_limit_mb=2048 \
      ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -print_final_stats=1 "$corpus" "${seeds[@]/#/$ROOT/}" ) > "$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  per_s=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  line=$(printf '%-18s %8s exec/s  %10s runs  cov %6s' "$t" "${per_s:-?}" "${runs:-?}" "${cov:-?}")
  if [ $rc -ne 0 ]; then
    line="$line  FINDING (exit $rc; see $log and $findings)"
    failed+=("$t")
    grep -m1 -E 'ERROR: |runtime error|terminate called|deadly signal' "$log" || true
  fi
  summary+=("$line")
done

echo "fuzz: summary (${FUZZ_SECONDS}s per target, $(( $(date +%s) - start ))s of fuzzing)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no findings"
