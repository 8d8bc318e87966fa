// Tests of the tiny language of syn_humaneval: values, errors with positions, and the limits that
// keep untrusted model-written code from hanging or crashing the evaluator.
#include "evaluation/tiny_lang.h"

#include <catch2/catch.hpp>

#include <string>

using namespace lb::tiny;

namespace {
int64_t eval_ok(const std::string& program, const std::string& expr) {
  ParseResult p = parse_program(program);
  INFO(p.error);
  REQUIRE(p.ok);
  RunResult r = evaluate(p.program, expr);
  INFO(r.error);
  REQUIRE(r.ok);
  return r.value;
}
std::string parse_error(const std::string& program) {
  ParseResult p = parse_program(program);
  REQUIRE_FALSE(p.ok);
  return p.error;
}
}  // namespace

TEST_CASE("tiny_lang evaluates arithmetic with precedence and C-style division") {
  CHECK(eval_ok("", "1 + 2 * 3") == 7);
  CHECK(eval_ok("", "(1 + 2) * 3") == 9);
  CHECK(eval_ok("", "10 - 4 - 3") == 3);  // left associative
  CHECK(eval_ok("", "-7 / 2") == -3);     // truncation toward zero
  CHECK(eval_ok("", "-7 % 2") == -1);
  CHECK(eval_ok("", "- - 5") == 5);
  CHECK(eval_ok("", "3 < 4") == 1);
  CHECK(eval_ok("", "3 >= 4") == 0);
  CHECK(eval_ok("", "1 == 1 and 2 != 2") == 0);
  CHECK(eval_ok("", "0 or 5 > 2") == 1);
  CHECK(eval_ok("", "not 0") == 1);
  CHECK(eval_ok("", "if 2 > 1 then 10 else 20") == 10);
}

TEST_CASE("tiny_lang functions, recursion and definitions in any order") {
  const std::string prog =
      "# helpers\n"
      "def f(x) = 3 * x + 1\n"
      "def g(x, y) = if x > y then x else y; def fact(n) = if n < 2 then 1 else n * fact(n - 1)\n"
      "def first(n) = second(n) + 1\n"
      "def second(n) = n * 2\n";
  CHECK(eval_ok(prog, "f(2)") == 7);
  CHECK(eval_ok(prog, "g(3, 9)") == 9);
  CHECK(eval_ok(prog, "g(-1, -5)") == -1);
  CHECK(eval_ok(prog, "fact(6)") == 720);
  CHECK(eval_ok(prog, "first(4)") == 9);
  ParseResult p = parse_program(prog);
  REQUIRE(p.ok);
  RunResult r = call_function(p.program, "g", {4, 2});
  REQUIRE(r.ok);
  CHECK(r.value == 4);
  CHECK(r.steps > 0);
}

TEST_CASE("tiny_lang reports parse errors with line and column") {
  CHECK(parse_error("def f(x) = x +").find("line 1, column 15") != std::string::npos);
  CHECK(parse_error("def f(x) = x +\n").find("expected a number") != std::string::npos);
  CHECK(parse_error("def f(x) = y").find("unknown variable 'y'") != std::string::npos);
  CHECK(parse_error("def f(x) = g(x)").find("undefined function 'g'") != std::string::npos);
  CHECK(parse_error("def f(x) = x\ndef h(x) = f(x, 1)").find("line 2") != std::string::npos);
  CHECK(parse_error("def f(x) = if x then 1").find("'else'") != std::string::npos);
  CHECK(parse_error("def f(x) = 1 < 2 < 3").find("do not chain") != std::string::npos);
  CHECK(parse_error("def f(x, x) = x").find("appears twice") != std::string::npos);
  CHECK(parse_error("def f(x) = x\ndef f(y) = y").find("defined twice") != std::string::npos);
  CHECK(parse_error("def f(x) = x $ 2").find("unexpected character '$'") != std::string::npos);
  CHECK(parse_error("def f(x) = 99999999999999999999").find("too large") != std::string::npos);
  CHECK(parse_error("print(1)").find("expected 'def'") != std::string::npos);
  CHECK_FALSE(parse_program("def f(x) = \xff").ok);
  // Model output is often garbage: none of these may crash.
  for (const char* junk : {"", "def", "def f", "def f(", "def f(x", "def f(x)", "def f(x) =", "((((", "def f(x) = (x",
                           "def f(x) = x)", "def 1(x) = x", "def f(x) = 1x", "def f(,) = 1", "def f(x) = f("}) {
    ParseResult p = parse_program(junk);
    if (std::string(junk).empty()) {
      CHECK(p.ok);  // an empty program is valid; it just defines nothing
    } else {
      CHECK_FALSE(p.ok);
      CHECK_FALSE(p.error.empty());
    }
  }
}

