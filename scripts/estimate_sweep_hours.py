#!/usr/bin/env python3
"""Estimates the CPU cost of a sweep at another pool size from committed run records.

Each phase's measured seconds (the records' `phases`) are scaled linearly with the pool size,
except evaluation, whose suites do not depend on the pool: at a fixed budget fraction the scoring
passes, the warm-up subsets and the trained sample passes all grow in proportion to the pool. Each
run of the sweep is matched to a measured run of the same variant name (a replay `fixed` run to
random's, which trains the same number of samples by the same protocol). Prints per-variant
seconds and the sweep's total in core-hours (the records' runs used 1 thread each).

Reuse (runtime.reuse_offline, on by default; core/result_cache.h): LEAD's offline stage (phases
offline_training and offline_inference) is computed once per content key and reused by every later
LEAD run of the same seed whose overrides change only what happens once the rounds start (any
lead.* key but lead.warmup_fraction and lead.warmup_epochs). Those runs' records still charge the
stage's measured cost, but the sweep does not spend it again: the estimate leaves it out of their
time (column "reused s"). --no-reuse prints the estimate without it.

usage: scripts/estimate_sweep_hours.py CONFIG.json --pool N RESULTS_DIR... [--binary build/leadbench] [--seeds 1-5] [--no-reuse]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
from collections import defaultdict


def measured(dirs):
    """variant name -> list of (pool, {phase: seconds}, threads) over the records of the dirs."""
    out = defaultdict(list)
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "*.json"))):
            if os.path.basename(path).startswith("_"):
                continue
            with open(path) as f:
                r = json.load(f)
            if "phases" not in r or "name" not in r:
                continue
            phases = {k: v["seconds"] for k, v in r["phases"].items() if isinstance(v, dict) and "seconds" in v}
            m = re.search(r"\((\d+) threads?", r.get("device", ""))
            out[r["name"]].append((r["pool_size"], phases, int(m.group(1)) if m else 0, path))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--pool", type=int, required=True)
    ap.add_argument("--binary", default="build/leadbench")
    ap.add_argument("--seeds", default="", help="only these seeds of the sweep, e.g. 1-5 or 1,2,3")
    ap.add_argument("--no-reuse", action="store_true", help="estimate without reuse of LEAD's offline stage")
    a = ap.parse_args()
    wanted = set()
    for part in filter(None, a.seeds.split(",")):
        lo, _, hi = part.partition("-")
        wanted.update(str(x) for x in range(int(lo), int(hi or lo) + 1))
    plan = subprocess.run([a.binary, "sweep", a.config, "--dry-run"], capture_output=True, text=True)
    if plan.returncode != 0:
        sys.exit("sweep --dry-run failed: " + plan.stderr)
    runs = defaultdict(int)
    reusing = defaultdict(int)  # variant -> runs that reuse LEAD's offline stage of an earlier run
    offline_key_of_seed = defaultdict(set)
    for line in (plan.stdout + plan.stderr).splitlines():
        m = re.search(r"would run: .* name=(\S+)", line)
        if not m:
            continue
        name = m.group(1)
        args = dict(t.split("=", 1) for t in line.split(" --out ")[0].split() if "=" in t)
        if wanted and args.get("seed") not in wanted:
            continue
        runs[name] += 1
        if args.get("selection.selector") != "lead":
            continue
        # The overrides that shape the offline stage (everything but name, selector and online lead.* keys).
        shaping = tuple(sorted((k, v) for k, v in args.items()
                               if k not in ("name", "selection.selector")
                               and not (k.startswith("lead.") and k not in ("lead.warmup_fraction", "lead.warmup_epochs"))))
        seedless = tuple(kv for kv in shaping if kv[0] != "seed")
        seed = args.get("seed", "")
        if not a.no_reuse and seedless in offline_key_of_seed[seed]:
            reusing[name] += 1
        offline_key_of_seed[seed].add(seedless)
    have = measured(a.dirs)
    stand_in = {"lead_replay": "random"}
    total = 0.0
    total_no_reuse = 0.0
    print(f"{'variant':24s} {'runs':>4s} {'measured at':>11s} {'eval s':>7s} {'other s':>8s} {'est. s/run':>10s} {'reused s':>8s}")
    for name, n in runs.items():
        src = have.get(name) or have.get(stand_in.get(name, ""))
        if not src:
            sys.exit(f"no measured record for variant {name} in {a.dirs}")
        pools = {p for p, _, _, _ in src}
        threads = {t for _, _, t, _ in src}
        ev = sum(ph.get("evaluation", 0) for _, ph, _, _ in src) / len(src)
        other = sum(sum(v for k, v in ph.items() if k != "evaluation") for _, ph, _, _ in src) / len(src)
        offline = sum(ph.get("offline_training", 0) + ph.get("offline_inference", 0) for _, ph, _, _ in src) / len(src)
        pool = sum(pools) / len(pools)
        est = ev + other * a.pool / pool
        saved = offline * a.pool / pool
        k = reusing.get(name, 0)
        total_no_reuse += est * n
        total += est * n - saved * k
        print(f"{name:24s} {n:4d} {int(pool):11d} {ev:7.1f} {other:8.1f} {est:10.1f} {(saved if k else 0):8.1f}"
              f"   ({len(src)} records, {sorted(threads)} thread(s){f', {k} of {n} reuse the offline stage' if k else ''})")
    nruns = sum(runs.values())
    print(f"total: {total:.0f} s = {total / 3600:.1f} core-hours for {nruns} runs at pool {a.pool}"
          + (f" (without reuse: {total_no_reuse:.0f} s = {total_no_reuse / 3600:.1f} core-hours)" if total != total_no_reuse else ""))
    print(f"on 2 cores as 2 jobs x 1 thread: about {total / 3600 / 2:.1f} hours of wall time")

if __name__ == "__main__":
    main()
