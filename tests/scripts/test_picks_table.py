"""scripts/picks_table.py's overlap count on hand-made records. Standard library only."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import picks_table as pt  # noqa: E402


def rec(seed, uids):
    return ("x.json", {"seed": seed, "selected": {"uids": uids}})


class Overlap(unittest.TestCase):
    def test_shared_ids_at_the_same_seed_only(self):
        runs = {"lead": [rec(1, ["a", "b", "c"]), rec(2, ["d", "e"])],
                "random": [rec(2, ["e", "f", "g"]), rec(1, ["c", "x"]), rec(3, ["a"])]}
        ov = pt.overlap(runs, "lead")
        self.assertEqual(ov["lead"], [(1, 3, 3), (2, 2, 2)])
        # seed 3 has no lead record: left out; seeds in order
        self.assertEqual(ov["random"], [(1, 1, 2), (2, 1, 3)])
        self.assertEqual(pt.overlap(runs, "missing"), {"lead": [], "random": []})


if __name__ == "__main__":
    unittest.main()
