// The instruction pool in the messages format used by open-instruct and LEAD's released pool:
//   {"dataset": "...", "id": "...", "messages": [{"role": "user", "content": "..."}, ...]}
// plus, for the synthetic world only, hidden ground truth under "meta" that selectors never read.
#pragma once

#include "core/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lb {

using SampleId = int64_t;  // dense index into Pool::samples

struct Sample {
  std::string uid;      // the record's "id" (unique in the pool)
  std::string dataset;  // the record's "dataset": its source; LEAD's "task"
  int task = 0;         // index of `dataset` in Pool::tasks
  std::vector<Message> messages;
};

// What the synthetic world knows about a sample and selectors must not see: used only to report
// what each selector picked. Real pools have defect "unknown".
struct SampleTruth {
  std::string defect = "unknown";  // none | wrong_answer | truncated | duplicate | near_duplicate | verbose | ...
};

struct Pool {
  std::vector<Sample> samples;
  std::vector<SampleTruth> truth;  // parallel to samples
  std::vector<std::string> tasks;  // distinct datasets, in order of first appearance

  size_t size() const { return samples.size(); }
  // Appends a sample, assigning its task index; throws InputError on a duplicate uid.
  void add(Sample s, SampleTruth t = {});
  std::vector<SampleId> ids_of_task(int task) const;

  // Reads a messages-format JSONL file. A record without "messages", with an unknown role, with
  // no assistant turn, or with a duplicate id is an InputError naming file and line; with
  // skip_bad the record is skipped and counted in *skipped instead.
  static Pool load_jsonl(const std::string& path, bool skip_bad = false, int64_t* skipped = nullptr);
  void save_jsonl(const std::string& path) const;  // atomic

  static Sample sample_from_json(const nlohmann::json& j, const std::string& where, SampleTruth* truth);
  static nlohmann::json sample_to_json(const Sample& s, const SampleTruth* truth);

 private:
  std::unordered_map<std::string, SampleId> uid_index_;
  std::unordered_map<std::string, int> task_index_;
};

// Token sequences of every pool sample, computed once and shared by the trainer, the inference
// engine and the selectors. `full` is the chat template with response-only loss; `response_only`
// drops the instructions (IFD's unconditional loss). Sequences longer than max_len keep their first
// max_len tokens; `truncated` counts the samples whose full sequence was cut, and
// `truncated_without_target` those of them left with no target token (nothing of the response).
struct TokenCache {
  std::vector<Encoded> full;
  std::vector<Encoded> response_only;
  int max_len = 0;
  int32_t pad_id = tok::kPad;  // the tokenizer's padding id (ChatTokenizer::pad_id)
  int64_t truncated = 0;
  int64_t truncated_without_target = 0;
  static TokenCache build(const Pool& pool, const ChatTokenizer& tok, int max_len);
  int64_t length(SampleId id) const { return static_cast<int64_t>(full[id].ids.size()); }
  // Number of assistant (target) tokens of a sample: "response length".
  int64_t response_tokens(SampleId id) const { return full[id].target_count(); }
};

}  // namespace lb
