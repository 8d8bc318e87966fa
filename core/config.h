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
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
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

namespace config_detail {

template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};

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
    if constexpr (std::is_unsigned_v<T>) {
      if (j.is_number_integer() && j.get<int64_t>() < 0) throw wrong();
    }
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

  template <class F> void field(const char* name, F& f, const char* /*why*/) {
    known.insert(name);
    auto it = j.find(name);
    if (it != j.end()) read_value(*it, f, prefix + name, source);
  }
  template <class S> void section(const char* name, S& s, const char* /*why*/) {
    known.insert(name);
    auto it = j.find(name);
    if (it == j.end()) return;
    if (!it->is_object())
      throw ConfigError("config key '" + prefix + name + "' in " + source + " must be an object");
    FromJson sub{*it, prefix + name + ".", source, {}};
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
  template <class F> void field(const char* name, F& f, const char*) { j[name] = to_json_value(f); }
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

  template <class F> void field(const char* name, F& f, const char*) {
    known.insert(name);
    if (found || path[depth] != name) return;
    if (depth + 1 != path.size())
      throw ConfigError("config key '" + full_key + "' in " + source + ": '" + name + "' is a value, not a section");
    parse_value(value, f, full_key, source);
    found = true;
  }
  template <class S> void section(const char* name, S& s, const char*) {
    known.insert(name);
    if (found || path[depth] != name) return;
    if (depth + 1 == path.size())
      throw ConfigError("config key '" + full_key + "' in " + source + " names a section; set one of its keys");
    SetKey sub{path, depth + 1, value, full_key, source, false, {}};
    s.visit(sub);
    if (!sub.found) sub.fail();
    found = true;
  }
  void fail() const {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw ConfigError("unknown config key '" + full_key + "' in " + source + "; known keys at '" +
                      path[depth] + "': " + list);
  }
};

struct DocEntry {
  std::string key;
  std::string value;  // the current value, as JSON
  std::string why;
};

struct Docs {
  std::vector<DocEntry>& out;
  std::string prefix;
  template <class F> void field(const char* name, F& f, const char* why) {
    out.push_back({prefix + name, to_json_value(f).dump(), why});
  }
  template <class S> void section(const char* name, S& s, const char*) {
    Docs sub{out, prefix + name + "."};
    s.visit(sub);
  }
};

}  // namespace config_detail

// Applies a JSON object to a config; `source` names it in errors (a file name, "sweep entry 3").
template <class T> void config_apply_json(T& cfg, const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw ConfigError(source + ": a config must be a JSON object");
  config_detail::FromJson v{j, "", source, {}};
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
void config_set(T& cfg, const std::string& dotted_key, const std::string& value, const std::string& source) {
  std::vector<std::string> path;
  std::stringstream ss(dotted_key);
  std::string part;
  while (std::getline(ss, part, '.')) path.push_back(part);
  if (path.empty() || dotted_key.empty()) throw ConfigError("empty config key in " + source);
  config_detail::SetKey v{path, 0, value, dotted_key, source, false, {}};
  cfg.visit(v);
  if (!v.found) v.fail();
}

// Applies "key=value" arguments in order.
template <class T> void config_apply_overrides(T& cfg, const std::vector<std::string>& kvs) {
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("override '" + kv + "' is not of the form key=value (e.g. train.lr=1e-4)");
    config_set(cfg, kv.substr(0, eq), kv.substr(eq + 1), "command-line override '" + kv + "'");
  }
}

template <class T> std::vector<config_detail::DocEntry> config_docs(const T& cfg) {
  std::vector<config_detail::DocEntry> out;
  config_detail::Docs v{out, ""};
  const_cast<T&>(cfg).visit(v);
  return out;
}

// Stable 16-hex-digit hash of a resolved config (FNV-1a over its canonical JSON dump).
std::string config_hash(const nlohmann::json& resolved);

}  // namespace lb
