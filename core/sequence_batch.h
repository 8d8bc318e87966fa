// Right-padded next-token batches and per-sample masked losses, shared by the trainer and the
// inference engine so that both compute a sample's loss the same way.
#pragma once

#include "core/tokenizer.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace lb {

constexpr int64_t kIgnoreTarget = -100;  // target id of positions that do not count in the loss

// A sequence of L tokens predicts tokens[1..L-1] from inputs tokens[0..L-2]; inputs longer than
// max_input_len are cut at the end (the start is kept, as the tokenizer truncates).
int64_t input_length(const Encoded& e, int64_t max_input_len);
// Targets (loss_mask == 1 among tokens[1..input_length]) that the model is scored on.
int64_t counted_targets(const Encoded& e, int64_t max_input_len);

struct TokenBatch {
  torch::Tensor inputs;                // [B, T] int64, right-padded with pad_id
  torch::Tensor targets;               // [B, T] int64, kIgnoreTarget where no loss is counted
  torch::Tensor target_counts;         // [B] float32, targets per sample (0 allowed)
  std::vector<int64_t> counts;         // the same counts on the CPU
  std::vector<int64_t> lengths;        // input length per sample
  int64_t real_tokens = 0;             // sum of input lengths (non-pad tokens)
  int64_t computed_tokens = 0;         // B * T
};

// Builds the batch on the CPU and moves it to `device` once.
// pad_id fills the positions after each sequence (TokenCache::pad_id).
TokenBatch make_token_batch(const std::vector<const Encoded*>& seqs, int64_t max_input_len,
                            const torch::Device& device, int64_t pad_id = tok::kPad);

// Mean target cross-entropy per sample [B] (float32) from logits [B, T, V]: one cross-entropy over
// the whole batch, summed per row and divided by the row's target count (0 where it has none).
torch::Tensor per_sample_mean_loss(const torch::Tensor& logits, const TokenBatch& batch);

}  // namespace lb
