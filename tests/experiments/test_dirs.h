// An empty scratch folder per test and process, shared by the experiments tests.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace lbtest {

inline std::filesystem::path fresh_dir(const std::string& name) {
  std::filesystem::path d =
      std::filesystem::temp_directory_path() / ("leadbench_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace lbtest
