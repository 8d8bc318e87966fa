// In-context copying, measured teacher-forced: does a model continue a text with a span it has
// already read earlier in the same text? Extractive QA (syn_tydiqa) is nothing but this look-up, so
// this tells why that suite does or does not move, in seconds and without a tuning run. Each span is
// split into its first character (finding where to copy from: after a space the byte before it is
// the same everywhere, so only a longer match can find it) and the rest (continuing a copy once
// started: a one-token match suffices for ASCII, two for the 2-byte scripts).
#pragma once

#include "core/model.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lb {

struct WorldConfig;
struct World;

struct CopySpan {
  std::string kind;              // e.g. "qa_chat", "restatement", "echo"
  std::string group;             // e.g. a language; "" when there is none
  std::vector<int32_t> tokens;   // the whole sequence, BOS first
  size_t begin = 0, end = 0;     // scored token positions [begin, end): predicted from tokens[0 .. i-1]
  size_t first_end = 0;          // end of the span's first character (begin < first_end <= end)
};

struct CopyScore {
  int64_t spans = 0;
  int64_t first_ok = 0;    // spans whose whole first character was predicted
  int64_t rest_tokens = 0;
  int64_t rest_ok = 0;     // tokens after the first character predicted
  int64_t whole_ok = 0;    // spans with every token predicted
  nlohmann::json to_json() const;  // counts and percentages
};

// For each sequence, the argmax next-token prediction at every position (out[s][i] predicts
// tokens[s][i + 1]).
using ArgmaxFn = std::function<std::vector<std::vector<int32_t>>(const std::vector<std::vector<int32_t>>&)>;

// Scores per "kind/group" key (or "kind" without a group). Throws std::invalid_argument for a span
// whose positions do not fit its tokens.
std::map<std::string, CopyScore> score_copy_spans(const std::vector<CopySpan>& spans, const ArgmaxFn& argmax);

// `model`'s greedy next-token predictions, batched (right padding; causal attention never sees it).
ArgmaxFn model_argmax(DecoderModel& model, torch::Device device, int batch_size = 32);

// The synthetic world's probe (defined in world.cpp, next to the generators it reuses): every
// syn_tydiqa item as the suite asks it ("qa_chat": the chat turn opened with the key) and as the base
// corpus states facts ("restatement": passage, so-word, key), each scored on the answer span; and
// `echoes` freshly drawn echo documents, every word of the repetition a span. Each kind has a
// "<kind>_control" twin in which the span is nowhere in context (the passage's answer replaced by
// another object, the echo's first half by another line): what a model gets without copying, from
// the shape of the words alone. Copying is the difference between the two.
std::vector<CopySpan> copy_probe_spans(const WorldConfig& cfg, const World& world, int echoes);

}  // namespace lb
