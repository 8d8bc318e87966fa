#!/usr/bin/env bash
# Checks that the synthetic world's suites discriminate (issue 3): the base model vs a model tuned on
# the full pool, per suite with 95 % intervals. Passes when full beats base on every suite by more
# than the interval of the difference and the base sits near chance (25 %) on syn_mmlu.
# usage: scripts/world_discrimination.sh [CONFIG] [key=value ...]   (default CONFIG: experiments/configs/demo.json)
# Writes the two run records and a summary (JSON, Markdown) under $OUT (default
# results/world-discrimination/). Another pre-training seed: OUT=results/world-discrimination/init-seed-21
# scripts/world_discrimination.sh experiments/configs/demo.json pretrain.init_seed=21; several such runs
# combine into one table with scripts/world_discrimination_seeds.py. Adding --skip-existing keeps
# records that already hold the same config and only rewrites the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
LEADBENCH=${LEADBENCH:-build/leadbench}
CONFIG=${1:-experiments/configs/demo.json}
[ $# -gt 0 ] && shift
OUT=${OUT:-results/world-discrimination}
mkdir -p "$OUT"
"$LEADBENCH" run "$CONFIG" selection.selector=base "$@" --out "$OUT/base.json"
"$LEADBENCH" run "$CONFIG" selection.selector=full selection.budget_fraction=1 "$@" --out "$OUT/full.json"
python3 - "$OUT" "$CONFIG $*" <<'EOF'
import json, math, os, sys
out = sys.argv[1]
base_rec = json.load(open(f"{out}/base.json"))
full_rec = json.load(open(f"{out}/full.json"))
base, full = base_rec["suites"], full_rec["suites"]
rows, ok = [], True
lines = []
def say(line):
    print(line)
    lines.append(line)
say(f"{'suite':<15} {'metric':<12} {'base':>16} {'full pool':>16} {'diff':>8} {'95% CI diff':>12}  verdict")
for name in base:
    b, f = base[name], full[name]
    diff = f["value"] - b["value"]
    half = 1.96 * math.sqrt(b["stderr"] ** 2 + f["stderr"] ** 2)
    good = diff > half
    ok &= good
    say(f"{name:<15} {b['metric']:<12} {b['value']:7.1f} ± {1.96*b['stderr']:5.1f} {f['value']:7.1f} ± {1.96*f['stderr']:5.1f}"
        f" {diff:8.1f} {half:12.1f}  {'discriminates' if good else 'DOES NOT discriminate'}")
    rows.append({"suite": name, "metric": b["metric"], "base": b, "full": f, "diff": diff, "ci95_half_width_diff": half,
                 "discriminates": good})
mmlu = base.get("syn_mmlu")
near_chance = mmlu is not None and abs(mmlu["value"] - 25.0) <= 1.96 * mmlu["stderr"] + 5.0
say(f"base near chance on syn_mmlu (25 % +- CI + 5): {near_chance}")
stamp = (f"`scripts/world_discrimination.sh {sys.argv[2].strip()}` · git {full_rec['git_sha'][:12]} · "
         f"{full_rec['machine']} · {full_rec['date']} · world {full_rec.get('world_version', '?')}")
epochs = full_rec.get("config", {}).get("train", {}).get("epochs", "?")
md = ["# Does the synthetic world discriminate?", "", stamp, "",
      f"The untuned base model against the model tuned on the whole pool ({epochs} epochs), one seed; ± is 1.96 x the",
      "standard error over items; a suite discriminates when the difference exceeds the 95 % half-width of the",
      "difference, sqrt(se_base^2 + se_full^2) x 1.96.", "", "```", *lines, "```", ""]
with open(f"{out}/summary.md.tmp", "w") as fh:
    fh.write("\n".join(md))
os.replace(f"{out}/summary.md.tmp", f"{out}/summary.md")
with open(f"{out}/summary.json.tmp", "w") as fh:
    json.dump({"rows": rows, "all_discriminate": ok, "base_mmlu_near_chance": near_chance, "stamp": stamp}, fh, indent=2)
os.replace(f"{out}/summary.json.tmp", f"{out}/summary.json")
sys.exit(0 if ok and near_chance else 1)
EOF
