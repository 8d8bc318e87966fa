// Right-padded next-token batches and per-sample masked losses; see sequence_batch.h.
#include "core/sequence_batch.h"

#include <algorithm>

namespace lb {

int64_t input_length(const Encoded& e, int64_t max_input_len) {
  const int64_t n = static_cast<int64_t>(e.ids.size()) - 1;
  if (n <= 0) return 0;
  return max_input_len > 0 ? std::min(n, max_input_len) : n;
}

int64_t counted_targets(const Encoded& e, int64_t max_input_len) {
  const int64_t n = input_length(e, max_input_len);
  int64_t c = 0;
  for (int64_t t = 1; t <= n; ++t) c += e.loss_mask[t] ? 1 : 0;
  return c;
}

TokenBatch make_token_batch(const std::vector<const Encoded*>& seqs, int64_t max_input_len,
                            const torch::Device& device, int64_t pad_id) {
  TokenBatch b;
  const int64_t B = static_cast<int64_t>(seqs.size());
  int64_t T = 1;
  b.lengths.resize(B);
  b.counts.resize(B);
  for (int64_t i = 0; i < B; ++i) {
    b.lengths[i] = input_length(*seqs[i], max_input_len);
    T = std::max(T, b.lengths[i]);
  }
  auto inputs = torch::full({B, T}, pad_id, torch::kInt64);
  auto targets = torch::full({B, T}, kIgnoreTarget, torch::kInt64);
  auto counts = torch::zeros({B}, torch::kFloat32);
  int64_t* in = inputs.data_ptr<int64_t>();
  int64_t* tg = targets.data_ptr<int64_t>();
  float* ct = counts.data_ptr<float>();
  for (int64_t i = 0; i < B; ++i) {
    const Encoded& e = *seqs[i];
    const int64_t n = b.lengths[i];
    int64_t c = 0;
    for (int64_t t = 0; t < n; ++t) {
      in[i * T + t] = e.ids[t];
      if (e.loss_mask[t + 1]) {
        tg[i * T + t] = e.ids[t + 1];
        ++c;
      }
    }
    b.counts[i] = c;
    ct[i] = static_cast<float>(c);
    b.real_tokens += n;
  }
  b.computed_tokens = B * T;
  if (device.is_cpu()) {
    b.inputs = inputs;
    b.targets = targets;
    b.target_counts = counts;
  } else {
    b.inputs = inputs.to(device);
    b.targets = targets.to(device);
    b.target_counts = counts.to(device);
  }
  return b;
}

torch::Tensor per_sample_mean_loss(const torch::Tensor& logits, const TokenBatch& batch) {
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  namespace F = torch::nn::functional;
  auto nll = F::cross_entropy(logits.reshape({B * T, V}).to(torch::kFloat32), batch.targets.reshape({B * T}),
                              F::CrossEntropyFuncOptions().reduction(torch::kNone).ignore_index(kIgnoreTarget));
  return nll.view({B, T}).sum(1) / batch.target_counts.clamp_min(1.0f);
}

}  // namespace lb
