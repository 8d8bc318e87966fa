// `leadbench data convert|validate|stats`: real instruction pools to the messages format, checked
// and described. A thin argument parser over core/pool_convert.h.
#pragma once

#include <string>
#include <vector>

namespace lb {

// args: the words after `leadbench data`, e.g. {"convert", "--format", "alpaca", ...}.
// Returns the exit status: 0 done, 1 bad input (or, for validate, any bad record), 2 usage error.
int cmd_data(const std::vector<std::string>& args);

}  // namespace lb
