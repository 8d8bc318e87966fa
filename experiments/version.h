// `leadbench --version`: the project version (CMake's project(VERSION)), the git commit it was built
// from and the LibTorch it was built against.
#pragma once

#include <string>

namespace lb {

// "leadbench 0.1.0 (git 0123456789ab)\nLibTorch 2.5.1\n"
std::string version_text();

}  // namespace lb
