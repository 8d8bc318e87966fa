// Typed configuration: one struct per concern, each field with its default and the reason for it.
// JSON files override defaults, `key=value` arguments override files; unknown keys and wrong types
// are errors that name the key and where it came from.
//
// A config struct exposes its fields through one member template:
//
//   struct TrainConfig {
//     double lr = 1e-3;  // peak learning rate
//     template <class V> void visit(V& v) {
//       v.field("lr", lr, "peak learning rate; the small model tolerates a large one");
//     }
//   };
//
// and nested structs with v.section("train", train, "why"). Supported field types: bool, int,
// int64_t, uint64_t, double, std::string and std::vector of int/int64_t/double/std::string.
// Integers outside the field's type (2^40 into an int) are errors, never narrowed.
//
// Rules. A field's allowed values are declared with it, after the reason:
//
//   v.field("lr", lr, "peak learning rate", AtLeast{0});
//   v.field("dropout", dropout, "adapter dropout", Range{0, 1, "[)"});   // ends: "[]" (default), "(]", "[)", "()"
//   v.field("n_heads", n_heads, "attention heads", Positive{});
//   v.field("schedule", schedule, "lr schedule", OneOf{"constant", "cosine"});
//
// Numeric rules (Range, AtLeast, Positive) apply to numbers and to each element of a list of
// numbers, OneOf to strings and to each element of a list of strings. config_check() runs every
// rule of a loaded config and names the dotted key, where its value came from (file or override,
// when config_apply_* were given a ConfigSources map), the value and what is allowed;
// `run --list-keys` prints each rule beside its key (config_docs). Rules that tie fields together
// go in an optional member `void validate(const ConfigCheck& c) const` of a struct: config_check
// calls it after that struct's own fields and sections passed, and c.fail("key", "why") throws a
// ConfigError naming the key with the struct's section prefix. Rules never enter the JSON, so
// they never change a config hash.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace lb {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where each dotted key of a config got its value ("exp.json", "command-line override 'a=1'").
using ConfigSources = std::map<std::string, std::string>;

// ---- Rules (see the file comment) ----

// lo..hi; `ends` says which ends are included: "[]" both, "(]" not lo, "[)" not hi, "()" neither.
struct Range {
  double lo, hi;
  const char* ends = "[]";
};
struct AtLeast {  // >= lo
  double lo;
};
struct Positive {};  // > 0
struct OneOf {      // one of these strings
  std::vector<std::string> choices;
  OneOf(std::initializer_list<const char*> names) : choices(names.begin(), names.end()) {}
};

// Handed to a struct's validate(): names keys with the struct's section prefix and their source.
class ConfigCheck {
 public:
  ConfigCheck(std::string prefix, std::string source, const ConfigSources* sources)
      : prefix_(std::move(prefix)), source_(std::move(source)), sources_(sources) {}
  // The full dotted key of a key of this struct ("n_heads" -> "proxy_model.n_heads").
  std::string key(const std::string& name) const { return prefix_ + name; }
  // Where the key's value came from: the file or override that set it, else the config's source.
  std::string where(const std::string& name) const {
    const std::string k = key(name);
    if (sources_) {
      auto it = sources_->find(k);
      if (it != sources_->end()) return it->second;
    }
    return source_;
  }
  // Throws "config key '<prefix><name>' in <where>: <what>".
  [[noreturn]] void fail(const std::string& name, const std::string& what) const {
    throw ConfigError("config key '" + key(name) + "' in " + where(name) + ": " + what);
  }
  ConfigCheck sub(const std::string& name) const { return ConfigCheck(prefix_ + name + ".", source_, sources_); }

 private:
  std::string prefix_;
  std::string source_;
  const ConfigSources* sources_;
};

namespace config_detail {

template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};

// Shortest text of a bound: whole numbers without a decimal point.
inline std::string number_text(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(static_cast<long long>(x));
  return nlohmann::json(x).dump();
}

inline std::string rule_text(const Range& r) {
  const std::string ends = r.ends ? r.ends : "[]";
  return "in " + std::string(1, ends.size() > 0 ? ends[0] : '[') + number_text(r.lo) + ", " + number_text(r.hi) +
         std::string(1, ends.size() > 1 ? ends[1] : ']');
}
inline std::string rule_text(const AtLeast& r) { return ">= " + number_text(r.lo); }
inline std::string rule_text(const Positive&) { return "> 0"; }
inline std::string rule_text(const OneOf& r) {
  std::string s = "one of ";
  for (size_t i = 0; i < r.choices.size(); ++i) s += (i ? ", " : "") + r.choices[i];
  return s;
}

