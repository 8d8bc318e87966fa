// Config hashing (the templates live in config.h).
#include "core/config.h"

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

}  // namespace lb
