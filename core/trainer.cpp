// The shared trainer: AdamW with accumulation, clipping and LR schedules, per-sample losses from
// the update's own forward pass, the round's mean-gradient sketch, and safetensors checkpoints
// that resume bit-exactly on CPU. See trainer.h.
#include "core/trainer.h"

#include "core/config.h"
#include "core/device.h"
#include "core/inference.h"
#include "core/json_io.h"
#include "core/progress.h"
#include "core/safetensors.h"
#include "core/seeds.h"
#include "core/sequence_batch.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <type_traits>
#include <unordered_map>

namespace lb {

namespace {

constexpr const char* kCheckpointFormat = "leadbench-trainer-checkpoint/1";
constexpr uint64_t kCountSketchSeed = 0x5EED5CE7C0FFEEull;  // fixed: sketches of every run are comparable

// AdamW keeps its per-parameter state in a map keyed by the parameter's TensorImpl: a string of the
// pointer in LibTorch 1.13, the pointer itself in later versions. This picks the key either way.
template <class Map> typename Map::key_type adam_state_key(const Map&, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << static_cast<const void*>(p.unsafeGetTensorImpl());
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The declared rules of TrainConfig (trainer.h), for trainers built without a config file.
void validate_config(const TrainConfig& cfg) { config_check(cfg, "the trainer config", nullptr, "train."); }

std::string ids_text(const std::vector<SampleId>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s;
}

int64_t parse_int(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& path) {
  auto it = meta.find(key);
  if (it == meta.end()) throw InputError(path + ": checkpoint metadata lacks '" + key + "'; the file is not a complete trainer checkpoint");
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing characters");
    return v;
  } catch (const std::exception&) {
    throw InputError(path + ": checkpoint metadata '" + key + "' = '" + it->second + "' is not an integer; the file is corrupt");
  }
}

uint64_t parse_u64(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& path) {
  auto it = meta.find(key);
  if (it == meta.end()) throw InputError(path + ": checkpoint metadata lacks '" + key + "'; the file is not a complete trainer checkpoint");
  try {
    size_t used = 0;
    unsigned long long v = std::stoull(it->second, &used);
    if (used != it->second.size() || it->second.empty() || it->second[0] == '-') throw std::invalid_argument("bad");
    return v;
  } catch (const std::exception&) {
    throw InputError(path + ": checkpoint metadata '" + key + "' = '" + it->second + "' is not an unsigned integer; the file is corrupt");
  }
}

}  // namespace

double lr_at(const TrainConfig& cfg, int64_t step, int64_t total_steps) {
  if (cfg.schedule == "constant") return cfg.lr;
  if (cfg.schedule == "step_decay") {
    if (cfg.decay_every < 1) throw ConfigError("train.decay_every must be >= 1 for step_decay");
    return cfg.lr * std::pow(cfg.decay_rate, static_cast<double>(step / cfg.decay_every));
  }
  if (cfg.schedule == "linear" || cfg.schedule == "cosine") {
    // Warm-up: step s of W uses lr*(s+1)/W, so the last warm-up step reaches the peak.
    if (cfg.warmup_steps > 0 && step < cfg.warmup_steps)
      return cfg.lr * static_cast<double>(step + 1) / static_cast<double>(cfg.warmup_steps);
    const int64_t decay_steps = total_steps - std::max<int64_t>(cfg.warmup_steps, 0);
    if (decay_steps <= 0) return cfg.lr;
    double progress = static_cast<double>(step - std::max<int64_t>(cfg.warmup_steps, 0)) / decay_steps;
    progress = std::min(1.0, std::max(0.0, progress));
    const double shape = cfg.schedule == "linear" ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
    return cfg.lr * (cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * shape);
  }
  throw ConfigError("train.schedule '" + cfg.schedule + "' is unknown; use constant, linear, cosine or step_decay");
}

Trainer::Trainer(DecoderModel model, const TrainConfig& cfg, const TokenCache& tokens, Ledger& ledger,
                 torch::Device device, uint64_t data_order_seed)
    : model_(std::move(model)), cfg_(cfg), tokens_(tokens), ledger_(ledger), device_(device),
      data_order_seed_(data_order_seed) {
  validate_config(cfg_);
  model_->to(device_);
  params_ = model_->trainable_parameters();
  if (params_.empty()) throw ConfigError("the model has no trainable parameters; check lora.rank / lora.train_base");
  // Names of the trainable parameters, for checkpoints.
  std::unordered_map<const void*, std::string> name_of;
  for (const auto& p : model_->named_parameters(true)) name_of[p.value().unsafeGetTensorImpl()] = p.key();
  for (const auto& p : params_) {
    auto it = name_of.find(p.unsafeGetTensorImpl());
    if (it == name_of.end()) throw std::logic_error("trainable_parameters() returned a tensor that is not a named parameter");
    param_names_.push_back(it->second);
  }
  auto options = torch::optim::AdamWOptions(cfg_.lr)
                     .betas(std::make_tuple(cfg_.beta1, cfg_.beta2))
                     .eps(cfg_.eps)
                     .weight_decay(cfg_.weight_decay);
  opt_ = std::make_unique<torch::optim::AdamW>(params_, options);

  if (cfg_.sketch == "last_block") sketch_params_ = model_->last_block_trainable_parameters();
  if (cfg_.sketch == "all") sketch_params_ = params_;
  if (cfg_.sketch == "last_block" && sketch_params_.empty())
    throw ConfigError("train.sketch = last_block, but the last block has no trainable parameters; use countsketch or none");
}

void Trainer::build_countsketch() {
  int64_t n = 0;
  for (const auto& p : params_) n += p.numel();
  auto index = torch::empty({n}, torch::kInt64);
  auto sign = torch::empty({n}, torch::kFloat32);
  int64_t* ix = index.data_ptr<int64_t>();
  float* sg = sign.data_ptr<float>();
  const uint64_t dim = static_cast<uint64_t>(cfg_.sketch_dim);
  for (int64_t j = 0; j < n; ++j) {
    const uint64_t h = mix64(kCountSketchSeed ^ mix64(static_cast<uint64_t>(j)));
    ix[j] = static_cast<int64_t>((h >> 1) % dim);
    sg[j] = (h & 1) ? 1.0f : -1.0f;
  }
  sketch_index_ = index.to(device_);
  sketch_sign_ = sign.to(device_);
}

void Trainer::set_lr(double lr) {
  for (auto& group : opt_->param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

torch::Tensor Trainer::current_sketch() {
  auto flat_grads = [](const std::vector<torch::Tensor>& ps) {
    std::vector<torch::Tensor> flat;
    flat.reserve(ps.size());
    for (const auto& p : ps) {
      const auto& g = p.grad();
      flat.push_back(g.defined() ? g.detach().reshape({-1}).to(torch::kFloat32)
                                 : torch::zeros({p.numel()}, p.options().dtype(torch::kFloat32)));
    }
    return torch::cat(flat);
  };
  if (cfg_.sketch == "last_block" || cfg_.sketch == "all") return flat_grads(sketch_params_);
  if (cfg_.sketch == "countsketch") {
    if (!sketch_ready_) {
      build_countsketch();
      sketch_ready_ = true;
    }
    auto sketch = torch::zeros({cfg_.sketch_dim}, sketch_sign_.options());
    sketch.index_add_(0, sketch_index_, flat_grads(params_) * sketch_sign_);
    return sketch;
  }
  return {};
}

std::vector<std::vector<size_t>> Trainer::micro_batches(const std::vector<SampleId>& batch, int64_t mbs,
                                                        int64_t max_input) const {
  std::vector<std::vector<size_t>> out;
  if (!cfg_.length_micro_batches) {
    // Consecutive chunks of micro_batch_size, in the batch's order (the committed records' arithmetic).
    for (size_t m0 = 0; m0 < batch.size(); m0 += static_cast<size_t>(mbs)) {
      out.emplace_back();
      for (size_t i = m0; i < std::min(batch.size(), m0 + static_cast<size_t>(mbs)); ++i) out.back().push_back(i);
    }
    return out;
  }
  // The batch's samples by length, longest first, cut where padding would pass 10 % of a micro-batch
  // (at most micro_batch_size samples each): the same samples and the same summed gradient.
  std::vector<int64_t> lengths(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) lengths[i] = std::max<int64_t>(1, input_length(tokens_.full[batch[i]], max_input));
  InferenceConfig plan;
  plan.max_batch_size = static_cast<int>(mbs);
  plan.max_batch_tokens = std::numeric_limits<int64_t>::max() / 2;
  plan.min_padding_efficiency = 0.9;
  return plan_length_buckets(lengths, plan);
}

RoundFeedback Trainer::train_round(const std::vector<SampleId>& ids, int epochs, Phase phase) {
  auto phase_scope = ledger_.scope(phase);
  const double t_start = now_seconds();
  for (SampleId id : ids)
    if (id < 0 || id >= static_cast<SampleId>(tokens_.full.size()))
      throw std::out_of_range("train_round: sample id " + std::to_string(id) + " is outside the token cache (" +
                              std::to_string(tokens_.full.size()) + " samples)");
  if (epochs < 0) throw std::invalid_argument("train_round: epochs must be >= 0");

  RoundFeedback fb;
  fb.round = round_;
  const int64_t bs = cfg_.batch_size;
  const int64_t mbs = cfg_.micro_batch_size > 0 ? std::min<int64_t>(cfg_.micro_batch_size, bs) : bs;
  const int64_t max_input = model_->config().max_seq_len;

  // The order of every pass: a fresh shuffle per pass, from the data-order seed and a counter.
  std::vector<std::vector<SampleId>> batches;
  for (int e = 0; e < epochs; ++e) {
    std::vector<SampleId> order = ids;
    Rng rng = Rng::derive(data_order_seed_, "train-shuffle/" + std::to_string(shuffle_counter_++));
    rng.shuffle(order);
    for (size_t i = 0; i < order.size(); i += bs)
      batches.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + static_cast<size_t>(bs)));
  }
  const int64_t total = planned_total_ > 0 ? planned_total_ : step_ + static_cast<int64_t>(batches.size());

  std::unordered_map<SampleId, size_t> slot;
  torch::Tensor sketch_sum;
  double lr_sum = 0;
  Progress progress("train round " + std::to_string(round_), static_cast<int64_t>(batches.size()));
  model_->train();

  int64_t batch_index = 0;  // 1-based position in this round, what the progress line counts
  for (const auto& batch : batches) {
    ++batch_index;
    int64_t n_valid = 0;
    for (SampleId id : batch) n_valid += counted_targets(tokens_.full[id], max_input) > 0 ? 1 : 0;
    const double lr = lr_at(cfg_, step_, total);
    set_lr(lr);
    opt_->zero_grad();
    double loss_sum = 0;
    int64_t step_tokens = 0;
    if (pg_) step_tokens = forward_backward_shard(batch, mbs, max_input, n_valid, phase, lr, fb, slot, loss_sum);
    else for (const auto& micro : micro_batches(batch, mbs, max_input)) {
      std::vector<const Encoded*> seqs;
      for (size_t i : micro) seqs.push_back(&tokens_.full[batch[i]]);
      TokenBatch tb = make_token_batch(seqs, max_input, device_, tokens_.pad_id);
      torch::Tensor means;
      {
        AutocastGuard autocast(device_, cfg_.bf16);
        means = per_sample_mean_loss(model_->forward(tb.inputs), tb);
      }
      auto host = means.detach().to(torch::kCPU);
      const float* lv = host.data_ptr<float>();
      std::vector<SampleId> bad;
      for (size_t i = 0; i < seqs.size(); ++i)
        if (tb.counts[i] > 0 && !std::isfinite(lv[i])) bad.push_back(batch[micro[i]]);
      if (!bad.empty())
        throw TrainingError("training loss is NaN or infinite at optimizer step " + std::to_string(step_) +
                            " (round " + std::to_string(round_) + ", lr " + std::to_string(lr) +
                            ") for samples " + ids_text(bad) + " of the batch [" + ids_text(batch) +
                            "]; lower train.lr (or raise warm-up / clipping), and check those samples' data");
      for (size_t i = 0; i < seqs.size(); ++i) {
        const SampleId id = batch[micro[i]];
        const float v = tb.counts[i] > 0 ? lv[i] : std::numeric_limits<float>::quiet_NaN();
        auto [it, inserted] = slot.emplace(id, fb.ids.size());
        if (inserted) {
          fb.ids.push_back(id);
          fb.losses.push_back(v);
        } else {
          fb.losses[it->second] = v;
        }
        if (tb.counts[i] > 0) loss_sum += lv[i];
      }
      if (n_valid > 0) {
        auto valid = (tb.target_counts > 0).to(torch::kFloat32);
        auto loss = (means * valid).sum() / static_cast<double>(n_valid);
        loss.backward();
        ledger_.add_backward(phase, tb.real_tokens);
      }
      ledger_.add_forward(phase, tb.real_tokens, tb.computed_tokens, static_cast<int64_t>(seqs.size()));
      step_tokens += tb.real_tokens;
    }
    fb.tokens += step_tokens;
    if (n_valid == 0) continue;  // nothing to learn from (every response truncated away): no step
    if (pg_) all_reduce_gradients();

    if (gradient_sketch()) {
      ++sketched_steps_;
      auto g = current_sketch();
      if (sketch_sum.defined()) sketch_sum.add_(g);
      else sketch_sum = g.clone();
    }
    if (cfg_.grad_clip > 0) {
      // Global-norm clipping without a host sync (as torch.nn.utils.clip_grad_norm_ does).
      std::vector<torch::Tensor> norms;
      for (const auto& p : params_)
        if (p.grad().defined()) norms.push_back(p.grad().detach().norm(2));
      if (!norms.empty()) {
        auto total_norm = torch::stack(norms).norm(2);
        auto coef = (cfg_.grad_clip / (total_norm + 1e-6)).clamp_max(1.0);
        for (const auto& p : params_)
          if (p.grad().defined()) p.grad().detach().mul_(coef);
      }
    }
    opt_->step();
    ++step_;
    ++fb.steps;
    lr_sum += lr;
    const double elapsed = now_seconds() - t_start;
    progress.step(round_, batch_index, loss_sum / n_valid, lr, elapsed > 0 ? fb.tokens / elapsed : 0.0);
  }

  if (sketch_sum.defined()) {
    fb.grad_mean = (sketch_sum / static_cast<double>(fb.steps)).to(torch::kCPU, torch::kFloat32);
    fb.grad_norm = fb.grad_mean.norm().item<double>();
  }
  fb.lr_mean = fb.steps ? lr_sum / fb.steps : 0.0;
  double sum = 0;
  int64_t n = 0;
  for (float v : fb.losses)
    if (std::isfinite(v)) {
      sum += v;
      ++n;
    }
  fb.mean_loss = n ? sum / n : std::numeric_limits<double>::quiet_NaN();
  device_synchronize(device_);
  fb.seconds = now_seconds() - t_start;
  ++round_;
  return fb;
}

// ---------------------------------------------------------------------------------------------
// Data parallelism (trainer.h, set_process_group).

void Trainer::set_process_group(ProcessGroupPtr pg) {
  pg_ = pg && pg->size() > 1 ? std::move(pg) : nullptr;
  if (!pg_) return;
  // Every rank starts from rank 0's weights (they are built from the same seed; this makes sure).
  std::vector<torch::Tensor> flat;
  for (const auto& p : params_) flat.push_back(p.detach().reshape({-1}).to(torch::kCPU, torch::kFloat32));
  torch::Tensor all = torch::cat(flat);
  pg_->broadcast(all, 0, "rank 0's trainable weights");
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& p : params_) {
    p.copy_(all.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
}

void Trainer::all_reduce_gradients() {
  std::vector<torch::Tensor> bufs;
  bufs.reserve(params_.size() + 1);
  auto defined = torch::zeros({static_cast<int64_t>(params_.size())}, torch::kFloat32);
  float* dp = defined.data_ptr<float>();
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& g = params_[i].grad();
    dp[i] = g.defined() ? 1.0f : 0.0f;
    if (g.defined() && g.scalar_type() == torch::kFloat32) bufs.push_back(g.detach());  // reduced in place
    else bufs.push_back(g.defined() ? g.detach().to(torch::kFloat32) : torch::zeros(params_[i].sizes(), params_[i].options().dtype(torch::kFloat32)));
  }
  bufs.push_back(defined);
  pg_->all_reduce_sum(bufs, "gradients of optimizer step " + std::to_string(step_));
  const float* sum_defined = bufs.back().data_ptr<float>();
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    if (sum_defined[i] == 0.0f) continue;  // undefined on every rank: AdamW skips it everywhere
    if (!p.grad().defined()) p.mutable_grad() = bufs[i].to(p.dtype());
    else if (!p.grad().is_same(bufs[i]) && bufs[i].data_ptr() != p.grad().data_ptr()) p.grad().copy_(bufs[i]);
  }
}

