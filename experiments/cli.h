// Command-line plumbing shared by the leadbench subcommands: usage errors (exit code 2), the common
// flags (--device, --threads, --progress/--quiet, --help) and key=value overrides.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace lb {

// A wrong command line: main prints the message and the subcommand's usage, exits with 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CommonFlags {
  std::string device = "auto";  // --device auto|cpu|cuda
  int threads = 0;              // --threads N; 0 = all cores
  int progress = -1;            // --progress 1, --quiet 0, -1 not given
  bool help = false;
  bool device_given = false, threads_given = false;
};

// Splits arguments into common flags, `key=value` overrides, other --flags (with their values, as
// listed in `flags_with_value`) and positional arguments. Unknown --flags are usage errors.
struct ParsedArgs {
  CommonFlags common;
  std::vector<std::string> overrides;
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;  // (--name, value or "")
  bool has(const std::string& flag) const;
  std::string value(const std::string& flag, const std::string& fallback = "") const;
};
ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<std::string>& flags_with_value,
                      const std::vector<std::string>& bool_flags);

// Applies --threads and --progress/--quiet to the process.
void apply_common_flags(const CommonFlags& f);

// The command line as one shell-quoted string, for stamps and records.
std::string joined_command_line(const std::vector<std::string>& argv);
void set_command_line(const std::vector<std::string>& argv);
const std::string& command_line();

// Path of the running leadbench executable (to start child runs).
std::string self_executable();

}  // namespace lb
