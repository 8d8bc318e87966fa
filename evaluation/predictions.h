// Readers of predictions files made elsewhere (leadbench's JSONL and open-instruct's per-suite files),
// matched to a loaded suite and scored by `leadbench eval --predictions` with the evaluator's metric
// code. Kept apart from the command so that the readers link (and are fuzzed) without a model.
#pragma once

#include "evaluation/suite.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// One prediction of a model for one item: generated text(s), or for multiple choice the chosen index.
struct Prediction {
  std::string id;
  std::vector<std::string> outputs;  // "output" (one) or "outputs" (several samples, for pass@k)
  int choice = -1;                   // multiple choice: chosen index; -1 = read the letter from outputs[0]
};

// Reads predictions JSONL: {"id": ID, "output": TEXT} or {"id": ID, "outputs": [TEXT, ...]}; ids may be
// strings or integers (GSM8K line numbers). Malformed lines are errors naming file and line, or
// skipped and counted with skip_bad.
std::vector<Prediction> read_predictions(const std::string& path, bool skip_bad, int64_t* skipped);

// Prediction files written by open-instruct's evaluation scripts, matched to a loaded suite:
//   gsm8k      predictions.jsonl {"question", "answer", "model_output", "prediction"}: no ids, so line k
//              (1-based) is problem k - 1 of the test file, and its "question" must equal that
//              problem's question text (a mismatch or an extra line is an InputError naming the line,
//              even with skip_bad: the file was made from other data or a --max_num_examples sample);
//              the output scored is "model_output".
//   humaneval  codex_eval_predictions.jsonl {"task_id", "prompt", "completion"}: one line per sample;
//              the lines of a task_id, in file order, are its samples for pass@k.
//   tydiqa     tydiaqa_predictions.jsonl {"id", ..., "prediction_text"}.
//   mmlu       open-instruct writes no per-question predictions file: an InputError says so.
std::vector<Prediction> read_open_instruct_predictions(const std::string& path, const Suite& suite, bool skip_bad,
                                                       int64_t* skipped);
// "leadbench" or "open-instruct", from the first line that is a JSON object: {"id", "output"|"outputs"}
// is leadbench's; "model_output", "completion" or "prediction_text" open-instruct's. Anything else is an
// InputError listing both layouts.
std::string detect_predictions_format(const std::string& path);

}  // namespace lb
