// libFuzzer target: config JSON files and key=value overrides (core/config.h over nlohmann, and
// parse_json_text). The config struct here has one field of every supported type and a nested
// section, as the experiment config does (which itself needs LibTorch headers).
// Input: a JSON document, then optionally a line "--" followed by one override per line.
// Expected errors: lb::ConfigError and lb::InputError.
#include "core/config.h"
#include "core/json_io.h"
#include "tests/fuzz/fuzz_common.h"

#include <cstdint>
#include <string>
#include <vector>

namespace {

struct Inner {
  int n = 3;
  int64_t big = 1;
  uint64_t seed = 7;
  std::vector<double> xs = {1.0};
  std::vector<int64_t> ks = {1, 2};
  template <class V> void visit(V& v) {
    v.field("n", n, "an int");
    v.field("big", big, "an int64");
    v.field("seed", seed, "a uint64");
    v.field("xs", xs, "doubles");
    v.field("ks", ks, "int64s");
  }
};

struct Outer {
  double lr = 1e-3;
  std::string name = "a";
  bool flag = false;
  std::vector<std::string> names = {"x"};
  std::vector<int> ints = {1};
  Inner train;
  Inner lora;
  template <class V> void visit(V& v) {
    v.field("lr", lr, "a double");
    v.field("name", name, "a string");
    v.field("flag", flag, "a bool");
    v.field("names", names, "strings");
    v.field("ints", ints, "ints");
    v.section("train", train, "nested");
    v.section("lora", lora, "nested");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = lb_fuzz::as_string(data, size);
  std::string doc = input;
  std::vector<std::string> overrides;
  const auto sep = input.find("\n--\n");
  if (sep != std::string::npos) {
    doc = input.substr(0, sep);
    size_t start = sep + 4;
    while (start <= input.size()) {
      size_t end = input.find('\n', start);
      if (end == std::string::npos) end = input.size();
      overrides.push_back(input.substr(start, end - start));
      start = end + 1;
    }
  }
  try {
    Outer cfg;
    lb::config_apply_json(cfg, lb::parse_json_text(doc, "fuzz.json"), "fuzz.json");
    lb::config_apply_overrides(cfg, overrides);
    const nlohmann::json resolved = lb::config_to_json(cfg);
    (void)lb::config_hash(resolved);
    // A resolved config must read back to itself.
    Outer again;
    lb::config_apply_json(again, resolved, "resolved");
    if (lb::config_to_json(again) != resolved) __builtin_trap();
  } catch (const lb::ConfigError&) {
  } catch (const lb::InputError&) {
  }
  return 0;
}
