// Shared helpers of the libFuzzer targets: the input as a string, and a per-process scratch file
// for parsers whose entry point takes a path. Only the parser's documented error types are caught
// by the targets; anything else (a crash, a sanitizer report, another exception) is a finding.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace lb_fuzz {

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Writes `content` to a scratch file named by `suffix` (e.g. ".jsonl") and returns its path.
inline std::string scratch_file(const std::string& content, const std::string& suffix) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("leadbench-fuzz-" + std::to_string(getpid()) + suffix))
                               .string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();  // the harness itself failed, not the parser
  if (!content.empty() && std::fwrite(content.data(), 1, content.size(), f) != content.size()) __builtin_trap();
  std::fclose(f);
  return path;
}

}  // namespace lb_fuzz