TEST_CASE("tiny_lang stops endless recursion, deep nesting and overflow with errors") {
  Limits lim;
  lim.max_steps = 5000;
  ParseResult p = parse_program("def loop(x) = loop(x)\ndef up(x) = up(x + 1) + 1\ndef wide(n) = if n < 1 then 0 else wide(n - 1) + wide(n - 1)", lim);
  REQUIRE(p.ok);
  RunResult r = evaluate(p.program, "loop(1)", lim);
  CHECK_FALSE(r.ok);
  CHECK((r.error.find("depth") != std::string::npos || r.error.find("step") != std::string::npos));
  r = evaluate(p.program, "up(0)", lim);
  CHECK_FALSE(r.ok);
  // Shallow but exponential: only the step budget stops it.
  r = evaluate(p.program, "wide(40)", lim);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("step limit of 5000") != std::string::npos);
  CHECK(r.steps <= lim.max_steps + 1);

  std::string deep = "def f(x) = ";
  for (int i = 0; i < 500; ++i) deep += "(";
  deep += "x";
  for (int i = 0; i < 500; ++i) deep += ")";
  CHECK(parse_error(deep).find("nested too deeply") != std::string::npos);
  std::string chain = "def f(x) = x";
  for (int i = 0; i < 1000; ++i) chain += " + 1";
  CHECK(parse_error(chain).find("levels deep") != std::string::npos);
  CHECK(parse_error(std::string(10000, ' ')).find("exceeds the limit") != std::string::npos);

  ParseResult q = parse_program("def big(x) = x * x * x * x * x");
  REQUIRE(q.ok);
  r = evaluate(q.program, "big(100000)");
  CHECK_FALSE(r.ok);
  CHECK(r.error == "integer overflow");
  r = evaluate(q.program, "1 / 0");
  CHECK_FALSE(r.ok);
  CHECK(r.error == "division by zero");
  r = evaluate(q.program, "5 % (2 - 2)");
  CHECK(r.error == "division by zero");
}

TEST_CASE("tiny_lang hidden tests pass the right program and fail wrong ones") {
  const std::string tests = "# hidden tests\nf(2) == 7\n\nf(0) == 1\nf(-3) == -8\n";
  TestReport good = run_tests("def f(x) = 3 * x + 1", tests, "f");
  CHECK(good.passed);
  CHECK(good.tests == 3);
  CHECK(good.tests_passed == 3);
  TestReport wrong = run_tests("def f(x) = 3 * x + 2", tests, "f");
  CHECK_FALSE(wrong.passed);
  CHECK(wrong.tests_passed == 0);
  CHECK(wrong.error.find("is false") != std::string::npos);
  TestReport partly = run_tests("def f(x) = if x > 0 then 3 * x + 1 else 1", tests, "f");
  CHECK_FALSE(partly.passed);
  CHECK(partly.tests_passed == 2);
  TestReport syntax = run_tests("def f(x) = 3 * ", tests, "f");
  CHECK_FALSE(syntax.passed);
  CHECK(syntax.error.find("does not parse") != std::string::npos);
  TestReport other_name = run_tests("def g(x) = 3 * x + 1", tests, "f");
  CHECK_FALSE(other_name.passed);
  TestReport loops = run_tests("def f(x) = f(x)", tests, "f");
  CHECK_FALSE(loops.passed);
  CHECK_FALSE(run_tests("def f(x) = x", "", "f").passed);  // no tests: nothing is proven
}
