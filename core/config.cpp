// Config hashing and the strict JSON reading of config files (the templates live in config.h).
#include "core/config.h"

#include "core/json_io.h"

#include <cstdio>

namespace lb {

std::string config_hash(const nlohmann::json& resolved) {
  const std::string text = resolved.dump();  // nlohmann sorts object keys: canonical
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

nlohmann::json parse_config_json(const std::string& text, const std::string& source) {
  using Event = nlohmann::json::parse_event_t;
  // One entry per open object: the keys seen so far and the key being read. Arrays add a "[]"
  // step, so that a key inside a list of objects reads "sweep.variants[].name".
  struct Level {
    bool array = false;
    std::set<std::string> keys;
    std::string key;
  };
  std::vector<Level> stack;
  auto dotted = [&]() {
    std::string out;
    for (const auto& l : stack) {
      if (l.array)
        out += "[]";
      else if (!l.key.empty())
        out += (out.empty() ? "" : ".") + l.key;
    }
    return out;
  };
  auto callback = [&](int /*depth*/, Event event, nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start: stack.push_back({}); break;
      case Event::array_start: stack.push_back({true, {}, {}}); break;
      case Event::object_end:
      case Event::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case Event::key: {
        Level& l = stack.back();
        l.key = parsed.get<std::string>();
        if (!l.keys.insert(l.key).second)
          throw ConfigError("config key '" + dotted() + "' appears twice in " + source +
                            "; JSON keeps only one of them, so remove the other");
        break;
      }
      default: break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::out_of_range&) {
    const std::string key = dotted();
    throw ConfigError((key.empty() ? "a number" : "config key '" + key + "'") + " in " + source +
                      " is out of the range of a double (about 1.8e308); write a finite number");
  } catch (const nlohmann::json::parse_error&) {
    return parse_json_text(text, source);  // throws InputError naming source:line:column
  }
}

}  // namespace lb
