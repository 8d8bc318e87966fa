// `leadbench eval`: scores a predictions file made elsewhere against a real suite, with the same
// metric code as a normal evaluation.
#pragma once

#include "evaluation/evaluator.h"

#include <string>
#include <vector>

namespace lb {

// Reads predictions JSONL: {"id": ID, "output": TEXT} or {"id": ID, "outputs": [TEXT, ...]}; ids may be
// strings or integers (GSM8K line numbers). Malformed lines are errors naming file and line, or
// skipped and counted with skip_bad.
std::vector<Prediction> read_predictions(const std::string& path, bool skip_bad, int64_t* skipped);

// args: everything after "eval" but the options every command takes, which `leadbench eval` reads
// first (experiments/cmd_eval.h). Returns the process exit status (0 ok, 1 bad input, 2 usage).
int cmd_eval(const std::vector<std::string>& args);

// The usage text of `leadbench eval`.
std::string eval_usage();

}  // namespace lb
