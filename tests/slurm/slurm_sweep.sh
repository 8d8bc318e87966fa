#!/usr/bin/env bash
# A sweep through a real Slurm controller (scripts/slurm_local.sh): `leadbench sweep --slurm` writes
# the job array, submit.sh submits it, one task is cancelled while it runs, the array is submitted
# again, and then every record must be complete and equal to a run of the same config outside Slurm
# (same config hash, same selected ids, same scores: one machine, one thread, the same binary).
# usage: tests/slurm/slurm_sweep.sh LEADBENCH_EXE      exit 0 pass, 1 fail, 77 skipped (no Slurm here)
set -euo pipefail
EXE=$(readlink -f "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/leadbench-slurm-test.XXXXXX")
SLURM_DIR=$WORK/slurm
cleanup() {
  bash "$ROOT/scripts/slurm_local.sh" stop "$SLURM_DIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/sweep/results/logs/*.log "$SLURM_DIR"/log/slurmctld.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
  done
  exit 1
}

set +e
conf_line=$(bash "$ROOT/scripts/slurm_local.sh" start "$SLURM_DIR" 2>"$WORK/start.err")
rc=$?
set -e
if [ $rc -eq 3 ]; then
  echo "SKIPPED: $(cat "$WORK/start.err")"
  exit 77
fi
[ $rc -eq 0 ] || fail "scripts/slurm_local.sh start exited $rc: $(cat "$WORK/start.err")"
eval "$conf_line"

# A tiny world: three seeds of random; pre-training long enough (several seconds) to cancel a task
# while it works. Each task asks for one CPU, some memory and a time limit from the config.
mkdir -p "$WORK/sweep"
cd "$WORK/sweep"
cat > sweep.json <<'EOF'
{
  "world": {"pool_size": 240, "corpus_docs": 200, "mmlu_items": 8, "gsm_items": 4, "code_items": 4, "qa_items": 8},
  "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 64},
  "proxy_model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 32},
  "pretrain": {"epochs": 60, "train": {"batch_size": 32}},
  "train": {"batch_size": 8, "epochs": 1},
  "eval": {"max_new_tokens": 8, "limit": 4},
  "selection": {"selector": "random", "budget_fraction": 0.1},
  "runtime": {"progress": "off", "threads": 1, "cache_dir": "cache"},
  "sweep": {"grid": {"seed": [0, 1, 2]},
            "slurm": {"cpus_per_task": 1, "mem": "1G", "time": "00:10:00"}}
}
EOF
"$EXE" sweep sweep.json --out results --slurm --threads 1 --quiet || fail "sweep --slurm failed"
grep -q -- "--mem=1G" results/sweep.slurm || fail "sweep.slurm lacks the config's --mem"
grep -q -- "--time=00:10:00" results/sweep.slurm || fail "sweep.slurm lacks the config's --time"

wait_for() {  # wait_for SECONDS COMMAND...: until the command succeeds
  local limit=$1
  shift
  for _ in $(seq $((limit * 2))); do "$@" && return 0; sleep 0.5; done
  return 1
}
array_done() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
task_running() { [ "$(squeue -h -j "$1" -o %T 2>/dev/null)" = "RUNNING" ]; }
task_ended() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
running_or_ended() { task_running "$1" || task_ended "$1"; }

first=$(LEADBENCH=$EXE bash results/submit.sh | awk '/submitted job array/ {print $4}')
[ -n "$first" ] || fail "submit.sh printed no job id"
# Cancel task 0 (it pre-trains the shared base model, holding the cache lock) a few seconds in.
wait_for 120 running_or_ended "${first}_0" || fail "task ${first}_0 never ran"
sleep 3
task_running "${first}_0" || fail "task ${first}_0 ended within 3 s, before it could be cancelled (see its log)"
scancel "${first}_0"
wait_for 300 array_done "$first" || fail "the first array did not end within 300 s"
[ ! -f "$(ls results/random-b*-s0-*.json 2>/dev/null | head -1)" ] || fail "the cancelled task left a record"

second=$(LEADBENCH=$EXE bash results/submit.sh | awk '/submitted job array/ {print $4}')
wait_for 300 array_done "$second" || fail "the second array did not end within 300 s"

# Every run done, with its planned config hash.
"$EXE" sweep sweep.json --out results --dry-run --threads 1 2>&1 | grep -q "3 already done, 0 to run" ||
  fail "not every record is complete: $("$EXE" sweep sweep.json --out results --dry-run --threads 1 2>&1 | head -3)"
# Equal to a run outside Slurm, with its own cache (the base model pre-trained again).
for seed in 0 1 2; do
  rec=$(ls results/random-b*-s$seed-*.json)
  "$EXE" run sweep.json seed=$seed runtime.cache_dir=cache-local --out "local-$seed.json" --threads 1 --quiet ||
    fail "the local run of seed $seed failed"
  python3 - "$rec" "local-$seed.json" <<'EOF' || fail "seed $seed: the Slurm record differs from the local run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("config_hash", "selector", "seed", "pool_size"):
    assert a[key] == b[key], (key, a[key], b[key])
assert a["selected"]["uids"] == b["selected"]["uids"], "selected ids differ"
for name in a["suites"]:
    assert a["suites"][name]["value"] == b["suites"][name]["value"], (name, a["suites"][name], b["suites"][name])
EOF
done
echo "slurm sweep: 3 runs through Slurm (one task cancelled mid-run and resubmitted) equal the local runs"
