#!/usr/bin/env python3
"""Paired t-test of two selectors' four-suite averages across the seeds both ran, from run records.

usage: scripts/paired_test.py RESULTS_DIR SELECTOR OTHER [OTHER ...] [--budget PERCENT]
  e.g. scripts/paired_test.py results/paper_main lead random base ppl_low
`leadbench table` tests each row against the best other row only; this tests any pair. Rows are
matched by the record's `name` (the selector unless a variant renamed it) and `budget_fraction`.
"""
import glob
import json
import math
import os
import sys


def t_two_sided_p(t, df):
    """Two-sided p of Student's t: 1 - I_x(1/2, df/2) integrated numerically (Simpson, 20 000 panels)."""
    c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    pdf = lambda x: c * (1 + x * x / df) ** (-(df + 1) / 2)
    n, b = 20000, abs(t)
    h = b / n
    s = pdf(0) + pdf(b) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, n))
    return max(0.0, 1 - 2 * s * h / 3)


args = sys.argv[1:]
budget = None
if "--budget" in args:
    i = args.index("--budget")
    budget = float(args[i + 1]) / 100
    del args[i:i + 2]
if len(args) < 3:
    sys.exit(__doc__)
folder, ref, others = args[0], args[1], args[2:]
averages = {}  # (name, budget) -> {seed: average}
for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
    try:
        rec = json.load(open(path))
        key = (rec["name"], rec["budget_fraction"])
        averages.setdefault(key, {})[rec["seed"]] = rec["average"]["value"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        if not os.path.basename(path).startswith("_"):  # _sweep_plan.json is not a run record
            print(f"{path}: skipped, not a readable run record ({type(e).__name__}: {e}); "
                  f"`leadbench table {folder}` lists the problem too", file=sys.stderr)
        continue
budgets = sorted({b for (_, b) in averages} if budget is None else {budget})
for b in budgets:
    if (ref, b) not in averages:
        continue
    for other in others:
        a, o = averages[(ref, b)], averages.get((other, b), {})
        seeds = sorted(set(a) & set(o))
        if len(seeds) < 2:
            print(f"budget {100 * b:g} %: {ref} - {other}: fewer than 2 shared seeds")
            continue
        d = [a[s] - o[s] for s in seeds]
        m = sum(d) / len(d)
        sd = math.sqrt(sum((x - m) ** 2 for x in d) / (len(d) - 1))
        if sd == 0:
            print(f"budget {100 * b:g} %: {ref} - {other} = {m:+.2f} on every one of {len(seeds)} seeds")
            continue
        t = m / (sd / math.sqrt(len(d)))
        p = t_two_sided_p(t, len(d) - 1)
        print(f"budget {100 * b:g} %: {ref} - {other} = {m:+.2f} points over {len(seeds)} seeds, t = {t:.2f}, p = {p:.3f}")
