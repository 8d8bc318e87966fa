// The batched no-grad inference engine: length-bucketed forward passes for per-sample losses and
// mean-pooled embeddings, results in the caller's order. See inference.h.
#include "core/inference.h"

#include "core/eval_mode.h"
#include "core/device.h"
#include "core/sequence_batch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace lb {

namespace {

torch::Device model_device(DecoderModel& model) {
  auto ps = model->parameters();
  return ps.empty() ? torch::Device(torch::kCPU) : ps.front().device();
}

}  // namespace

std::vector<std::vector<size_t>> plan_length_buckets(const std::vector<int64_t>& lengths, const InferenceConfig& cfg) {
  std::vector<size_t> order;
  for (size_t i = 0; i < lengths.size(); ++i)
    if (lengths[i] > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  const int64_t max_tokens = std::max<int64_t>(1, cfg.max_batch_tokens);
  const int64_t max_size = std::max(1, cfg.max_batch_size);
  std::vector<std::vector<size_t>> batches;
  size_t i = 0;
  while (i < order.size()) {
    const int64_t longest = lengths[order[i]];
    std::vector<size_t> batch{order[i]};
    int64_t real = longest;
    ++i;
    while (i < order.size()) {
      const int64_t n = static_cast<int64_t>(batch.size()) + 1;
      const int64_t l = lengths[order[i]];
      if (n > max_size || n * longest > max_tokens) break;
      if (static_cast<double>(real + l) < cfg.min_padding_efficiency * static_cast<double>(n * longest)) break;
      batch.push_back(order[i]);
      real += l;
      ++i;
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

InferenceEngine::InferenceEngine(const TokenCache& tokens, Ledger& ledger, torch::Device device, InferenceConfig cfg)
    : tokens_(tokens), ledger_(ledger), device_(device), cfg_(cfg) {
  if (cfg_.max_batch_tokens < 1 || cfg_.max_batch_size < 1)
    throw std::invalid_argument("inference: max_batch_tokens and max_batch_size must be >= 1");
}

std::vector<float> InferenceEngine::score(DecoderModel& model, const std::vector<const Encoded*>& seqs, Phase phase) {
  auto phase_scope = ledger_.scope(phase);
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const torch::Device dev = model_device(model);
  const int64_t max_input = model->config().max_seq_len;
  std::vector<float> out(seqs.size(), std::numeric_limits<float>::quiet_NaN());
  std::vector<int64_t> lengths(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i)
    lengths[i] = counted_targets(*seqs[i], max_input) > 0 ? input_length(*seqs[i], max_input) : 0;
  int64_t real = 0, computed = 0;
  const auto buckets = plan_length_buckets(lengths, cfg_);
  for (size_t b = 0; b < buckets.size(); ++b) {
    if (!mine(b)) continue;
    const auto& bucket = buckets[b];
    std::vector<const Encoded*> batch_seqs;
    for (size_t i : bucket) batch_seqs.push_back(seqs[i]);
    TokenBatch tb = make_token_batch(batch_seqs, max_input, dev, tokens_.pad_id);
    torch::Tensor means;
    {
      AutocastGuard autocast(dev, cfg_.bf16);
      means = per_sample_mean_loss(model->forward(tb.inputs), tb);
    }
    auto host = means.to(torch::kCPU);
    const float* lv = host.data_ptr<float>();
    for (size_t k = 0; k < bucket.size(); ++k) out[bucket[k]] = lv[k];
    ledger_.add_forward(phase, tb.real_tokens, tb.computed_tokens, static_cast<int64_t>(bucket.size()));
    real += tb.real_tokens;
    computed += tb.computed_tokens;
  }
  if (pg_) {
    // Positions in a bucket: 0 except at their scoring rank; the rest stay NaN (no targets).
    const int64_t n = static_cast<int64_t>(seqs.size());
    auto sum = torch::zeros({n + 2}, torch::kFloat64);
    double* sp = sum.data_ptr<double>();
    for (size_t b = 0; b < buckets.size(); ++b)
      if (mine(b))
        for (size_t i : buckets[b]) sp[i] = out[i];
    sp[n] = static_cast<double>(real);
    sp[n + 1] = static_cast<double>(computed);
    pg_->all_reduce_sum(sum, "inference scores of " + std::to_string(n) + " sequences");
    for (const auto& bucket : buckets)
      for (size_t i : bucket) out[i] = static_cast<float>(sp[i]);  // exact: one float and zeros
    real = static_cast<int64_t>(sp[n]);
    computed = static_cast<int64_t>(sp[n + 1]);
  }
  last_efficiency_ = computed ? static_cast<double>(real) / computed : 1.0;
  return out;
}

std::vector<float> InferenceEngine::response_loss(DecoderModel& model, const std::vector<SampleId>& ids, Phase phase) {
  std::vector<const Encoded*> seqs;
  seqs.reserve(ids.size());
  for (SampleId id : ids) seqs.push_back(&tokens_.full.at(id));
  return score(model, seqs, phase);
}

std::vector<float> InferenceEngine::response_only_loss(DecoderModel& model, const std::vector<SampleId>& ids,
                                                       Phase phase) {
  if (tokens_.response_only.size() != tokens_.full.size())
    throw std::logic_error("response_only_loss: the token cache has no response-only sequences (build it with TokenCache::build)");
  std::vector<const Encoded*> seqs;
  seqs.reserve(ids.size());
  for (SampleId id : ids) seqs.push_back(&tokens_.response_only.at(id));
  return score(model, seqs, phase);
}

std::vector<float> InferenceEngine::loss_of(DecoderModel& model, const std::vector<Encoded>& seqs, Phase phase) {
  std::vector<const Encoded*> ptrs;
  ptrs.reserve(seqs.size());
  for (const auto& e : seqs) ptrs.push_back(&e);
  return score(model, ptrs, phase);
}

torch::Tensor InferenceEngine::embeddings(DecoderModel& model, const std::vector<SampleId>& ids, Phase phase) {
  auto phase_scope = ledger_.scope(phase);
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const torch::Device dev = model_device(model);
  const int64_t max_len = model->config().max_seq_len;
  const int64_t d = model->config().d_model;
  // Every token of the sequence is embedded (not only the inputs of next-token prediction).
  std::vector<int64_t> lengths(ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    lengths[i] = std::min<int64_t>(static_cast<int64_t>(tokens_.full.at(ids[i]).ids.size()), max_len);
  auto out = torch::zeros({static_cast<int64_t>(ids.size()), d}, torch::kFloat32);
  int64_t real = 0, computed = 0;
  const auto buckets = plan_length_buckets(lengths, cfg_);
  for (size_t bi = 0; bi < buckets.size(); ++bi) {
    if (!mine(bi)) continue;
    const auto& bucket = buckets[bi];
    const int64_t B = static_cast<int64_t>(bucket.size());
    const int64_t T = lengths[bucket.front()];
    auto tokens = torch::full({B, T}, static_cast<int64_t>(tokens_.pad_id), torch::kInt64);
    auto mask = torch::zeros({B, T, 1}, torch::kFloat32);
    int64_t* tp = tokens.data_ptr<int64_t>();
    float* mp = mask.data_ptr<float>();
    int64_t batch_real = 0;
    for (int64_t b = 0; b < B; ++b) {
      const auto& e = tokens_.full[ids[bucket[b]]];
      for (int64_t t = 0; t < lengths[bucket[b]]; ++t) {
        tp[b * T + t] = e.ids[t];
        mp[b * T + t] = 1.0f;
      }
      batch_real += lengths[bucket[b]];
    }
    torch::Tensor pooled;
    {
      AutocastGuard autocast(dev, cfg_.bf16);
      auto h = model->hidden_states(tokens.to(dev)).to(torch::kFloat32);
      auto m = mask.to(dev);
      pooled = (h * m).sum(1) / m.sum(1);
    }
    auto host = pooled.to(torch::kCPU);
    auto index = torch::tensor(std::vector<int64_t>(bucket.begin(), bucket.end()), torch::kInt64);
    out.index_copy_(0, index, host);
    ledger_.add_forward(phase, batch_real, B * T, B);
    real += batch_real;
    computed += B * T;
  }
  if (pg_) {
    // Rows of other ranks' buckets are zero here: the sum is every row, exactly.
    pg_->all_reduce_sum(out, "embeddings of " + std::to_string(ids.size()) + " samples");
    auto counts = torch::tensor({static_cast<double>(real), static_cast<double>(computed)}, torch::kFloat64);
    pg_->all_reduce_sum(counts, "embedding token counts");
    real = static_cast<int64_t>(counts[0].item<double>());
    computed = static_cast<int64_t>(counts[1].item<double>());
  }
  last_efficiency_ = computed ? static_cast<double>(real) / computed : 1.0;
  return out;
}

}  // namespace lb
