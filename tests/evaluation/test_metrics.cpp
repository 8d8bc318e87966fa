// Metric functions on hand-checked cases: mean and SE, last number (GSM8K), pass@k against values
// computed by hand from binomials, SQuAD normalisation / F1 / EM, MMLU categories.
#include "evaluation/metrics.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <cmath>

using namespace lb;

TEST_CASE("metrics: mean with standard error, and the average of scores") {
  // values 1,0,1,1: mean .75; sample variance (3 * .25^2 + .75^2) / 3 = .25, so SE = .5 / sqrt(4)
  Score s = mean_score({1, 0, 1, 1});
  CHECK(s.value == Approx(75.0));
  CHECK(s.stderr_ == Approx(100 * std::sqrt(0.25) / 2.0));
  CHECK(s.n == 4);
  Score one = mean_score({1});
  CHECK(one.stderr_ == 0);
  Score a{50, 3, 10}, b{70, 4, 20};
  Score avg = average_of_scores({a, b});
  CHECK(avg.value == Approx(60));
  CHECK(avg.stderr_ == Approx(2.5));  // sqrt(9 + 16) / 2
  CHECK(avg.n == 30);
}

TEST_CASE("metrics: last number of a generation") {
  CHECK(last_number("So she has 23 - 15 dollars left. 23 - 15 is 8.").value() == "8");
  CHECK(last_number("The answer is 1,234.").value() == "1234");
  CHECK(last_number("It costs $1,000,000 in total").value() == "1000000");
  CHECK(last_number("The temperature is -5 degrees").value() == "-5");
  CHECK(last_number("He owes $-3").value() == "-3");
  CHECK(last_number("He owes -$3.50").value() == "-3.5");
  CHECK(last_number("pi is about 3.14").value() == "3.14");
  CHECK(last_number("about .5 of it").value() == "0.5");
  CHECK(last_number("5-3").value() == "3");
  CHECK(last_number("values 3, 4, 5").value() == "5");
  CHECK(last_number("18.00").value() == "18");
  CHECK_FALSE(last_number("no digits here").has_value());
  CHECK(gsm8k_gold_answer("step <<2*3=6>>6\n#### 1,200").value() == "1200");
  CHECK_FALSE(gsm8k_gold_answer("no marker").has_value());
  CHECK(numbers_equal("18", "18.0"));
  CHECK(numbers_equal("-0", "0"));
  CHECK_FALSE(numbers_equal("18", "81"));
}

TEST_CASE("metrics: pass@k, unbiased estimator, against hand values") {
  // 1 - C(n-c,k)/C(n,k)
  CHECK(pass_at_k(20, 0, 10) == Approx(0.0));
  CHECK(pass_at_k(20, 20, 10) == Approx(1.0));
  CHECK(pass_at_k(5, 1, 1) == Approx(0.2));
  CHECK(pass_at_k(5, 2, 2) == Approx(1.0 - 3.0 / 10.0));      // C(3,2)/C(5,2) = 3/10
  CHECK(pass_at_k(10, 3, 5) == Approx(1.0 - 21.0 / 252.0));   // C(7,5)=21, C(10,5)=252
  CHECK(pass_at_k(20, 1, 10) == Approx(0.5));                 // C(19,10)/C(20,10) = 10/20
  CHECK(pass_at_k(20, 11, 10) == Approx(1.0));                // n - c < k
  CHECK(pass_at_k(200, 7, 100) == Approx(1.0 - std::exp(std::lgamma(194) - std::lgamma(94) - std::lgamma(101) -
                                                          (std::lgamma(201) - std::lgamma(101) - std::lgamma(101)))));
  CHECK_THROWS(pass_at_k(5, 6, 1));
  CHECK_THROWS(pass_at_k(5, 1, 6));
}

TEST_CASE("metrics: SQuAD normalisation, F1 and exact match") {
  CHECK(squad_normalize("The  Cat, sat!") == "cat sat");
  CHECK(squad_normalize("an apple a day") == "apple day");
  CHECK(squad_normalize("theory") == "theory");  // whole words only
  CHECK(squad_normalize("Москва́ ГОРОД") == "москва́ город");
  CHECK(squad_normalize("  \xC2\xA0 x  ") == "x");  // no-break space is white space
  CHECK(squad_exact("the Eiffel Tower", "Eiffel tower.") == 1.0);
  CHECK(squad_exact("Eiffel", "Eiffel Tower") == 0.0);
  // pred "eiffel tower paris" vs gold "eiffel tower": p = 2/3, r = 1, f1 = 0.8
  CHECK(squad_f1("Eiffel Tower, Paris", "the Eiffel Tower") == Approx(0.8));
  CHECK(squad_f1("nothing", "Eiffel") == 0.0);
  CHECK(squad_f1("a b b", "b b c") == Approx(0.8));  // "a" is an article: pred "b b" (p = 1), gold "b b c" (r = 2/3)
  CHECK(squad_max_f1("1990", {"in 1990", "1990"}) == Approx(1.0));
  CHECK(squad_max_exact("1990", {"in 1990", "1991"}) == 0.0);
  CHECK(squad_max_f1("x", {}) == 0.0);
}

TEST_CASE("metrics: MMLU subject categories") {
  CHECK(mmlu_subjects().size() == 57);
  int stem = 0, hum = 0, soc = 0, other = 0;
  for (const auto& s : mmlu_subjects()) {
    std::string c = mmlu_category(s);
    stem += c == "STEM";
    hum += c == "humanities";
    soc += c == "social sciences";
    other += c == "other";
  }
  CHECK(stem == 18);
  CHECK(hum == 13);
  CHECK(soc == 12);
  CHECK(other == 14);
  CHECK(mmlu_category("professional_law") == "humanities");
  CHECK(mmlu_category("no_such_subject") == "");
}
