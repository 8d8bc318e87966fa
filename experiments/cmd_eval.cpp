// The `leadbench eval` entry point: shared option parsing in front of evaluation's cmd_eval.
#include "experiments/cmd_eval.h"

#include "evaluation/eval_command.h"
#include "experiments/cli.h"
#include "experiments/cmd_eval_model.h"

#include <algorithm>
#include <iostream>

namespace lb {

int cmd_eval_cli(const std::vector<std::string>& args) {
  // --model ... : a checkpoint evaluated directly (cmd_eval_model.h); the rest scores a file.
  const std::vector<std::string> with_value = {"--suite", "--data", "--predictions", "--json", "--config",
                                               "--predictions-format", "--lm-eval-json", "--samples", "--model",
                                               "--adapter", "--out", "--chat-template", "--seed"};
  const std::vector<std::string> bools = {"--skip-bad", "--unsafe-no-sandbox"};
  ParsedArgs p;
  try {
    p = parse_args(args, with_value, bools);
    if (!p.positional.empty())
      throw UsageError("eval takes no positional arguments (got '" + p.positional[0] + "'); name files with --data and --predictions");
  } catch (const UsageError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n" << eval_usage();
    return 2;
  }
  if (p.common.help) {
    std::cout << eval_usage() << "\n" << eval_model_usage();
    return 0;
  }
  apply_common_flags(p.common);
  if (p.has("--model")) return cmd_eval_model(p);
  for (const char* flag : {"--adapter", "--out", "--chat-template", "--seed"})
    if (p.has(flag)) {
      std::cerr << "leadbench eval: " << flag << " goes with --model (evaluating a checkpoint)\n" << eval_usage();
      return 2;
    }
  // Rebuilt for the scorer's own reader, which knows only its options and key=value settings.
  std::vector<std::string> rest;
  for (const auto& [flag, value] : p.flags) {
    rest.push_back(flag);
    if (std::find(bools.begin(), bools.end(), flag) == bools.end()) rest.push_back(value);
  }
  rest.insert(rest.end(), p.overrides.begin(), p.overrides.end());
  return cmd_eval(rest);
}

}  // namespace lb
