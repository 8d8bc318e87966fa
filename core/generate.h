// Text generation (greedy or temperature/top-p sampling) with a KV cache, batched with left
// padding, and log-likelihood scoring of continuations: the two request types evaluation needs.
#pragma once

#include "core/ledger.h"
#include "core/model.h"
#include "core/tokenizer.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lb {

struct GenerationOptions {
  int max_new_tokens = 128;
  double temperature = 0.0;  // 0 = greedy
  double top_p = 1.0;        // nucleus sampling mass
  std::vector<std::string> stop;  // the text is cut before the first stop string
  uint64_t seed = 0;         // per-request sampling seed (results do not depend on batching)
};

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids (e.g. ChatTokenizer::encode_generation_prompt)
  GenerationOptions options;
};

// Generates for every request; stops at the tokenizer's end-of-turn/eos ids (ChatTokenizer::is_stop),
// max_new_tokens, or a stop string. Returns the
// decoded text of each generation (without the prompt, cut before any stop string). Forward tokens
// are charged to `phase` of `ledger` when given. A prompt keeps its last max_seq_len - 1 tokens and
// generation also stops when prompt + generated tokens reach max_seq_len. Runs in eval mode without
// gradients and restores the model's mode. Requests are batched longest-prompt first.
std::vector<std::string> generate(DecoderModel& model, const ChatTokenizer& tok,
                                  const std::vector<GenerationRequest>& requests, torch::Device device,
                                  int batch_size = 32, Ledger* ledger = nullptr, Phase phase = Phase::evaluation);

// Greedy continuations by token id, without a tokenizer (pretrained checkpoints with their own
// vocabularies): for each prompt, up to max_new_tokens argmax tokens, ending after the first token
// in stop_ids (which is kept). One batch, left-padded, through the KV cache. A prompt that is empty,
// holds an id outside the vocabulary, or with max_new_tokens exceeds max_seq_len is an
// std::invalid_argument naming it. Runs in eval mode without gradients.
std::vector<std::vector<int32_t>> greedy_token_ids(DecoderModel& model, const std::vector<std::vector<int32_t>>& prompts,
                                                   int max_new_tokens, const std::vector<int64_t>& stop_ids,
                                                   torch::Device device);

// Sum of log p(continuation | context) over the continuation's tokens, for each pair.
// Contexts longer than the model's max_seq_len are truncated from the left (the window is the last
// max_seq_len + 1 tokens of context + continuation). An empty context or continuation, or a
// continuation longer than max_seq_len, is an std::invalid_argument naming the pair.
std::vector<double> continuation_logprobs(
    DecoderModel& model, const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>>& pairs,
    torch::Device device, int64_t max_batch_tokens = 8192, Ledger* ledger = nullptr, Phase phase = Phase::evaluation);

}  // namespace lb
