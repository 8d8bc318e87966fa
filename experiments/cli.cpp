// Command-line plumbing; see cli.h.
#include "experiments/cli.h"

#include "core/device.h"
#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <climits>

namespace lb {

bool ParsedArgs::has(const std::string& flag) const {
  for (const auto& f : flags)
    if (f.first == flag) return true;
  return false;
}

std::string ParsedArgs::value(const std::string& flag, const std::string& fallback) const {
  std::string v = fallback;
  for (const auto& f : flags)
    if (f.first == flag) v = f.second;
  return v;
}

namespace {
int parse_int(const std::string& flag, const std::string& text) {
  try {
    size_t pos = 0;
    int v = std::stoi(text, &pos);
    if (pos != text.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw UsageError(flag + " needs an integer, got '" + text + "'");
  }
}
}  // namespace

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<std::string>& flags_with_value,
                      const std::vector<std::string>& bool_flags) {
  ParsedArgs p;
  auto in = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("--", 0) == 0) {
      std::string name = a, val;
      bool inline_value = false;
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        val = a.substr(eq + 1);
        inline_value = true;
      }
      auto take_value = [&]() {
        if (inline_value) return val;
        if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
        return args[++i];
      };
      if (name == "--help") {
        p.common.help = true;
      } else if (name == "--device") {
        p.common.device = take_value();
        p.common.device_given = true;
      } else if (name == "--threads") {
        p.common.threads = parse_int(name, take_value());
        if (p.common.threads < 0) throw UsageError("--threads must be >= 0 (0 = all cores)");
        if (p.common.threads > max_threads())
          throw UsageError("--threads " + std::to_string(p.common.threads) + " is more than " +
                           std::to_string(max_threads()) +
                           " (4 x the hardware threads, at least 256); use 0 for all cores or a smaller number");
        p.common.threads_given = true;
      } else if (name == "--progress") {
        p.common.progress = 1;
      } else if (name == "--quiet") {
        p.common.progress = 0;
      } else if (in(flags_with_value, name)) {
        p.flags.emplace_back(name, take_value());
      } else if (in(bool_flags, name)) {
        if (inline_value) throw UsageError(name + " takes no value");
        p.flags.emplace_back(name, "");
      } else {
        throw UsageError("unknown option '" + name + "'");
      }
    } else if (a == "-h") {
      p.common.help = true;
    } else if (a.find('=') != std::string::npos && a.find('=') > 0 && a.find('/') > a.find('=')) {
      p.overrides.push_back(a);  // key=value (a path containing '=' after a '/' stays positional)
    } else {
      p.positional.push_back(a);
    }
  }
  return p;
}

void apply_common_flags(const CommonFlags& f) {
  set_threads(f.threads);
  if (f.progress >= 0) Progress::force(f.progress == 1);
}

std::string joined_command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()[]{}") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) {
        if (c == '\'') out += "'\\''";
        else out += c;
      }
      out += '\'';
    }
  }
  return out;
}

namespace {
std::string& command_line_storage() {
  static std::string s;
  return s;
}
}  // namespace

void set_command_line(const std::vector<std::string>& argv) { command_line_storage() = joined_command_line(argv); }
const std::string& command_line() { return command_line_storage(); }

std::string self_executable() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "leadbench";
  buf[n] = 0;
  return buf;
}

}  // namespace lb