int64_t Trainer::forward_backward_shard(const std::vector<SampleId>& batch, int64_t mbs, int64_t max_input,
                                        int64_t n_valid, Phase phase, double lr, RoundFeedback& fb,
                                        std::unordered_map<SampleId, size_t>& slot, double& loss_sum) {
  const size_t W = static_cast<size_t>(pg_->size()), R = static_cast<size_t>(pg_->rank());
  // This rank's share: the batch's positions R, R+W, R+2W, ... (slot k holds position R + k*W).
  std::vector<SampleId> mine;
  for (size_t pos = R; pos < batch.size(); pos += W) mine.push_back(batch[pos]);
  const int64_t slots = static_cast<int64_t>((batch.size() + W - 1) / W);
  // What every rank hands the others: [loss of each slot][1 where it has targets][real tokens].
  auto local = torch::zeros({2 * slots + 1}, torch::kFloat64);
  double* lp = local.data_ptr<double>();
  int64_t my_tokens = 0;
  if (!mine.empty())
    for (const auto& micro : micro_batches(mine, mbs, max_input)) {
      std::vector<const Encoded*> seqs;
      for (size_t i : micro) seqs.push_back(&tokens_.full[mine[i]]);
      TokenBatch tb = make_token_batch(seqs, max_input, device_, tokens_.pad_id);
      torch::Tensor means;
      {
        AutocastGuard autocast(device_, cfg_.bf16);
        means = per_sample_mean_loss(model_->forward(tb.inputs), tb);
      }
      auto host = means.detach().to(torch::kCPU);
      const float* lv = host.data_ptr<float>();
      for (size_t i = 0; i < seqs.size(); ++i) {
        lp[micro[i]] = lv[i];
        lp[slots + static_cast<int64_t>(micro[i])] = tb.counts[i] > 0 ? 1.0 : 0.0;
      }
      if (n_valid > 0) {
        auto valid = (tb.target_counts > 0).to(torch::kFloat32);
        auto loss = (means * valid).sum() / static_cast<double>(n_valid);
        loss.backward();
        ledger_.add_backward(phase, tb.real_tokens);
      }
      ledger_.add_forward(phase, tb.real_tokens, tb.computed_tokens, static_cast<int64_t>(seqs.size()));
      my_tokens += tb.real_tokens;
    }
  lp[2 * slots] = static_cast<double>(my_tokens);
  const torch::Tensor all = pg_->all_gather(local, "per-sample losses of optimizer step " + std::to_string(step_));
  const auto acc = all.accessor<double, 2>();
  // The whole batch in its own order, as one rank sees it: the same check, ids and losses.
  std::vector<SampleId> bad;
  for (size_t pos = 0; pos < batch.size(); ++pos) {
    const size_t r = pos % W, k = pos / W;
    if (acc[r][slots + k] > 0 && !std::isfinite(acc[r][k])) bad.push_back(batch[pos]);
  }
  if (!bad.empty())
    throw TrainingError("training loss is NaN or infinite at optimizer step " + std::to_string(step_) + " (round " +
                        std::to_string(round_) + ", lr " + std::to_string(lr) + ") for samples " + ids_text(bad) +
                        " of the batch [" + ids_text(batch) + "]; lower train.lr (or raise warm-up / clipping), and check those samples' data");
  for (size_t pos = 0; pos < batch.size(); ++pos) {
    const size_t r = pos % W, k = pos / W;
    const bool has_targets = acc[r][slots + k] > 0;
    const float lv = static_cast<float>(acc[r][k]);  // exact: a float went in
    const float v = has_targets ? lv : std::numeric_limits<float>::quiet_NaN();
    auto [it, inserted] = slot.emplace(batch[pos], fb.ids.size());
    if (inserted) {
      fb.ids.push_back(batch[pos]);
      fb.losses.push_back(v);
    } else {
      fb.losses[it->second] = v;
    }
    if (has_targets) loss_sum += lv;
  }
  int64_t tokens = 0;
  for (size_t r = 0; r < W; ++r) tokens += static_cast<int64_t>(acc[r][2 * slots]);
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: tensors "model/<name>" (every parameter and buffer), "optim/<name>/exp_avg",
// "optim/<name>/exp_avg_sq", "optim/<name>/step" (trainable parameters with AdamW state),
// "rng/torch_cpu" (the CPU generator: dropout masks); metadata: format, step, round,
// shuffle_counter, planned_total_steps, data_order_seed, train_config, config (resolved, JSON).

void Trainer::save_checkpoint(const std::string& path, const nlohmann::json& resolved_config) {
  safetensors::TensorFile f;
  f.metadata["format"] = kCheckpointFormat;
  f.metadata["step"] = std::to_string(step_);
  f.metadata["round"] = std::to_string(round_);
  f.metadata["shuffle_counter"] = std::to_string(shuffle_counter_);
  f.metadata["planned_total_steps"] = std::to_string(planned_total_);
  f.metadata["data_order_seed"] = std::to_string(data_order_seed_);
  f.metadata["train_config"] = config_to_json(cfg_).dump();
  f.metadata["config"] = resolved_config.dump();
  for (const auto& p : model_->named_parameters(true)) f.add("model/" + p.key(), p.value());
  for (const auto& b : model_->named_buffers(true)) f.add("model/" + b.key(), b.value());
  auto& state = opt_->state();
  for (size_t i = 0; i < params_.size(); ++i) {
    auto it = state.find(adam_state_key(state, params_[i]));
    if (it == state.end()) continue;
    auto& st = static_cast<torch::optim::AdamWParamState&>(*it->second);
    const std::string base = "optim/" + param_names_[i] + "/";
    f.add(base + "exp_avg", st.exp_avg());
    f.add(base + "exp_avg_sq", st.exp_avg_sq());
    f.add(base + "step", torch::tensor(static_cast<int64_t>(st.step()), torch::kInt64));
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    f.add("rng/torch_cpu", gen.get_state());
  }
  safetensors::save_file(path, f);
}

nlohmann::json Trainer::load_checkpoint(const std::string& path) {
  // Everything is checked before anything is changed: a rejected file leaves the trainer as it was.
  safetensors::TensorFile f = safetensors::load_file(path);
  auto fmt = f.metadata.find("format");
  if (fmt == f.metadata.end() || fmt->second != kCheckpointFormat)
    throw InputError(path + ": not a leadbench trainer checkpoint (metadata 'format' is " +
                     (fmt == f.metadata.end() ? std::string("missing") : "'" + fmt->second + "'") +
                     ", expected '" + kCheckpointFormat + "')");
  const int64_t step = parse_int(f.metadata, "step", path);
  const int64_t round = parse_int(f.metadata, "round", path);
  const uint64_t shuffle_counter = parse_u64(f.metadata, "shuffle_counter", path);
  const int64_t planned = parse_int(f.metadata, "planned_total_steps", path);
  const uint64_t data_seed = parse_u64(f.metadata, "data_order_seed", path);
  if (step < 0 || round < 0) throw InputError(path + ": negative step or round in the metadata; the file is corrupt");
  nlohmann::json resolved;
  {
    auto it = f.metadata.find("config");
    if (it == f.metadata.end()) throw InputError(path + ": checkpoint metadata lacks 'config' (the resolved config)");
    try {
      resolved = nlohmann::json::parse(it->second);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(path + ": checkpoint metadata 'config' is not valid JSON (" + e.what() + "); the file is corrupt");
    }
  }

  std::unordered_map<std::string, const torch::Tensor*> by_name;
  for (const auto& [name, t] : f.tensors) by_name[name] = &t;
  std::set<std::string> used;
  auto need = [&](const std::string& name, at::IntArrayRef shape, torch::ScalarType type,
                  const std::string& what) -> const torch::Tensor& {
    auto it = by_name.find(name);
    if (it == by_name.end())
      throw InputError(path + ": tensor '" + name + "' (" + what + ") is missing; the checkpoint belongs to another model configuration");
    const torch::Tensor& t = *it->second;
    if (t.sizes() != shape)
      throw InputError(path + ": tensor '" + name + "' has shape " + c10::str(t.sizes()) + " but the model needs " +
                       c10::str(shape) + "; the checkpoint belongs to another model configuration");
    if (t.scalar_type() != type)
      throw InputError(path + ": tensor '" + name + "' has dtype " + c10::toString(t.scalar_type()) + " but the model needs " +
                       c10::toString(type));
    used.insert(name);
    return t;
  };

  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;  // (model tensor, checkpoint tensor)
  for (const auto& p : model_->named_parameters(true))
    copies.emplace_back(p.value(), &need("model/" + p.key(), p.value().sizes(), p.value().scalar_type(), "model weight"));
  for (const auto& b : model_->named_buffers(true))
    copies.emplace_back(b.value(), &need("model/" + b.key(), b.value().sizes(), b.value().scalar_type(), "model buffer"));

  struct AdamState {
    const torch::Tensor* exp_avg = nullptr;
    const torch::Tensor* exp_avg_sq = nullptr;
    int64_t step = 0;
  };
  std::vector<AdamState> adam(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string base = "optim/" + param_names_[i] + "/";
    if (!by_name.count(base + "step")) continue;  // never stepped when saved
    const auto& p = params_[i];
    adam[i].exp_avg = &need(base + "exp_avg", p.sizes(), p.scalar_type(), "AdamW first moment");
    adam[i].exp_avg_sq = &need(base + "exp_avg_sq", p.sizes(), p.scalar_type(), "AdamW second moment");
    adam[i].step = need(base + "step", {}, torch::kInt64, "AdamW step").item<int64_t>();
    if (adam[i].step < 0) throw InputError(path + ": tensor '" + base + "step' is negative; the file is corrupt");
  }
  torch::Tensor rng_state;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    torch::Tensor current = gen.get_state();
    rng_state = need("rng/torch_cpu", current.sizes(), current.scalar_type(), "torch CPU generator state");
  }
  for (const auto& [name, t] : f.tensors)
    if (!used.count(name))
      throw InputError(path + ": tensor '" + name + "' does not belong to this model or its trainable parameters " +
                       "(a different model, LoRA setting or train_base); build the trainer with the checkpoint's config");

  // Apply.
  {
    torch::NoGradGuard no_grad;
    for (auto& [dst, src] : copies) dst.copy_(*src);
  }
  auto& state = opt_->state();
  for (size_t i = 0; i < params_.size(); ++i) {
    auto key = adam_state_key(state, params_[i]);
    state.erase(key);
    if (!adam[i].exp_avg) continue;
    auto st = std::make_unique<torch::optim::AdamWParamState>();
    st->step(adam[i].step);
    st->exp_avg(adam[i].exp_avg->to(device_).clone());
    st->exp_avg_sq(adam[i].exp_avg_sq->to(device_).clone());
    state[key] = std::move(st);
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng_state);
  }
  step_ = step;
  round_ = round;
  shuffle_counter_ = shuffle_counter;
  planned_total_ = planned;
  data_order_seed_ = data_seed;
  return resolved;
}

}  // namespace lb
