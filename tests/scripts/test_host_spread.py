"""scripts/host_spread.py on hand-made records: pairing by record name, differences, the seed SD.
Standard library only; run from the repository root: python3 -m unittest discover -s tests/scripts"""
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import host_spread as hs  # noqa: E402


def record(name, seed, scores, average, uids, device, loss):
    return {"name": name, "seed": seed, "device": device, "machine": "vm, 2 cores",
            "suite_order": ["syn_mmlu", "syn_gsm8k"],
            "suites": {"syn_mmlu": {"value": scores[0]}, "syn_gsm8k": {"value": scores[1]}},
            "average": {"value": average}, "selected": {"uids": uids}, "base_model": {"final_loss": loss}}


class HostSpread(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.a = os.path.join(self.tmp.name, "a")
        self.b = os.path.join(self.tmp.name, "b")
        os.makedirs(self.a)
        os.makedirs(self.b)

        def put(folder, file, rec):
            with open(os.path.join(folder, file), "w") as f:
                json.dump(rec, f)

        put(self.a, "random-s1-h1.json", record("random", 1, [30, 20], 25, ["x", "y"], "OpenBLAS SkylakeX", 0.45055))
        put(self.b, "random-s1-h1.json", record("random", 1, [35, 16], 25.5, ["x", "y"], "OpenBLAS Cooperlake", 0.45050))
        put(self.a, "random-s2-h2.json", record("random", 2, [20, 10], 15, ["z"], "OpenBLAS SkylakeX", 0.45055))
        put(self.b, "lead-s1-h3.json", record("lead", 1, [10, 10], 10, ["z"], "OpenBLAS Cooperlake", 0.45050))
        put(self.a, "_sweep_plan.json", {"runs": []})  # not a record: ignored

    def tearDown(self):
        self.tmp.cleanup()

    def test_pairs_only_names_in_both_with_b_minus_a(self):
        rows = hs.pairs(hs.load_dir(self.a), hs.load_dir(self.b))
        self.assertEqual([r["record"] for r in rows], ["random-s1-h1.json"])
        r = rows[0]
        self.assertTrue(r["same_ids"])
        self.assertEqual(r["suites"]["syn_mmlu"], (30, 35, 5))
        self.assertEqual(r["suites"]["syn_gsm8k"], (20, 16, -4))
        self.assertEqual(r["average"], (25, 25.5, 0.5))
        self.assertEqual(hs.summary(rows), {"average": 0.5, "syn_mmlu": 5, "syn_gsm8k": 4})

    def test_seed_spread_is_the_sample_sd_over_seeds(self):
        spread = hs.seed_spread(hs.load_dir(self.a))
        # averages 25 and 15: mean 20, sample SD sqrt((25 + 25) / 1) = 7.071
        self.assertEqual(spread["random"][0], 2)
        self.assertAlmostEqual(spread["random"][1], 7.0710678, places=6)
        self.assertNotIn("lead", spread)

    def test_main_prints_and_fails_clearly_without_common_records(self):
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(hs.main([self.a, self.b]), 0)
        self.assertIn("B-A   +5.00", out.getvalue())
        self.assertIn("SkylakeX", out.getvalue())
        empty = os.path.join(self.tmp.name, "empty")
        os.makedirs(empty)
        with self.assertRaises(SystemExit) as e:
            hs.main([self.a, empty])
        self.assertIn("no record name is in both", str(e.exception.code))
        with self.assertRaises(SystemExit) as e:
            hs.main([self.a, os.path.join(self.tmp.name, "missing")])
        self.assertIn("not a folder", str(e.exception.code))


if __name__ == "__main__":
    unittest.main()