inline bool rule_holds(const Range& r, double x) {
  const std::string ends = r.ends ? r.ends : "[]";
  const bool lo_ok = ends[0] == '(' ? x > r.lo : x >= r.lo;
  const bool hi_ok = ends.size() > 1 && ends[1] == ')' ? x < r.hi : x <= r.hi;
  return lo_ok && hi_ok;  // NaN fails both
}
inline bool rule_holds(const AtLeast& r, double x) { return x >= r.lo; }
inline bool rule_holds(const Positive&, double x) { return x > 0; }
inline bool rule_holds(const OneOf& r, const std::string& x) {
  for (const auto& c : r.choices)
    if (c == x) return true;
  return false;
}


// Checks one rule against a field (or each element of a list field); throws naming the key.
template <class Rule, class F>
void check_rule(const Rule& rule, const F& f, const ConfigCheck& c, const std::string& name) {
  if constexpr (is_vector<F>::value) {
    for (size_t i = 0; i < f.size(); ++i) {
      try {
        check_rule(rule, f[i], c, name);
      } catch (const ConfigError&) {
        c.fail(name, "entry " + std::to_string(i) + " must be " + rule_text(rule) + ", got " + nlohmann::json(f[i]).dump());
      }
    }
  } else if constexpr (std::is_same_v<Rule, OneOf>) {
    static_assert(std::is_same_v<F, std::string>, "OneOf applies to string fields");
    if (!rule_holds(rule, f)) c.fail(name, "must be " + rule_text(rule) + ", got '" + f + "'");
  } else {
    static_assert(std::is_arithmetic_v<F> && !std::is_same_v<F, bool>, "numeric rules apply to number fields");
    if (!rule_holds(rule, static_cast<double>(f)))
      c.fail(name, "must be " + rule_text(rule) + ", got " + nlohmann::json(f).dump());
  }
}

template <class S, class = void> struct has_validate : std::false_type {};
template <class S>
struct has_validate<S, std::void_t<decltype(std::declval<const S&>().validate(std::declval<const ConfigCheck&>()))>>
    : std::true_type {};

template <class T> const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else return "a list";
}

// Converts one JSON value to a field, or throws naming the key and the source.
template <class T>
void read_value(const nlohmann::json& j, T& out, const std::string& key, const std::string& source) {
  auto wrong = [&]() {
    return ConfigError("config key '" + key + "' in " + source + " must be " + type_name<T>() +
                       ", got " + j.dump());
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) throw wrong();
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer() && !j.is_number_unsigned()) throw wrong();
    // Out of the field's type: an error, never narrowed.
    bool fits = false;
    if (j.is_number_unsigned()) {
      fits = j.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    } else {
      const int64_t x = j.get<int64_t>();
      if constexpr (std::is_unsigned_v<T>)
        fits = x >= 0 && static_cast<uint64_t>(x) <= std::numeric_limits<T>::max();
      else
        fits = x >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
               x <= static_cast<int64_t>(std::numeric_limits<T>::max());
    }
    if (!fits)
      throw ConfigError("config key '" + key + "' in " + source + " is " + j.dump() + ", outside the range of its type [" +
                        std::to_string(std::numeric_limits<T>::min()) + ", " +
                        std::to_string(std::numeric_limits<T>::max()) + "]");
    out = j.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) throw wrong();
    out = j.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) throw wrong();
    out = j.get<std::string>();
  } else if constexpr (is_vector<T>::value) {
    if (!j.is_array()) throw wrong();
    T v;
    for (size_t i = 0; i < j.size(); ++i) {
      typename T::value_type x{};
      read_value(j[i], x, key + "[" + std::to_string(i) + "]", source);
      v.push_back(x);
    }
    out = std::move(v);
  } else {
    static_assert(sizeof(T) == 0, "unsupported config field type");
  }
}

