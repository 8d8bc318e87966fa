// Tests of the pure ranking rules behind the baselines: top-k with deterministic ties, IFD and
// Cherry's "top IFD below 1" rule, AIT's prompt uncertainty, even budget splits, prompt perturbation.
#include "baselines/iterative_selectors.h"
#include "baselines/ranking.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace lb;

TEST_CASE("top_k_by_score ranks by score, ties by smaller id, NaN last", "[ranking]") {
  std::vector<SampleId> ids = {10, 3, 7, 5, 1};
  std::vector<double> s = {0.5, 0.9, 0.9, std::nan(""), 0.1};
  CHECK(top_k_by_score(ids, s, 3, true) == std::vector<SampleId>{3, 7, 10});
  CHECK(top_k_by_score(ids, s, 3, false) == std::vector<SampleId>{1, 10, 3});
  CHECK(top_k_by_score(ids, s, 5, true).back() == 5);   // NaN after every number
  CHECK(top_k_by_score(ids, s, 5, false).back() == 5);
  CHECK(top_k_by_score(ids, s, 9, true).size() == 5);   // k larger than the candidates
  CHECK(top_k_by_score(ids, s, 0, true).empty());
  // Same input in another order: same answer (ties do not depend on input order).
  std::vector<SampleId> ids2 = {7, 1, 5, 3, 10};
  std::vector<double> s2 = {0.9, 0.1, std::nan(""), 0.9, 0.5};
  CHECK(top_k_by_score(ids2, s2, 3, true) == std::vector<SampleId>{3, 7, 10});
  CHECK_THROWS(top_k_by_score(ids, {1.0}, 1, true));
}

TEST_CASE("ifd_scores divides conditioned by response-only loss, invalid -> NaN", "[ranking]") {
  auto ifd = ifd_scores({1.0f, 2.0f, NAN, 1.0f, 3.0f}, {2.0f, 1.0f, 1.0f, 0.0f, INFINITY});
  REQUIRE(ifd.size() == 5);
  CHECK(ifd[0] == Approx(0.5));
  CHECK(ifd[1] == Approx(2.0));
  CHECK(std::isnan(ifd[2]));
  CHECK(std::isnan(ifd[3]));
  CHECK(std::isnan(ifd[4]));
}

TEST_CASE("select_top_ifd keeps the highest IFD below 1 and skips IFD >= 1", "[ranking]") {
  std::vector<SampleId> ids = {0, 1, 2, 3, 4, 5};
  std::vector<double> ifd = {0.2, 1.5, 0.95, 1.0, std::nan(""), 0.6};
  int64_t filled = -1;
  CHECK(select_top_ifd(ids, ifd, 2, &filled) == std::vector<SampleId>{2, 5});
  CHECK(filled == 0);
  CHECK(select_top_ifd(ids, ifd, 3, &filled) == std::vector<SampleId>{2, 5, 0});
  // Not enough IFD < 1: fill with the lowest IFD >= 1, then invalid ones.
  auto all = select_top_ifd(ids, ifd, 6, &filled);
  CHECK(all == std::vector<SampleId>{2, 5, 0, 3, 1, 4});
  CHECK(filled == 3);
}

TEST_CASE("prompt_uncertainty is the mean |p_perturbed - p_original| with p = exp(-loss)", "[ranking]") {
  double p0 = std::exp(-1.0);
  double expect = (std::fabs(std::exp(-0.5) - p0) + std::fabs(std::exp(-2.0) - p0)) / 2;
  CHECK(prompt_uncertainty(1.0f, {0.5f, 2.0f}) == Approx(expect));
  CHECK(prompt_uncertainty(1.0f, {1.0f, 1.0f}) == Approx(0.0));
  CHECK(prompt_uncertainty(1.0f, {0.5f, NAN, 2.0f}) == Approx(expect));  // non-finite skipped
  CHECK(std::isnan(prompt_uncertainty(NAN, {1.0f})));
  CHECK(std::isnan(prompt_uncertainty(1.0f, {})));
}

TEST_CASE("split_evenly sums to the total and differs by at most one", "[ranking]") {
  auto s = split_evenly(17, 5);
  CHECK(s == std::vector<int64_t>{4, 4, 3, 3, 3});
  CHECK(split_evenly(3, 3) == std::vector<int64_t>{1, 1, 1});
  CHECK_THROWS(split_evenly(3, 0));
}

TEST_CASE("drop_instruction_tokens drops only instruction bytes, deterministically", "[ranking]") {
  Encoded seq;
  // BOS USER 'a' 'b' 'c' 'd' END ASSISTANT 'x' 'y' END
  seq.ids = {257, 260, 'a', 'b', 'c', 'd', 262, 261, 'x', 'y', 262};
  seq.loss_mask = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
  Rng r1(42), r2(42);
  auto a = drop_instruction_tokens(seq, 0.5, r1);
  auto b = drop_instruction_tokens(seq, 0.5, r2);
  CHECK(a.ids == b.ids);
  CHECK(a.target_count() == seq.target_count());  // response intact
  for (int32_t special : {257, 260, 262, 261}) CHECK(std::count(a.ids.begin(), a.ids.end(), special) >= 1);
  Rng r3(1);
  auto none = drop_instruction_tokens(seq, 0.0, r3);
  CHECK(none.ids == seq.ids);
  auto all = drop_instruction_tokens(seq, 1.0, r3);
  CHECK(all.ids == std::vector<int32_t>{257, 260, 262, 261, 'x', 'y', 262});
  // Over many draws about half the 4 instruction bytes go.
  Rng r4(7);
  int64_t kept = 0;
  for (int i = 0; i < 1000; ++i) kept += drop_instruction_tokens(seq, 0.2, r4).ids.size() - 7;
  CHECK(kept / 4000.0 == Approx(0.8).margin(0.03));
}

TEST_CASE("split_in_batches: whole batches per round, the remainder last, the static protocol's steps", "[ranking]") {
  // Budget 418, 5 rounds, batch 16: 26 whole batches -> 6, 5, 5, 5, 5, and 418 mod 16 = 2 to the last.
  const auto s = split_in_batches(418, 5, 16);
  CHECK(s == std::vector<int64_t>{96, 80, 80, 80, 82});
  int64_t steps = 0, total = 0;
  for (int64_t k : s) {
    steps += (k + 15) / 16;
    total += k;
  }
  CHECK(total == 418);
  CHECK(steps == (418 + 15) / 16);  // one pass over the rounds = one pass over the budget: 27 steps
  // split_evenly's 84, 84, 84, 83, 83 would take 6 steps a round: 30.
  int64_t even_steps = 0;
  for (int64_t k : split_evenly(418, 5)) even_steps += (k + 15) / 16;
  CHECK(even_steps == 30);
  CHECK(split_in_batches(64, 4, 16) == std::vector<int64_t>{16, 16, 16, 16});
  // Fewer whole batches than rounds, or no batch size: split_evenly.
  CHECK(split_in_batches(75, 5, 16) == split_evenly(75, 5));
  CHECK(split_in_batches(75, 5, 0) == split_evenly(75, 5));
  CHECK_THROWS(split_in_batches(10, 0, 16));
}
