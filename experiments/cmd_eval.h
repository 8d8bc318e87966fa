// `leadbench eval` on the command line: the options every command takes (--threads, --device,
// --progress/--quiet, --help) read by the shared parser (cli.h), the rest handed to the scorer of
// evaluation/eval_command.h.
#pragma once

#include <string>
#include <vector>

namespace lb {

// args: everything after "eval". Returns the exit status (0 ok, 1 bad input, 2 usage or config).
int cmd_eval_cli(const std::vector<std::string>& args);

}  // namespace lb
