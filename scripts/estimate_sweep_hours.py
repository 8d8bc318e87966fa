#!/usr/bin/env python3
"""Estimates the CPU cost of a sweep at another pool size from committed run records.

Each phase's measured seconds (the records' `phases`) are scaled linearly with the pool size,
except evaluation, whose suites do not depend on the pool: at a fixed budget fraction the scoring
passes, the warm-up subsets and the trained sample passes all grow in proportion to the pool. Each
run of the sweep is matched to a measured run of the same variant name (a replay `fixed` run to
random's, which trains the same number of samples by the same protocol). Prints per-variant
seconds and the sweep's total in core-hours (the records' runs used 1 thread each).

usage: scripts/estimate_sweep_hours.py CONFIG.json --pool N RESULTS_DIR... [--binary build/leadbench]
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
    a = ap.parse_args()
    plan = subprocess.run([a.binary, "sweep", a.config, "--dry-run"], capture_output=True, text=True)
    if plan.returncode != 0:
        sys.exit("sweep --dry-run failed: " + plan.stderr)
    runs = defaultdict(int)
    for line in (plan.stdout + plan.stderr).splitlines():
        m = re.search(r"would run: .* name=(\S+)", line)
        if m:
            runs[m.group(1)] += 1
    have = measured(a.dirs)
    stand_in = {"lead_replay": "random"}
    total = 0.0
    print(f"{'variant':24s} {'runs':>4s} {'measured at':>11s} {'eval s':>7s} {'other s':>8s} {'est. s/run':>10s}")
    for name, n in runs.items():
        src = have.get(name) or have.get(stand_in.get(name, ""))
        if not src:
            sys.exit(f"no measured record for variant {name} in {a.dirs}")
        pools = {p for p, _, _, _ in src}
        threads = {t for _, _, t, _ in src}
        ev = sum(ph.get("evaluation", 0) for _, ph, _, _ in src) / len(src)
        other = sum(sum(v for k, v in ph.items() if k != "evaluation") for _, ph, _, _ in src) / len(src)
        pool = sum(pools) / len(pools)
        est = ev + other * a.pool / pool
        total += est * n
        print(f"{name:24s} {n:4d} {int(pool):11d} {ev:7.1f} {other:8.1f} {est:10.1f}   ({len(src)} records, {sorted(threads)} thread(s))")
    print(f"total: {total:.0f} s = {total / 3600:.1f} core-hours for {sum(runs.values())} runs at pool {a.pool}")
    print(f"on 2 cores as 2 jobs x 1 thread: about {total / 3600 / 2:.1f} hours of wall time")


if __name__ == "__main__":
    main()