// Parses a command-line string as the field's type ("1e-4", "true", "a,b,c" or "[1,2]").
template <class T>
void parse_value(const std::string& text, T& out, const std::string& key, const std::string& source) {
  auto wrong = [&]() {
    return ConfigError("config key '" + key + "' in " + source + " must be " + type_name<T>() +
                       ", got '" + text + "'");
  };
  if constexpr (std::is_same_v<T, std::string>) {
    // A config is hashed and written as JSON, which holds UTF-8 only.
    try {
      (void)nlohmann::json(text).dump();
    } catch (const nlohmann::json::type_error&) {
      throw ConfigError("config key '" + key + "' in " + source + " must be valid UTF-8 text");
    }
    out = text;
  } else if constexpr (is_vector<T>::value) {
    if (!text.empty() && text.front() == '[') {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(text);
      } catch (const std::exception&) {
        throw wrong();
      }
      read_value(j, out, key, source);
      return;
    }
    T v;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
      typename T::value_type x{};
      parse_value(item, x, key, source);
      v.push_back(x);
    }
    out = std::move(v);
  } else {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::out_of_range&) {
      throw ConfigError("config key '" + key + "' in " + source + ": the number '" + text +
                        "' is out of the range of a double");
    } catch (const std::exception&) {
      throw wrong();
    }
    read_value(j, out, key, source);
  }
}

template <class T> nlohmann::json to_json_value(const T& v) { return nlohmann::json(v); }

// Visitor: JSON object -> struct. Remembers which keys it consumed to report unknown ones.
struct FromJson {
  const nlohmann::json& j;
  std::string prefix;
  std::string source;
  std::set<std::string> known;
  ConfigSources* sources = nullptr;

  template <class F, class... R> void field(const char* name, F& f, const char* /*why*/, const R&...) {
    known.insert(name);
    auto it = j.find(name);
    if (it == j.end()) return;
    read_value(*it, f, prefix + name, source);
    if (sources) (*sources)[prefix + name] = source;
  }
  template <class S> void section(const char* name, S& s, const char* /*why*/) {
    known.insert(name);
    auto it = j.find(name);
    if (it == j.end()) return;
    if (!it->is_object())
      throw ConfigError("config key '" + prefix + name + "' in " + source + " must be an object");
    FromJson sub{*it, prefix + name + ".", source, {}, sources};
    s.visit(sub);
    sub.check_unknown();
  }
  void check_unknown() const {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (known.count(it.key())) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError("unknown config key '" + prefix + it.key() + "' in " + source +
                        "; known keys here: " + list);
    }
  }
};

// Visitor: struct -> JSON object.
struct ToJson {
  nlohmann::json& j;
  template <class F, class... R> void field(const char* name, F& f, const char*, const R&...) { j[name] = to_json_value(f); }
  template <class S> void section(const char* name, S& s, const char*) {
    nlohmann::json sub = nlohmann::json::object();
    ToJson v{sub};
    s.visit(v);
    j[name] = std::move(sub);
  }
};

// Visitor: sets one dotted key from a string.
struct SetKey {
  std::vector<std::string> path;
  size_t depth = 0;
  std::string value;
  std::string full_key;
  std::string source;
  bool found = false;
  std::set<std::string> known;
  ConfigSources* sources = nullptr;

  template <class F, class... R> void field(const char* name, F& f, const char*, const R&...) {
    known.insert(name);
    if (found || path[depth] != name) return;
    if (depth + 1 != path.size())
      throw ConfigError("config key '" + full_key + "' in " + source + ": '" + name + "' is a value, not a section");
    parse_value(value, f, full_key, source);
    if (sources) (*sources)[full_key] = source;
    found = true;
  }
  template <class S> void section(const char* name, S& s, const char*) {
    known.insert(name);
    if (found || path[depth] != name) return;
    if (depth + 1 == path.size())
      throw ConfigError("config key '" + full_key + "' in " + source + " names a section; set one of its keys");
    SetKey sub{path, depth + 1, value, full_key, source, false, {}, sources};
    s.visit(sub);
    if (!sub.found) sub.fail();
    found = true;
  }
  void fail() const {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    std::string section;  // the section the unknown name was looked up in ("" = top level)
    for (size_t i = 0; i < depth; ++i) section += (i ? "." : "") + path[i];
    throw ConfigError("unknown config key '" + full_key + "' in " + source + "; known keys " +
                      (section.empty() ? std::string("at the top level") : "in section '" + section + "'") + ": " + list);
  }
};

