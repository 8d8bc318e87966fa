// `leadbench eval --model PATH --suite S --data PATH --out DIR`: evaluates a checkpoint directly on
// one real suite with the evaluator's own prompts and metric code, and writes the predictions it
// made (readable by `eval --predictions`) and the scores.
#pragma once

#include "experiments/cli.h"

#include <string>

namespace lb {

std::string eval_model_usage();
// p: the parsed `eval` arguments holding --model. Returns the exit status (0 ok, 1 bad input, 2 usage
// or config).
int cmd_eval_model(const ParsedArgs& p);

}  // namespace lb
