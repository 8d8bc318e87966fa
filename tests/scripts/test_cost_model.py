"""Arithmetic of scripts/cost_model.py against hand-computed values and committed records' counts.
Standard library only; run from the repository root: python3 -m unittest discover -s tests/scripts"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import cost_model as cm  # noqa: E402

SMALL = {"d_model": 192, "n_layers": 4, "n_heads": 6, "n_kv_heads": 6, "d_ff": 512, "vocab_size": 263}


def settings(**kw):
    s = {"selector": "random", "pool": 4000, "budget": 100, "epochs": 3, "batch": 16, "rounds": 1,
         "perturbations": 2, "drop_rate": 0.2, "ifd_warmup_fraction": 0.01, "ifd_warmup_min_samples": 16,
         "ifd_warmup_epochs": 1, "lead_warmup_fraction": 0.01, "lead_warmup_epochs": 4, "lead_max_uses": 4,
         "lead_match_compute": True, "lead_reward": "learning_progress", "lead_dev_samples": 64,
         "lead_rounds": 65, "d_model": 192, "t_full": 80.0, "t_resp": 20.0, "t_prompt": 60.0}
    s.update(kw)
    return s


class ModelArithmetic(unittest.TestCase):
    def test_matmul_weights_small_model(self):
        # benchmarks/README.md: "2 x 1 819 968 weights" for the CPU model (4 x 442 368 + 192 x 263)
        self.assertEqual(cm.matmul_weights(SMALL), 1819968)

    def test_matmul_weights_llama_31_8b(self):
        # per layer: q 4096^2, k and v 4096 x 1024 each, o 4096^2, MLP 3 x 4096 x 14336; head 4096 x 128256
        per_layer = 4096 * 4096 * 2 + 2 * 4096 * 1024 + 3 * 4096 * 14336
        self.assertEqual(per_layer, 218103808)
        self.assertEqual(cm.matmul_weights(cm.LLAMA_31_8B), 32 * per_layer + 4096 * 128256)
        self.assertEqual(cm.matmul_weights(cm.LLAMA_31_8B), 7504658432)

    def test_forward_flops_attention_term(self):
        # benchmarks/README.md: 3.92 MFLOP a token at ~90 keys for the CPU model
        self.assertAlmostEqual(cm.forward_flops_per_token(SMALL, 90) / 1e6, 3.92, places=2)
        self.assertEqual(cm.forward_flops_per_token(SMALL, 0), 2 * 1819968)

    def test_split_evenly_matches_records(self):
        # round_sizes of results/scaling prompt_uncertainty (budget 100, 6 parts) and diverse_evol (11 parts)
        self.assertEqual(cm.split_evenly(100, 6), [17, 17, 17, 17, 16, 16])
        self.assertEqual(cm.split_evenly(100, 11), [10] + [9] * 10)
        self.assertEqual(sum(cm.split_evenly(15000, 7)), 15000)


class TokenModel(unittest.TestCase):
    def test_iterative_ifd_scores_the_remaining_pool(self):
        # results/scaling iterative_ifd at pool 4000: telemetry scoring_samples = 39600
        w = cm.token_model(settings(selector="iterative_ifd", rounds=5))
        self.assertEqual(w["selection_inference"]["samples"], 2 * (4000 + 3980 + 3960 + 3940 + 3920))
        self.assertEqual(w["selection_inference"]["samples"], 39600)
        self.assertAlmostEqual(w["selection_inference"]["tokens"], 19800 * 100.0)

    def test_prompt_uncertainty_scores_with_perturbations(self):
        # results/scaling prompt_uncertainty at pool 4000: scoring_samples = 59238 = 3 x 19746
        w = cm.token_model(settings(selector="prompt_uncertainty", rounds=5))
        self.assertEqual(w["selection_inference"]["samples"], 59238)
        per = 80.0 + 2 * (80.0 - 0.2 * 60.0)
        self.assertAlmostEqual(w["selection_inference"]["tokens"], 19746 * per)

    def test_diverse_evol_embeds_the_whole_pool_each_round(self):
        w = cm.token_model(settings(selector="diverse_evol", rounds=10))
        self.assertEqual(w["selection_inference"]["samples"], 40000)  # the record's scoring_samples
        self.assertEqual(w["training"]["steps"], 33)  # 11 rounds of 9-10 picks, 3 epochs: the record's 33

    def test_lead_offline_stage_and_steps(self):
        w = cm.token_model(settings(selector="lead"))
        self.assertEqual(w["offline_inference"]["samples"], 12000)  # the record's 3 x 4000
        self.assertEqual(w["offline_training"]["samples"], 160)     # 1 % x 4 epochs
        self.assertEqual(w["training"]["samples"], 300)             # budget x min(epochs, max_uses)
        self.assertEqual(w["training"]["steps"], 65)                # rounds of < 16 samples: one step each
        self.assertEqual(cm.lead_steps(12, 15000 * 3, 16), 12 * 235)

    def test_static_selector_steps(self):
        w = cm.token_model(settings(selector="random"))
        self.assertEqual(w["training"]["steps"], 21)  # 3 x ceil(100 / 16), the record's optimizer_steps


class AgainstCommittedRecords(unittest.TestCase):
    """The token model against the harness's own counters in the committed records: every scoring pass
    (offline and per-round inference) within 5 %. A selector whose algorithm changes makes this fail,
    which is the point: the cost model must change with it."""

    def test_scoring_tokens_match_the_records(self):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        dirs = [os.path.join(root, d) for d in cm.DEFAULT_RESULTS]
        if not all(os.path.isdir(d) for d in dirs):
            self.skipTest("SKIPPED: committed records not found under results/")
        records = [r for r in cm.load_records(dirs) if cm.threads_of(r) == 1]
        stats, _ = cm.pool_token_stats(records)
        checked = 0
        for r in records:
            pred = cm.token_model(cm.settings_of(r, stats))
            for ph in cm.INFERENCE_PHASES:
                obs = r["phases"].get(ph, {}).get("forward_tokens", 0)
                if obs == 0:
                    self.assertEqual(pred.get(ph, {"tokens": 0})["tokens"], 0, (r["_path"], ph))
                    continue
                self.assertLess(abs(pred[ph]["tokens"] / obs - 1), 0.05, (r["_path"], ph))
                self.assertEqual(pred[ph]["samples"], r["phases"][ph]["samples"], (r["_path"], ph))
                checked += 1
        self.assertGreater(checked, 100)


class Fitting(unittest.TestCase):
    def test_solve(self):
        x = cm.solve([[2.0, 1.0], [1.0, 3.0], [0.0, 1.0]], [5.0, 10.0, 3.0])
        self.assertAlmostEqual(x[0], 1.0)
        self.assertAlmostEqual(x[1], 3.0)

    def test_fit_recovers_known_rates(self):
        truth = {"inf_flops": 2e-11, "inf_elem": 0.0, "train_flops": 3e-11, "train_elem": 0.0, "steps": 0.01}
        rows = []
        for i in range(1, 9):
            for kind in ("inf", "train"):
                f = dict.fromkeys(cm.FEATURES, 0.0)
                f[kind + "_flops"] = 1e9 * i * (1 + (i % 3))
                f[kind + "_elem"] = 1e3 * i * (1 + (i % 2))
                if kind == "train":
                    f["steps"] = 3 * i + (i % 4)
                rows.append((f, cm.predict_seconds(dict(dict.fromkeys(cm.FEATURES, 0.0), **truth), f)))
        coef = cm.fit_relative(rows)
        for k, v in truth.items():
            self.assertAlmostEqual(coef[k], v, delta=1e-6 * max(v, 1e-12) + 1e-15)

    def test_closed_form_agrees_with_token_model(self):
        for sel in cm.ITERATIVE:
            exact = cm.paper_ratios(cm.PAPER, 1.3)[sel]
            self.assertAlmostEqual(cm.closed_form_multiple(sel, cm.PAPER, 1.3) / exact, 1.0, delta=0.01)

    def test_multiple_grows_with_rounds(self):
        q = dict(cm.PAPER)
        prev = 0.0
        for R in (1, 5, 10, 20):
            q["diverse_evol_rounds"] = R
            m = cm.paper_ratios(q, 1.0)["diverse_evol"]
            self.assertGreater(m, prev)
            prev = m


if __name__ == "__main__":
    unittest.main()
