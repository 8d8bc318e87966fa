"""Reading a folder of leadbench run records, for the report scripts (standard library only)."""
import glob
import json
import os
import sys


def json_files(results_dir, what="a folder of run records"):
    """(path, parsed JSON) for every *.json directly under results_dir, in name order. Exits with a
    message naming the folder or the file when the folder is missing or a file is not JSON."""
    if not os.path.isdir(results_dir):
        sys.exit(f"{results_dir}: not {what}")
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        try:
            with open(path) as f:
                rec = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"{path}: not a readable JSON record ({e}); remove it or fix it")
        yield path, rec
