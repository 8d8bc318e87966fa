#!/usr/bin/env python3
"""What each selector picked, per source (task group) and defect, from the run records of a sweep.

usage: scripts/picks_table.py RESULTS_DIR [--selectors a,b,...] [--pool N] [--overlap-with NAME]

Reads every run record (*.json with a "picks" section) under RESULTS_DIR and prints, per variant
(the record's "name"), the mean over seeds of the samples picked from each source and the share of
them that is clean (defect "none"), beside the pool's share of clean samples in that source; then
the picks by defect. Rows are variants, in the order given by --selectors (default: sorted).
--overlap-with NAME adds, per variant, how many of its selected samples (selected.uids) the variant
NAME selected at the same seed, seed by seed.
Standard library only; every number is a mean over the records named in the header line.
"""
import argparse
import glob
import json
import os
import sys
from collections import defaultdict


def load(results_dir, pool=None):
    runs = defaultdict(list)
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        try:
            rec = json.load(open(path))
        except (OSError, ValueError) as e:
            sys.exit(f"{path}: not a readable JSON record ({e}); remove it or fix it")
        if not isinstance(rec, dict) or "picks" not in rec or "name" not in rec:
            continue  # sweep plans and other files
        if pool is not None and rec.get("pool_size") != pool:
            continue
        runs[rec["name"]].append((path, rec))
    return runs


def overlap(runs, reference):
    """Variant -> [(seed, shared ids, own ids)] against `reference`'s record at the same seed."""
    ref = {r.get("seed"): set(r.get("selected", {}).get("uids", [])) for _, r in runs.get(reference, [])}
    out = {}
    for name, recs in runs.items():
        rows = []
        for _, r in sorted(recs, key=lambda pr: pr[1].get("seed", 0)):
            seed = r.get("seed")
            if seed not in ref:
                continue
            ids = set(r.get("selected", {}).get("uids", []))
            rows.append((seed, len(ids & ref[seed]), len(ids)))
        out[name] = rows
    return out


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main(argv):
    ap = argparse.ArgumentParser(description="picks per source and defect, mean over seeds")
    ap.add_argument("results_dir")
    ap.add_argument("--selectors", help="comma-separated variant names, in table order (default: all, sorted)")
    ap.add_argument("--pool", type=int, help="only records of this pool size")
    ap.add_argument("--overlap-with", help="a variant name: count each variant's picks it shares at the same seed")
    a = ap.parse_args(argv)
    runs = load(a.results_dir, a.pool)
    if not runs:
        sys.exit(f"{a.results_dir}: no run records with a 'picks' section")
    names = a.selectors.split(",") if a.selectors else sorted(runs)
    missing = [n for n in names if n not in runs]
    if missing:
        sys.exit(f"{a.results_dir}: no records for {', '.join(missing)} (have: {', '.join(sorted(runs))})")
    first = runs[names[0]][0][1]["picks"]["pool"]
    sources = sorted(first)
    pool_n = {s: first[s]["n"] for s in sources}
    pool_clean = {s: first[s].get("none", 0) / first[s]["n"] for s in sources}
    n_records = sum(len(runs[n]) for n in names)
    print(f"picks per source, mean over seeds ({n_records} records under {a.results_dir}); "
          f"cell = picked (clean %); pool row = samples in the pool (clean %)")
    print()
    print("| variant | seeds | " + " | ".join(sources) + " | all |")
    print("|---|---:|" + "---:|" * (len(sources) + 1))
    total_pool = sum(pool_n.values())
    clean_pool = sum(first[s].get("none", 0) for s in sources)
    print("| pool | | " + " | ".join(f"{pool_n[s]} ({100 * pool_clean[s]:.0f} %)" for s in sources) +
          f" | {total_pool} ({100 * clean_pool / total_pool:.1f} %) |")
    defects = set()
    for n in names:
        cells = []
        recs = [r for _, r in runs[n]]
        for s in sources:
            picked = [r["picks"]["by_source"].get(s, 0) for r in recs]
            clean = [r["picks"]["by_source_and_defect"].get(s, {}).get("none", 0) for r in recs]
            share = 100 * sum(clean) / sum(picked) if sum(picked) else float("nan")
            cells.append(f"{mean(picked):.1f} ({share:.0f} %)" if sum(picked) else "0")
        tot = [sum(r["picks"]["by_source"].values()) for r in recs]
        cl = [r["picks"]["by_defect"].get("none", 0) for r in recs]
        print(f"| {n} | {len(recs)} | " + " | ".join(cells) + f" | {mean(tot):.1f} ({100 * sum(cl) / sum(tot):.1f} %) |")
        for r in recs:
            defects.update(r["picks"]["by_defect"])
    print()
    defects = sorted(defects - {"none"})
    print("picks by defect, mean over seeds")
    print()
    print("| variant | clean | " + " | ".join(defects) + " |")
    print("|---|---:|" + "---:|" * len(defects))
    for n in names:
        recs = [r for _, r in runs[n]]
        vals = [mean([r["picks"]["by_defect"].get(d, 0) for r in recs]) for d in ["none"] + defects]
        print(f"| {n} | " + " | ".join(f"{v:.1f}" for v in vals) + " |")
    if a.overlap_with:
        if a.overlap_with not in runs:
            sys.exit(f"{a.results_dir}: no records for --overlap-with {a.overlap_with} (have: {', '.join(sorted(runs))})")
        print()
        print(f"selected samples shared with {a.overlap_with} at the same seed (shared / own), seed by seed")
        print()
        print("| variant | seeds | shared / own |")
        print("|---|---:|---|")
        ov = overlap(runs, a.overlap_with)
        for n in names:
            rows = ov.get(n, [])
            cells = ", ".join(f"s{seed}: {shared}/{own}" for seed, shared, own in rows)
            print(f"| {n} | {len(rows)} | {cells} |")


if __name__ == "__main__":
    main(sys.argv[1:])
