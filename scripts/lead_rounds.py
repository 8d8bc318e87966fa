#!/usr/bin/env python3
"""What LEAD's rounds did, from the telemetry of its run records: why variants pick the same samples.

usage: scripts/lead_rounds.py RESULTS_DIR [--reference NAME]

For every record whose telemetry has LEAD's rounds (full LEAD and its ablations), the selection
stage (rounds before the budget is reached, telemetry rounds with stage "select"): how many rounds,
their sizes, how many of their slots went to samples already trained (repeats), the range of the
bandit's arm probabilities over those rounds, and whether the sequence of drawn clusters equals the
reference variant's (default "lead") at the same seed, plus how many of the two variants' unique
picks coincide. Standard library only.
"""
import argparse
import sys
from collections import defaultdict

from run_records import json_files


def selection_stage(rec):
    """The telemetry rounds of the selection stage, or None for a record without LEAD's rounds."""
    rounds = rec.get("telemetry", {}).get("rounds")
    if not isinstance(rounds, list) or not rounds or not all(isinstance(r, dict) and "stage" in r for r in rounds):
        return None
    return [r for r in rounds if r["stage"] == "select"]


def summarise(rec):
    sel = selection_stage(rec)
    if sel is None:
        return None
    probs = [p for r in sel for p in r.get("probabilities", [])]
    return {
        "rounds": len(sel),
        "sizes": sorted({r["selected"] for r in sel}),
        "repeats": sum(r["selected"] - r["new_unique"] for r in sel),
        "clusters": [r["cluster"] for r in sel],
        "p_min": min(probs) if probs else float("nan"),
        "p_max": max(probs) if probs else float("nan"),
        "arms": len(sel[0].get("probabilities", [])) if sel else 0,
        "uids": set(rec.get("selected", {}).get("uids", [])),
    }


def load(results_dir):
    """Variant name -> seed -> summary, for the records with LEAD's rounds."""
    out = defaultdict(dict)
    for _, rec in json_files(results_dir):
        if not isinstance(rec, dict):
            continue
        s = summarise(rec)
        if s is not None:
            out[rec.get("name", "?")][rec.get("seed")] = s
    return out


def main(argv):
    ap = argparse.ArgumentParser(description="LEAD's selection-stage rounds per record, against a reference variant")
    ap.add_argument("results_dir")
    ap.add_argument("--reference", default="lead")
    a = ap.parse_args(argv)
    runs = load(a.results_dir)
    if not runs:
        sys.exit(f"{a.results_dir}: no record with LEAD's round telemetry")
    ref = runs.get(a.reference, {})
    print(f"selection stage of LEAD's records under {a.results_dir}; clusters and picks against {a.reference} at the same seed")
    print()
    print(f"| variant | seed | rounds | round sizes | repeats | arm probabilities | same clusters as {a.reference} | picks shared |")
    print("|---|---:|---:|---|---:|---|---|---:|")
    for name in sorted(runs):
        for seed in sorted(runs[name], key=lambda s: (s is None, s)):
            s = runs[name][seed]
            r = ref.get(seed)
            same = "-" if r is None else ("yes" if r["clusters"] == s["clusters"] else
                                          f"no (first {next((i for i, (x, y) in enumerate(zip(r['clusters'], s['clusters'])) if x != y), min(len(r['clusters']), len(s['clusters'])))} equal)")
            shared = "-" if r is None else f"{len(r['uids'] & s['uids'])}/{len(s['uids'])}"
            uniform = 1.0 / s["arms"] if s["arms"] else float("nan")
            print(f"| {name} | {seed} | {s['rounds']} | {', '.join(map(str, s['sizes']))} | {s['repeats']} | "
                  f"{s['p_min']:.3f}-{s['p_max']:.3f} (uniform {uniform:.3f}) | {same} | {shared} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
