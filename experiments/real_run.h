// The pieces of a run or an evaluation on a pretrained checkpoint: the checkpoint (one dispatch
// point, load_run_checkpoint), its tokenizer under a chat template, the fingerprints run records
// carry, and the memory estimate printed before work starts.
#pragma once

#include "core/chat_tokenizer.h"
#include "core/model.h"
#include "evaluation/evaluator.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace lb {

struct RunCheckpoint {
  DecoderModel model{nullptr};  // eval mode, no adapters
  torch::ScalarType compute_dtype = torch::kFloat32;
  nlohmann::json info;  // path, format, architecture, stored dtype, parameters, fingerprints (checkpoint_fingerprint)
};

// Loads a checkpoint: a Hugging Face folder (core/hf_checkpoint.h). A missing path, a folder without
// config.json that is not a .gguf file is an InputError saying what is needed. A .gguf file goes to
// the GGUF reader (core/checkpoint.h).
RunCheckpoint load_run_checkpoint(const std::string& path, torch::Device device);

// What identifies the checkpoint's files: for a folder, sha256 of config.json and of its first
// safetensors shard (by index order); for a single file, its sha256.
nlohmann::json checkpoint_fingerprint(const std::string& path);

// The checkpoint's tokenizer (its tokenizer.json) under `chat_template`; a checkpoint without one is
// an InputError naming the folder and what to add.
HfChatTokenizer load_run_tokenizer(const std::string& checkpoint, const std::string& chat_template);
// The tokenizer's ids must all be rows of the model's embedding: InputError naming both otherwise.
void check_tokenizer_fits(const HfChatTokenizer& tok, const ModelConfig& model, const std::string& checkpoint);
// Superfiltering's proxy reads the same token ids as the model: its tokenizer.json, when it has one,
// must be the same file content (sha256), and its vocabulary must hold the tokenizer's ids.
void check_proxy_tokenizer(const HfChatTokenizer& tok, const std::string& proxy_checkpoint, const ModelConfig& proxy);

// The real suites `names` (mmlu, gsm8k, humaneval, tydiqa) from `data`; HumanEval gets a sandbox
// (*sandbox), checked to be available before anything runs.
std::vector<Suite> load_run_suites(const std::vector<std::string>& names, const std::string& data, const EvalConfig& cfg,
                                   std::shared_ptr<Sandbox>* sandbox, bool unsafe_no_sandbox = false);

// The memory estimate (core/hf_checkpoint.h) of training `model` with `lora` at (batch, seq_len), as
// lines to print and as JSON for the record.
std::string memory_estimate_text(const ModelConfig& model, const LoraConfig& lora, int64_t batch, int64_t seq_len,
                                 torch::ScalarType compute_dtype, bool training, nlohmann::json* as_json = nullptr);

}  // namespace lb
