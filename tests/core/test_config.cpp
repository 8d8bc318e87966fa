// Config mechanism: defaults, JSON overrides, key=value overrides, and errors that name key and source.
#include "core/config.h"
#include "core/json_io.h"

#include <catch2/catch.hpp>

#include <limits>
#include <map>

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

// ---- Declared rules, validate() hooks, strict JSON and integer ranges ----

namespace {
struct Heads {
  int heads = 4;
  int kv = 2;
  std::vector<int> ks = {1, 2};
  template <class V> void visit(V& v) {
    v.field("heads", heads, "attention heads", lb::Positive{});
    v.field("kv", kv, "key/value heads", lb::AtLeast{1});
    v.field("ks", ks, "k values", lb::Range{1, 10});
  }
  void validate(const lb::ConfigCheck& c) const {
    if (heads % kv != 0) c.fail("kv", "must divide " + c.key("heads"));
  }
};
struct Ruled {
  double share = 0.5;
  double drop = 0.0;
  double gamma = 0.1;
  int64_t big = 0;
  uint64_t seed = 0;
  std::string mode = "fast";
  std::vector<std::string> parts = {"q", "k"};
  Heads model;
  template <class V> void visit(V& v) {
    v.field("share", share, "a share", lb::Range{0, 1});
    v.field("drop", drop, "a dropout", lb::Range{0, 1, "[)"});
    v.field("gamma", gamma, "an exploration rate", lb::Range{0, 1, "(]"});
    v.field("big", big, "a large count");
    v.field("seed", seed, "a seed");
    v.field("mode", mode, "a mode", lb::OneOf{"fast", "slow"});
    v.field("parts", parts, "projections", lb::OneOf{"q", "k", "v"});
    v.section("model", model, "a nested struct with a cross-field rule");
  }
};

std::string check_error(const std::vector<std::string>& overrides) {
  Ruled c;
  lb::ConfigSources sources;
  lb::config_apply_overrides(c, overrides, &sources);
  try {
    lb::config_check(c, "exp.json", &sources);
  } catch (const lb::ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("config rules: each rule type rejects what it excludes, names key, source, value and rule", "[config]") {
  CHECK(check_error({}).empty());
  CHECK(check_error({"share=0", "share=1", "drop=0", "gamma=1", "mode=slow", "parts=v,q", "model.ks=1,10"}).empty());
  struct Case {
    std::string override_, key, rule, value;
  };
  const std::vector<Case> cases = {
      {"share=1.5", "share", "in [0, 1]", "1.5"},          {"share=-0.1", "share", "in [0, 1]", "-0.1"},
      {"drop=1", "drop", "in [0, 1)", "got 1"},            {"gamma=0", "gamma", "in (0, 1]", "got 0"},
      {"model.heads=0", "model.heads", "> 0", "got 0"},    {"model.kv=0", "model.kv", ">= 1", "got 0"},
      {"model.ks=1,11", "model.ks", "in [1, 10]", "11"},   {"mode=medium", "mode", "one of fast, slow", "medium"},
      {"parts=q,qkv", "parts", "one of q, k, v", "qkv"},
  };
  for (const auto& c : cases) {
    INFO(c.override_);
    const std::string e = check_error({c.override_});
    CHECK(e.find("config key '" + c.key + "'") != std::string::npos);
    CHECK(e.find("command-line override '" + c.override_ + "'") != std::string::npos);
    CHECK(e.find(c.rule) != std::string::npos);
    CHECK(e.find(c.value) != std::string::npos);
  }
}

TEST_CASE("config rules: validate() hooks run after loading, with the section prefix and the file", "[config]") {
  const std::string e = check_error({"model.heads=6", "model.kv=4"});
  CHECK(e.find("config key 'model.kv'") != std::string::npos);
  CHECK(e.find("must divide model.heads") != std::string::npos);
  // A value from a file names the file; one left at its default names the config's source.
  Ruled c;
  lb::ConfigSources sources;
  lb::config_apply_json(c, nlohmann::json::parse(R"({"model": {"kv": 4, "heads": 6}})"), "nets.json", &sources);
  try {
    lb::config_check(c, "the run", &sources);
    FAIL("no error");
  } catch (const lb::ConfigError& err) {
    CHECK(std::string(err.what()).find("in nets.json") != std::string::npos);
  }
  Ruled d;
  d.model.heads = 0;  // set in code: no source recorded
  try {
    lb::config_check(d, "the run");
    FAIL("no error");
  } catch (const lb::ConfigError& err) {
    CHECK(std::string(err.what()).find("config key 'model.heads' in the run") != std::string::npos);
  }
}

TEST_CASE("config rules: docs carry the rule text, the JSON and the hash do not", "[config]") {
  Ruled c;
  std::map<std::string, std::string> rules;
  for (const auto& d : lb::config_docs(c)) rules[d.key] = d.rule;
  CHECK(rules["gamma"] == "in (0, 1]");
  CHECK(rules["model.heads"] == "> 0");
  CHECK(rules["parts"] == "one of q, k, v");
  CHECK(rules["big"].empty());
  const auto j = lb::config_to_json(c);
  CHECK(j.size() == 8);
  CHECK(j["model"].size() == 3);
}

TEST_CASE("config: integers outside the field's type are errors, not narrowed", "[config]") {
  Ruled c;
  // 2^32 + 4 into an int would read as 4.
  CHECK_THROWS_WITH(lb::config_apply_overrides(c, {"model.heads=4294967300"}),
                    Catch::Contains("model.heads") && Catch::Contains("4294967300") && Catch::Contains("range"));
  CHECK(c.model.heads == 4);  // untouched
  CHECK_THROWS_WITH(lb::config_apply_json(c, nlohmann::json::parse(R"({"model": {"kv": 1099511627776}})"), "f.json"),
                    Catch::Contains("model.kv") && Catch::Contains("f.json"));
  CHECK_THROWS_WITH(lb::config_apply_json(c, nlohmann::json::parse(R"({"model": {"ks": [1, 4294967297]}})"), "f.json"),
                    Catch::Contains("model.ks[1]"));
  CHECK_THROWS_WITH(lb::config_apply_overrides(c, {"big=9223372036854775808"}), Catch::Contains("big"));
  CHECK_THROWS_WITH(lb::config_apply_overrides(c, {"seed=-1"}), Catch::Contains("seed"));
  // The extremes of each type still fit.
  lb::config_apply_overrides(c, {"model.heads=2147483647", "big=-9223372036854775808", "seed=18446744073709551615"});
  CHECK(c.model.heads == 2147483647);
  CHECK(c.big == std::numeric_limits<int64_t>::min());
  CHECK(c.seed == std::numeric_limits<uint64_t>::max());
}

TEST_CASE("config: a number beyond a double is an error naming the key", "[config]") {
  Ruled c;
  CHECK_THROWS_WITH(lb::config_apply_overrides(c, {"share=1e999"}),
                    Catch::Contains("'share'") && Catch::Contains("out of the range"));
  CHECK_THROWS_WITH(lb::parse_config_json("{\"a\": {\"lr\": 1e999}}", "exp.json"),
                    Catch::Contains("a.lr") && Catch::Contains("exp.json") && Catch::Contains("range of a double"));
  CHECK_THROWS_AS(lb::parse_config_json("{\"a\": [1, -1e999]}", "exp.json"), lb::ConfigError);
}

TEST_CASE("config: duplicate keys in a config file are errors naming the file and the key", "[config]") {
  CHECK_THROWS_WITH(lb::parse_config_json(R"({"seed": 1, "seed": 2})", "exp.json"),
                    Catch::Contains("'seed'") && Catch::Contains("exp.json") && Catch::Contains("twice"));
  CHECK_THROWS_WITH(lb::parse_config_json(R"({"train": {"lr": 1, "epochs": 2, "lr": 3}})", "exp.json"),
                    Catch::Contains("'train.lr'"));
  CHECK_THROWS_WITH(lb::parse_config_json(R"({"sweep": {"variants": [{"name": "a", "name": "b"}]}})", "exp.json"),
                    Catch::Contains("sweep.variants[].name"));
  // The same key in different objects is fine; so is the parse of a clean file.
  const auto j = lb::parse_config_json(R"({"a": {"lr": 1}, "b": {"lr": 2}, "c": [{"x": 1}, {"x": 2}]})", "exp.json");
  CHECK(j["b"]["lr"] == 2);
  CHECK(j["c"][1]["x"] == 2);
  // Syntax errors still name file:line:column.
  CHECK_THROWS_WITH(lb::parse_config_json("{\n  \"a\": ,\n}", "exp.json"), Catch::Contains("exp.json:2:"));
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
