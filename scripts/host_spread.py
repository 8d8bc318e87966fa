#!/usr/bin/env python3
"""How far a committed number moves from one host to another, beside how far it moves from seed to seed.

usage: scripts/host_spread.py DIR_A DIR_B [--markdown]

DIR_A and DIR_B hold run records of the same configs (the same config hashes, hence the same file
names) made on two hosts, e.g. an Intel and an AMD machine. The config hash leaves out the runtime
section, so two records of one name differ only in where they ran: float rounding (BLAS kernels,
vector width) changes the pre-trained base model and every number after it.

For each record name present in both folders it prints the two hosts, whether the selected ids are
the same, the base model's final pre-training loss, and each suite's headline and the average on
both hosts with the difference B - A. Then, per folder, the seed-to-seed standard deviation of the
average of every variant (record "name") with at least two seeds, so that the host-to-host
differences can be read against it. Standard library only.
"""
import argparse
import math
import os
import sys
from collections import defaultdict

from run_records import json_files


def load_dir(path):
    """Record file name -> record, for every run record (a JSON object with "suites") in path."""
    out = {}
    for f, rec in json_files(path, "a folder of run records; give two results folders"):
        if isinstance(rec, dict) and isinstance(rec.get("suites"), dict) and "average" in rec:
            out[os.path.basename(f)] = rec
    return out


def host_of(rec):
    """The part of the record that names where it ran."""
    return f"{rec.get('device', '?')}; {rec.get('machine', '?')}"


def suite_values(rec):
    return {name: s.get("value") for name, s in rec["suites"].items() if isinstance(s, dict)}


def pairs(a, b):
    """Per record name in both folders: the comparison of its two records."""
    rows = []
    for name in sorted(set(a) & set(b)):
        ra, rb = a[name], b[name]
        va, vb = suite_values(ra), suite_values(rb)
        suites = [s for s in ra.get("suite_order", sorted(va)) if s in va and s in vb]
        rows.append({
            "record": name,
            "host_a": host_of(ra),
            "host_b": host_of(rb),
            "same_ids": ra.get("selected", {}).get("uids") == rb.get("selected", {}).get("uids"),
            "base_loss_a": ra.get("base_model", {}).get("final_loss"),
            "base_loss_b": rb.get("base_model", {}).get("final_loss"),
            "suites": {s: (va[s], vb[s], vb[s] - va[s]) for s in suites},
            "average": (ra["average"]["value"], rb["average"]["value"], rb["average"]["value"] - ra["average"]["value"]),
        })
    return rows


def sd(xs):
    if len(xs) < 2:
        return float("nan")
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def seed_spread(records):
    """Variant name -> (number of seeds, sample SD of the average over seeds), for >= 2 seeds."""
    by_name = defaultdict(list)
    for rec in records.values():
        by_name[rec.get("name", "?")].append(rec["average"]["value"])
    return {n: (len(v), sd(v)) for n, v in sorted(by_name.items()) if len(v) >= 2}


def summary(rows):
    """Mean absolute host-to-host difference of the average and of each suite."""
    if not rows:
        return {}
    out = {"average": sum(abs(r["average"][2]) for r in rows) / len(rows)}
    suites = defaultdict(list)
    for r in rows:
        for s, (_, _, d) in r["suites"].items():
            suites[s].append(abs(d))
    for s, ds in suites.items():
        out[s] = sum(ds) / len(ds)
    return out


def main(argv):
    ap = argparse.ArgumentParser(description="host-to-host differences of the same records, beside the seed-to-seed spread")
    ap.add_argument("dir_a")
    ap.add_argument("dir_b")
    args = ap.parse_args(argv)
    a, b = load_dir(args.dir_a), load_dir(args.dir_b)
    rows = pairs(a, b)
    if not rows:
        sys.exit(f"no record name is in both {args.dir_a} and {args.dir_b}: nothing to compare "
                 "(the two folders must hold runs of the same configs)")
    hosts_a = sorted({r["host_a"] for r in rows})
    hosts_b = sorted({r["host_b"] for r in rows})
    print(f"A = {args.dir_a}: {' | '.join(hosts_a)}")
    print(f"B = {args.dir_b}: {' | '.join(hosts_b)}")
    print()
    for r in rows:
        print(f"{r['record']}: same selected ids: {'yes' if r['same_ids'] else 'NO'}; "
              f"base model final loss A {r['base_loss_a']:.6f}, B {r['base_loss_b']:.6f}")
        for s, (x, y, d) in list(r["suites"].items()) + [("average", r["average"])]:
            print(f"  {s:<16} A {x:7.2f}  B {y:7.2f}  B-A {d:+7.2f}")
    print()
    print(f"mean |B - A| over {len(rows)} record(s):")
    for s, v in summary(rows).items():
        print(f"  {s:<16} {v:6.2f}")
    print()
    for label, recs in (("A", a), ("B", b)):
        spread = seed_spread(recs)
        if not spread:
            print(f"seed-to-seed SD of the average in {label}: no variant with two seeds")
            continue
        print(f"seed-to-seed SD of the average in {label} (variants with >= 2 seeds):")
        for n, (k, v) in spread.items():
            print(f"  {n:<24} {k:2d} seeds  SD {v:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
