// The batched no-grad inference engine every selector uses to score data: per-sample response
// loss, the same loss with the instruction removed (IFD), and mean-pooled hidden states. Sequences
// are bucketed by length so that little compute is spent on padding. Every call is timed and its
// tokens counted under the phase the caller names.
#pragma once

#include "core/distributed.h"
#include "core/ledger.h"
#include "core/model.h"
#include "core/pool.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace lb {

struct InferenceConfig {
  int64_t max_batch_tokens = 8192;  // padded tokens per forward pass
  int max_batch_size = 128;         // sequences per forward pass
  double min_padding_efficiency = 0.95;  // a bucket closes before its real/padded tokens drop below this
  bool bf16 = true;                 // bf16 autocast on CUDA (ignored on CPU)

  template <class V> void visit(V& v) {
    v.field("max_batch_tokens", max_batch_tokens, "padded tokens per scoring forward pass (memory bound)");
    v.field("max_batch_size", max_batch_size, "sequences per scoring forward pass");
    v.field("min_padding_efficiency", min_padding_efficiency,
            "length buckets close before real/padded tokens fall below this (little compute on padding)");
    v.field("bf16", bf16, "bf16 autocast on CUDA when scoring; CPU always runs fp32");
  }
};

class InferenceEngine {
 public:
  InferenceEngine(const TokenCache& tokens, Ledger& ledger, torch::Device device, InferenceConfig cfg = {});

  // Mean response-token loss of each sample (chat template, instruction included). A sample with
  // no response tokens left after truncation gets NaN.
  std::vector<float> response_loss(DecoderModel& model, const std::vector<SampleId>& ids, Phase phase);
  // The same loss with the instruction removed (tokens.response_only): IFD's denominator.
  std::vector<float> response_only_loss(DecoderModel& model, const std::vector<SampleId>& ids, Phase phase);
  // Mean-pooled final hidden states over each sample's real tokens: [ids.size(), d_model], float32 CPU.
  torch::Tensor embeddings(DecoderModel& model, const std::vector<SampleId>& ids, Phase phase);
  // Mean target-token loss of arbitrary sequences (perturbed prompts, suites).
  std::vector<float> loss_of(DecoderModel& model, const std::vector<Encoded>& seqs, Phase phase);

  // Data-parallel scoring (core/distributed.h): the length buckets of every call are planned alike
  // on every rank and dealt round-robin (bucket b to rank b mod W); each rank scores its buckets and
  // one all-reduce (a sum in which each position has one non-zero term) hands every rank every
  // result in the caller's order, bit for bit what one rank computes for those buckets. Every rank
  // must make the same calls. The ledger counts this rank's tokens only. Null: alone.
  void set_process_group(ProcessGroupPtr pg) { pg_ = pg && pg->size() > 1 ? std::move(pg) : nullptr; }

  // real tokens / computed tokens of the last call.
  double last_padding_efficiency() const { return last_efficiency_; }

 private:
  const TokenCache& tokens_;
  Ledger& ledger_;
  torch::Device device_;
  InferenceConfig cfg_;
  double last_efficiency_ = 1.0;
  ProcessGroupPtr pg_;
  bool mine(size_t bucket) const { return !pg_ || static_cast<int>(bucket % static_cast<size_t>(pg_->size())) == pg_->rank(); }

  // Mean target loss of each sequence (NaN without targets), bucketed by length.
  std::vector<float> score(DecoderModel& model, const std::vector<const Encoded*>& seqs, Phase phase);
};

// Length buckets: indices of `lengths` (positive entries only) grouped into batches of similar
// length, longest first, each within max_batch_tokens padded tokens, max_batch_size sequences and
// min_padding_efficiency. Exposed for tests.
std::vector<std::vector<size_t>> plan_length_buckets(const std::vector<int64_t>& lengths, const InferenceConfig& cfg);

}  // namespace lb
