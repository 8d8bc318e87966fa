"""scripts/lead_rounds.py on a hand-made record. Standard library only."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import lead_rounds as lr  # noqa: E402


def rnd(stage, cluster, selected, new, probs):
    return {"stage": stage, "cluster": cluster, "selected": selected, "new_unique": new, "probabilities": probs}


class Summary(unittest.TestCase):
    def test_selection_stage_only(self):
        rec = {"selected": {"uids": ["a", "b"]}, "telemetry": {"rounds": [
            rnd("select", 2, 32, 32, [0.5, 0.5]), rnd("select", 0, 16, 12, [0.4, 0.6]),
            rnd("consolidate", 1, 32, 0, [0.1, 0.9])]}}
        s = lr.summarise(rec)
        self.assertEqual(s["rounds"], 2)
        self.assertEqual(s["sizes"], [16, 32])
        self.assertEqual(s["repeats"], 4)
        self.assertEqual(s["clusters"], [2, 0])
        self.assertEqual((s["p_min"], s["p_max"]), (0.4, 0.6))  # the consolidation round's 0.9 left out
        self.assertEqual(s["uids"], {"a", "b"})

    def test_records_without_lead_rounds_are_skipped(self):
        self.assertIsNone(lr.summarise({"telemetry": {"rounds": [{"epochs": 1}]}}))
        self.assertIsNone(lr.summarise({"telemetry": {}}))


if __name__ == "__main__":
    unittest.main()
