#!/usr/bin/env python3
"""Combines scripts/world_discrimination.sh runs made with different pre-training seeds into one table.

usage: scripts/world_discrimination_seeds.py OUT_MD LABEL=DIR [LABEL=DIR ...]
  e.g. scripts/world_discrimination_seeds.py results/world-discrimination/seeds.md \
         "11 (default)=results/world-discrimination" 21=results/world-discrimination/init-seed-21 \
         31=results/world-discrimination/init-seed-31
Each DIR holds a summary.json written by world_discrimination.sh; OUT_MD is written atomically.
"""
import json
import os
import sys

if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
    sys.exit(__doc__)
out_md = sys.argv[1]
runs = [a.split("=", 1) for a in sys.argv[2:]]
cells = {}
for label, folder in runs:
    path = os.path.join(folder, "summary.json")
    try:
        summary = json.load(open(path))
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: {e}; run scripts/world_discrimination.sh with OUT={folder} first")
    try:
        for r in summary["rows"]:
            verdict = "**yes**" if r["discriminates"] else "no"
            cells.setdefault(r["suite"], {})[label] = f"{r['diff']:+.1f} vs {r['ci95_half_width_diff']:.1f} {verdict}"
    except (KeyError, TypeError) as e:
        sys.exit(f"{path}: not a summary written by scripts/world_discrimination.sh (missing {e}); run it again")
lines = ["# The discrimination check over several pre-training seeds", "",
         f"`scripts/world_discrimination_seeds.py {' '.join(sys.argv[1:])}`", "",
         "Each column is one `scripts/world_discrimination.sh` run; its folder's `summary.md` has the exact",
         "command (a seed other than the default adds `pretrain.init_seed=N`, which pre-trains its own base",
         "model on the same corpus), the scores and the stamp. Cells: full pool minus base, in points, against",
         "the 95 % half-width of that difference; **yes** when the difference exceeds it.", "",
         "| suite | " + " | ".join(f"seed {label}" for label, _ in runs) + " |",
         "| --- | " + " | ".join("---" for _ in runs) + " |"]
for suite in sorted(cells):
    lines.append(f"| {suite} | " + " | ".join(cells[suite].get(label, "not run") for label, _ in runs) + " |")
lines.append("")
with open(out_md + ".tmp", "w") as fh:
    fh.write("\n".join(lines))
os.replace(out_md + ".tmp", out_md)
print("\n".join(lines))
