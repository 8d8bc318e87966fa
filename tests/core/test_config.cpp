// Config mechanism: defaults, JSON overrides, key=value overrides, and errors that name key and source.
#include "core/config.h"
#include "core/json_io.h"

#include <catch2/catch.hpp>

namespace {
struct Inner {
  int n = 3;
  std::vector<double> xs = {1.0};
  template <class V> void visit(V& v) {
    v.field("n", n, "a count");
    v.field("xs", xs, "some numbers");
  }
};
struct Outer {
  double lr = 1e-3;
  std::string name = "a";
  bool flag = false;
  Inner inner;
  template <class V> void visit(V& v) {
    v.field("lr", lr, "learning rate");
    v.field("name", name, "a name");
    v.field("flag", flag, "a switch");
    v.section("inner", inner, "nested");
  }
};
}  // namespace

TEST_CASE("config: JSON and key=value override defaults") {
  Outer c;
  lb::config_apply_json(c, nlohmann::json::parse(R"({"lr": 0.5, "inner": {"n": 7}})"), "f.json");
  CHECK(c.lr == 0.5);
  CHECK(c.inner.n == 7);
  CHECK(c.name == "a");
  lb::config_apply_overrides(c, {"inner.xs=1,2.5", "name=zz", "flag=true", "lr=2e-5"});
  CHECK(c.inner.xs == std::vector<double>{1.0, 2.5});
  CHECK(c.name == "zz");
  CHECK(c.flag);
  CHECK(c.lr == Approx(2e-5));
  auto j = lb::config_to_json(c);
  CHECK(j["inner"]["n"] == 7);
  Outer d;
  lb::config_apply_json(d, j, "round trip");
  CHECK(lb::config_hash(lb::config_to_json(d)) == lb::config_hash(j));
}

TEST_CASE("config: unknown keys and wrong types name the key and the source") {
  Outer c;
  try {
    lb::config_apply_json(c, nlohmann::json::parse(R"({"inner": {"m": 1}})"), "exp.json");
    FAIL("no error");
  } catch (const lb::ConfigError& e) {
    std::string m = e.what();
    CHECK(m.find("inner.m") != std::string::npos);
    CHECK(m.find("exp.json") != std::string::npos);
  }
  try {
    lb::config_apply_json(c, nlohmann::json::parse(R"({"lr": "fast"})"), "exp.json");
    FAIL("no error");
  } catch (const lb::ConfigError& e) {
    std::string m = e.what();
    CHECK(m.find("'lr'") != std::string::npos);
    CHECK(m.find("number") != std::string::npos);
  }
  CHECK_THROWS_AS(lb::config_apply_overrides(c, {"inner.nn=3"}), lb::ConfigError);
  CHECK_THROWS_AS(lb::config_apply_overrides(c, {"inner.n=3.5"}), lb::ConfigError);
  CHECK_THROWS_AS(lb::config_apply_overrides(c, {"lr"}), lb::ConfigError);
  CHECK_THROWS_AS(lb::config_apply_overrides(c, {"inner=3"}), lb::ConfigError);
}

TEST_CASE("json_io: a syntax error names file and line") {
  try {
    lb::parse_json_text("{\n  \"a\": 1,\n  \"b\": ,\n}", "conf.json");
    FAIL("no error");
  } catch (const lb::InputError& e) {
    std::string m = e.what();
    CHECK(m.find("conf.json:3:") != std::string::npos);
  }
}

TEST_CASE("config: a string override that is not valid UTF-8 is a ConfigError naming the key") {
  // Found by tests/fuzz/fuzz_config: such a value was accepted, then config_hash's dump() threw
  // nlohmann's type_error.316.
  Outer c;
  try {
    lb::config_apply_overrides(c, {"name=ab\xcd"});
    FAIL("accepted an override that is not UTF-8");
  } catch (const lb::ConfigError& e) {
    CHECK(std::string(e.what()).find("'name'") != std::string::npos);
    CHECK(std::string(e.what()).find("UTF-8") != std::string::npos);
  }
  CHECK(c.name == "a");
  lb::config_apply_overrides(c, {"name=\xc3\xa9t\xc3\xa9"});  // valid UTF-8 still passes
  CHECK(c.name == "\xc3\xa9t\xc3\xa9");
}
