// EXP3 / EXP3.S / uniform bandit against values computed by hand.
#include "lead/bandit.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace lb;

TEST_CASE("EXP3 weights and probabilities follow a hand-computed reward sequence", "[lead][bandit]") {
  Exp3Bandit b(3, 0.1);
  for (double p : b.probabilities()) CHECK(p == Approx(1.0 / 3));

  // 1) arm 0, reward 5: a single reward normalises to 0, so w0 *= exp(0) = 1.
  CHECK(b.update(0, 5.0) == Approx(0.0));
  CHECK(b.weights()[0] == Approx(1.0));
  // 2) arm 1, reward 7: history [5, 7] -> r_hat = 2 (7-5)/(7-5) - 1 = 1; p1 = 1/3,
  //    w1 = exp(0.1 * 1 / (3 * 1/3)) = exp(0.1) = 1.1051709180756477.
  CHECK(b.update(1, 7.0) == Approx(1.0));
  CHECK(b.weights()[1] == Approx(1.1051709180756477).epsilon(1e-12));
  // p2 = 0.9 * 1 / (2 + exp(0.1)) + 0.1/3 = 0.3231724512900842
  CHECK(b.probabilities()[2] == Approx(0.3231724512900842).epsilon(1e-12));
  // 3) arm 2, reward 5: r_hat = -1; w2 = exp(-0.1 / (3 * 0.3231724512900842)) = 0.9019969816049918.
  CHECK(b.update(2, 5.0) == Approx(-1.0));
  CHECK(b.weights()[2] == Approx(0.9019969816049918).epsilon(1e-12));
  // 4) arm 1, reward 6: r_hat = 2 (6-5)/2 - 1 = 0: w1 unchanged.
  CHECK(b.update(1, 6.0) == Approx(0.0));
  CHECK(b.weights()[1] == Approx(1.1051709180756477).epsilon(1e-12));
  const auto p = b.probabilities();
  CHECK(p[0] == Approx(0.3326182519092399).epsilon(1e-12));
  CHECK(p[1] == Approx(0.36409432156206345).epsilon(1e-12));
  CHECK(p[2] == Approx(0.3032874265286968).epsilon(1e-12));
  CHECK(p[0] + p[1] + p[2] == Approx(1.0));
  CHECK(b.reward_history().size() == 4);
}

TEST_CASE("EXP3.S share term adds e*alpha/K of the total weight to every arm", "[lead][bandit]") {
  Exp3Bandit b(2, 0.2, 0.1);
  // arm 0, reward 1 (r_hat 0): w = 1 + e*0.1/2*2 = 1.2718281828459046 for both arms.
  b.update(0, 1.0);
  CHECK(b.weights()[0] == Approx(1.2718281828459046).epsilon(1e-12));
  CHECK(b.weights()[1] == Approx(1.2718281828459046).epsilon(1e-12));
  // arm 1, reward 3 (r_hat 1, p1 = 0.5): w1 = 1.27183 exp(0.2/(2*0.5)) + e*0.1/2*2.54366.
  b.update(1, 3.0);
  CHECK(b.weights()[0] == Approx(1.6175469266811158).epsilon(1e-12));
  CHECK(b.weights()[1] == Approx(1.899133194269036).epsilon(1e-12));
  CHECK(b.probabilities()[1] == Approx(0.5320286472358299).epsilon(1e-12));
}

TEST_CASE("uniform bandit ignores rewards, retired arms are never drawn", "[lead][bandit]") {
  Exp3Bandit b(3, 0.1, 0.0, /*uniform=*/true);
  b.update(0, 1.0);
  b.update(0, 10.0);
  for (double p : b.probabilities()) CHECK(p == Approx(1.0 / 3));
  for (double w : b.weights()) CHECK(w == 1.0);
  b.retire(1);
  auto p = b.probabilities();
  CHECK(p[0] == Approx(0.5));
  CHECK(p[1] == 0.0);
  CHECK(p[2] == Approx(0.5));
  Rng rng(7);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 4000; ++i) ++counts[b.draw(rng)];
  CHECK(counts[1] == 0);
  CHECK(counts[0] == Approx(2000).margin(200));
  b.retire(0);
  b.retire(2);
  CHECK(b.live_count() == 0);
  CHECK(b.draw(rng) == -1);
}

TEST_CASE("EXP3 draws are deterministic for a seed and follow the probabilities", "[lead][bandit]") {
  Exp3Bandit b(4, 0.1);
  b.update(2, 0.0);
  b.update(2, 1.0);  // arm 2 favoured
  Rng r1(11), r2(11);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 20000; ++i) {
    const int a = b.draw(r1);
    REQUIRE(a == b.draw(r2));
    ++counts[a];
  }
  const auto p = b.probabilities();
  for (int a = 0; a < 4; ++a) CHECK(counts[a] / 20000.0 == Approx(p[a]).margin(0.015));
  CHECK(p[2] > p[0]);
}

TEST_CASE("EXP3 rejects bad parameters and non-finite rewards", "[lead][bandit]") {
  CHECK_THROWS(Exp3Bandit(0, 0.1));
  CHECK_THROWS(Exp3Bandit(3, 0.0));
  CHECK_THROWS(Exp3Bandit(3, 0.1, 1.5));
  Exp3Bandit b(2, 0.1);
  CHECK_THROWS(b.update(0, std::nan("")));
  CHECK_THROWS(b.update(5, 1.0));
}