struct DocEntry {
  std::string key;
  std::string value;  // the current value, as JSON
  std::string why;
  std::string rule;  // the declared rules ("in (0, 1]"), "" when none
};

struct Docs {
  std::vector<DocEntry>& out;
  std::string prefix;
  template <class F, class... R> void field(const char* name, F& f, const char* why, const R&... rules) {
    std::string rule;
    ((rule += (rule.empty() ? "" : "; ") + rule_text(rules)), ...);
    out.push_back({prefix + name, to_json_value(f).dump(), why, rule});
  }
  template <class S> void section(const char* name, S& s, const char*) {
    Docs sub{out, prefix + name + "."};
    s.visit(sub);
  }
};

// Visitor: runs every field's rules, then each struct's validate() hook.
struct Check {
  const ConfigCheck& c;
  template <class F, class... R> void field(const char* name, F& f, const char*, const R&... rules) {
    (check_rule(rules, f, c, name), ...);
  }
  template <class S> void section(const char* name, S& s, const char*) {
    const ConfigCheck sub = c.sub(name);
    Check v{sub};
    s.visit(v);
    if constexpr (has_validate<S>::value) s.validate(sub);
  }
};

}  // namespace config_detail

// Applies a JSON object to a config; `source` names it in errors (a file name, "sweep entry 3").
// `sources`, when given, records which keys this source set.
template <class T>
void config_apply_json(T& cfg, const nlohmann::json& j, const std::string& source, ConfigSources* sources = nullptr) {
  if (!j.is_object()) throw ConfigError(source + ": a config must be a JSON object");
  config_detail::FromJson v{j, "", source, {}, sources};
  cfg.visit(v);
  v.check_unknown();
}

template <class T> nlohmann::json config_to_json(const T& cfg) {
  nlohmann::json j = nlohmann::json::object();
  config_detail::ToJson v{j};
  const_cast<T&>(cfg).visit(v);
  return j;
}

// Sets "section.key" from its command-line text.
template <class T>
void config_set(T& cfg, const std::string& dotted_key, const std::string& value, const std::string& source,
                ConfigSources* sources = nullptr) {
  std::vector<std::string> path;
  std::stringstream ss(dotted_key);
  std::string part;
  while (std::getline(ss, part, '.')) path.push_back(part);
  if (path.empty() || dotted_key.empty()) throw ConfigError("empty config key in " + source);
  config_detail::SetKey v{path, 0, value, dotted_key, source, false, {}, sources};
  cfg.visit(v);
  if (!v.found) v.fail();
}

// Applies "key=value" arguments in order.
template <class T>
void config_apply_overrides(T& cfg, const std::vector<std::string>& kvs, ConfigSources* sources = nullptr) {
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("override '" + kv + "' is not of the form key=value (e.g. train.lr=1e-4)");
    config_set(cfg, kv.substr(0, eq), kv.substr(eq + 1), "command-line override '" + kv + "'", sources);
  }
}

// Runs every declared rule and validate() hook of a loaded config; throws ConfigError naming the
// dotted key (with `prefix`, e.g. "lead."), where it was set (`sources`, else `source`), the value
// and what is allowed.
template <class T>
void config_check(const T& cfg, const std::string& source, const ConfigSources* sources = nullptr,
                  const std::string& prefix = "") {
  const ConfigCheck c(prefix, source, sources);
  config_detail::Check v{c};
  const_cast<T&>(cfg).visit(v);
  if constexpr (config_detail::has_validate<T>::value) cfg.validate(c);
}

template <class T> std::vector<config_detail::DocEntry> config_docs(const T& cfg) {
  std::vector<config_detail::DocEntry> out;
  config_detail::Docs v{out, ""};
  const_cast<T&>(cfg).visit(v);
  return out;
}

// Parses the text of a JSON config file: a duplicate key or a number beyond the range of a double
// is a ConfigError naming `source` and the dotted key; a syntax error is an InputError naming
// source:line:column.
nlohmann::json parse_config_json(const std::string& text, const std::string& source);

// Stable 16-hex-digit hash of a resolved config (FNV-1a over its canonical JSON dump).
std::string config_hash(const nlohmann::json& resolved);

}  // namespace lb
