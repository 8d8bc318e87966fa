// The decoder-only language model (Llama-style) with optional LoRA adapters: modules, deterministic
// initialisation, the full causal forward, and the cached forward used by incremental decoding.
#include "core/model.h"

#include "core/seeds.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace lb {
namespace detail {

namespace {

// Set by UninitialisedWeights: allocate weights empty, with this dtype and device.
struct UninitState {
  bool active = false;
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
};
thread_local UninitState g_uninit;

torch::Tensor ones_weight(int64_t dim) {
  if (!g_uninit.active) return torch::ones({dim});
  return torch::ones({dim}, torch::TensorOptions().dtype(g_uninit.dtype).device(g_uninit.device));
}

// Fills `t` (CPU, float32, contiguous) from a seeded generator: normal(0, std) or uniform(-b, b).
void fill_normal(torch::Tensor& t, double std, Rng rng) {
  float* p = t.data_ptr<float>();
  const int64_t n = t.numel();
  constexpr double kTwoPi = 6.283185307179586;
  for (int64_t i = 0; i < n; i += 2) {
    double u1 = 1.0 - rng.uniform();  // (0, 1]
    double u2 = rng.uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    p[i] = static_cast<float>(std * r * std::cos(kTwoPi * u2));
    if (i + 1 < n) p[i + 1] = static_cast<float>(std * r * std::sin(kTwoPi * u2));
  }
}

void fill_uniform(torch::Tensor& t, double bound, Rng rng) {
  float* p = t.data_ptr<float>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
}

// Every parameter draws from its own stream derived from (seed, its name): the init of one
// parameter never depends on how many others were created before it.
torch::Tensor seeded_normal(std::vector<int64_t> shape, double std, uint64_t seed, const std::string& name) {
  if (g_uninit.active) return torch::empty(shape, torch::TensorOptions().dtype(g_uninit.dtype).device(g_uninit.device));
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  fill_normal(t, std, Rng::derive(seed, name));
  return t;
}

}  // namespace

UninitialisedWeights::UninitialisedWeights(torch::ScalarType dtype, torch::Device device) {
  if (g_uninit.active) throw std::logic_error("UninitialisedWeights: already active on this thread");
  g_uninit.active = true;
  g_uninit.dtype = dtype;
  g_uninit.device = device;
}
UninitialisedWeights::~UninitialisedWeights() { g_uninit = UninitState{}; }

// y = x W^T (+ b) (+ scale * dropout(x) A^T B^T with an adapter). W: [out, in], b: [out] (optional,
// zero-initialised), A: [rank, in], B: [out, rank].
struct LoraLinearImpl : torch::nn::Module {
  LoraLinearImpl(int64_t in, int64_t out, double std, uint64_t seed, const std::string& name, bool with_bias = false)
      : in_(in), out_(out) {
    weight = register_parameter("weight", seeded_normal({out, in}, std, seed, name + ".weight"));
    if (with_bias) bias = register_parameter("bias", seeded_normal({out}, 0.0, seed, name + ".bias").zero_());
  }

  void add_adapter(int rank, double alpha, double dropout, uint64_t seed, const std::string& name) {
    if (lora_a.defined()) throw std::logic_error("LoRA adapter added twice to " + name);
    torch::Tensor a = torch::empty({rank, in_}, torch::kFloat32);
    fill_uniform(a, 1.0 / std::sqrt(static_cast<double>(in_)), Rng::derive(seed, name + ".lora_a"));
    auto dev = weight.device();
    lora_a = register_parameter("lora_a", a.to(dev));
    lora_b = register_parameter("lora_b", torch::zeros({out_, rank}, torch::TensorOptions().device(dev)));
    scale = alpha / rank;
    dropout_p = dropout;
  }

  bool has_adapter() const { return lora_a.defined(); }
  // The adapter must run beside the base matmul only when its input dropout is active;
  // otherwise it folds into the weight (W + scale B A), exactly W while B is zero.
  bool adapter_separate() const { return has_adapter() && dropout_p > 0 && is_training(); }
  torch::Tensor effective_weight() const {
    if (!has_adapter() || adapter_separate()) return weight;
    return weight + torch::matmul(lora_b, lora_a) * scale;
  }
  torch::Tensor adapter_delta(const torch::Tensor& x) const {
    torch::Tensor xd = torch::dropout(x, dropout_p, is_training());
    return torch::matmul(torch::matmul(xd, lora_a.t()), lora_b.t()) * scale;
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::matmul(x, effective_weight().t());
    if (bias.defined()) y = y + bias;
    if (adapter_separate()) y = y + adapter_delta(x);
    return y;
  }

  int64_t in_, out_;
  torch::Tensor weight, bias, lora_a, lora_b;
  double scale = 0.0;
  double dropout_p = 0.0;
};
TORCH_MODULE(LoraLinear);

struct RMSNormImpl : torch::nn::Module {
  RMSNormImpl(int64_t dim, double eps) : eps(eps) { weight = register_parameter("weight", ones_weight(dim)); }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor xf = x.to(torch::kFloat32);
    torch::Tensor normed = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return normed.to(x.scalar_type()) * weight;
  }
  double eps;
  torch::Tensor weight;
};

namespace {

// Rotates pairs (x_i, x_{i+half}) by the position's angles; x: [B, H, t, hd], cos/sin broadcastable to
// [B, H, t, hd/2].
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  torch::Tensor x1 = x.narrow(-1, 0, half);
  torch::Tensor x2 = x.narrow(-1, half, half);
  return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

// The fused projection of several LoraLinear modules sharing one input: one matmul for the base
// weights (and folded adapters), plus the separate adapter paths when dropout is active.
std::vector<torch::Tensor> fused_projection(const torch::Tensor& x, const std::vector<LoraLinearImpl*>& parts) {
  std::vector<torch::Tensor> weights;
  std::vector<int64_t> sizes;
  for (auto* p : parts) {
    weights.push_back(p->effective_weight());
    sizes.push_back(p->out_);
  }
  torch::Tensor y = torch::matmul(x, torch::cat(weights, 0).t());
  std::vector<torch::Tensor> outs = y.split_with_sizes(sizes, -1);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i]->bias.defined()) outs[i] = outs[i] + parts[i]->bias;
    if (parts[i]->adapter_separate()) outs[i] = outs[i] + parts[i]->adapter_delta(x);
  }
  return outs;
}

}  // namespace

struct AttentionImpl : torch::nn::Module {
  AttentionImpl(const ModelConfig& c, uint64_t seed, const std::string& prefix)
      : n_heads(c.n_heads), n_kv_heads(c.n_kv_heads), head_dim(c.resolved_head_dim()) {
    const double out_std = c.init_std / std::sqrt(2.0 * c.n_layers);
    // Smearing logits, one per key head; 0 starts every head at an even mix of the two positions.
    if (c.smeared_keys) smear = register_parameter("smear", torch::zeros({n_kv_heads}));
    q = register_module("q", LoraLinear(c.d_model, n_heads * head_dim, c.init_std, seed, prefix + "q", c.qkv_bias));
    k = register_module("k", LoraLinear(c.d_model, n_kv_heads * head_dim, c.init_std, seed, prefix + "k", c.qkv_bias));
    v = register_module("v", LoraLinear(c.d_model, n_kv_heads * head_dim, c.init_std, seed, prefix + "v", c.qkv_bias));
    o = register_module("o", LoraLinear(n_heads * head_dim, c.d_model, out_std, seed, prefix + "o", c.o_bias));
    if (c.qk_norm) {
      q_norm = register_module("q_norm", std::make_shared<RMSNormImpl>(head_dim, c.norm_eps));
      k_norm = register_module("k_norm", std::make_shared<RMSNormImpl>(head_dim, c.norm_eps));
    }
  }

  // x: [B, t, d]; returns [B, t, d]. With a cache, past keys/values are prepended and the new ones stored.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& blocked, const torch::Tensor& prev_real, torch::Tensor* cache_k,
                        torch::Tensor* cache_v, torch::Tensor* cache_k_last) {
    const int64_t B = x.size(0), t = x.size(1);
    auto qkv = fused_projection(x, {q.get(), k.get(), v.get()});
    torch::Tensor qh = qkv[0].view({B, t, n_heads, head_dim}).transpose(1, 2);
    torch::Tensor kh = qkv[1].view({B, t, n_kv_heads, head_dim}).transpose(1, 2);
    torch::Tensor vh = qkv[2].view({B, t, n_kv_heads, head_dim}).transpose(1, 2);
    if (q_norm) {  // over each head's features, like the model-wide norm
      qh = q_norm->forward(qh);
      kh = k_norm->forward(kh);
    }
    if (smear.defined()) {
      // The previous slot's key (before rotation): the cached last one for the first new token.
      torch::Tensor first = cache_k_last && cache_k_last->defined() ? *cache_k_last : torch::zeros_like(kh.narrow(2, 0, 1));
      torch::Tensor prev = t > 1 ? torch::cat({first, kh.narrow(2, 0, t - 1)}, 2) : first;
      prev = prev * prev_real.to(prev.scalar_type());
      if (cache_k_last) *cache_k_last = kh.narrow(2, t - 1, 1);
      torch::Tensor s = torch::sigmoid(smear).to(kh.scalar_type()).view({1, n_kv_heads, 1, 1});
      kh = s * kh + (1 - s) * prev;
    }
    qh = apply_rope(qh, cos, sin);
    kh = apply_rope(kh, cos, sin);
    if (cache_k) {
      if (cache_k->defined()) {
        kh = torch::cat({*cache_k, kh}, 2);
        vh = torch::cat({*cache_v, vh}, 2);
      }
      *cache_k = kh;
      *cache_v = vh;
    }
    const int64_t T = kh.size(2);
    if (n_kv_heads != n_heads) {  // grouped-query: each KV head serves n_heads / n_kv_heads query heads
      const int64_t g = n_heads / n_kv_heads;
      kh = kh.unsqueeze(2).expand({B, n_kv_heads, g, T, head_dim}).reshape({B, n_heads, T, head_dim});
      vh = vh.unsqueeze(2).expand({B, n_kv_heads, g, T, head_dim}).reshape({B, n_heads, T, head_dim});
    }
    torch::Tensor scores = torch::matmul(qh * (1.0 / std::sqrt(static_cast<double>(head_dim))), kh.transpose(-2, -1));
    scores = scores.masked_fill(blocked, -std::numeric_limits<float>::infinity());
    torch::Tensor attn = torch::softmax(scores, -1);
    torch::Tensor out = torch::matmul(attn.to(vh.scalar_type()), vh);  // [B, H, t, hd]
    out = out.transpose(1, 2).reshape({B, t, n_heads * head_dim});
    return o(out);
  }

  int64_t n_heads, n_kv_heads, head_dim;
  LoraLinear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
  std::shared_ptr<RMSNormImpl> q_norm, k_norm;  // qk_norm only
  torch::Tensor smear;  // [n_kv_heads] logits of s, defined only with smeared keys
};
TORCH_MODULE(Attention);

struct MlpImpl : torch::nn::Module {
  MlpImpl(const ModelConfig& c, uint64_t seed, const std::string& prefix) {
    const double out_std = c.init_std / std::sqrt(2.0 * c.n_layers);
    gate = register_module("gate", LoraLinear(c.d_model, c.d_ff, c.init_std, seed, prefix + "gate"));
    up = register_module("up", LoraLinear(c.d_model, c.d_ff, c.init_std, seed, prefix + "up"));
    down = register_module("down", LoraLinear(c.d_ff, c.d_model, out_std, seed, prefix + "down"));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto gu = fused_projection(x, {gate.get(), up.get()});
    return down(torch::silu(gu[0]) * gu[1]);
  }
  LoraLinear gate{nullptr}, up{nullptr}, down{nullptr};
};
TORCH_MODULE(Mlp);

struct DecoderBlockImpl : torch::nn::Module {
  DecoderBlockImpl(const ModelConfig& c, uint64_t seed, const std::string& prefix) {
    attn_norm = register_module("attn_norm", std::make_shared<RMSNormImpl>(c.d_model, c.norm_eps));
    attn = register_module("attn", Attention(c, seed, prefix + "attn."));
    mlp_norm = register_module("mlp_norm", std::make_shared<RMSNormImpl>(c.d_model, c.norm_eps));
    mlp = register_module("mlp", Mlp(c, seed, prefix + "mlp."));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& blocked, const torch::Tensor& prev_real, torch::Tensor* cache_k,
                        torch::Tensor* cache_v, torch::Tensor* cache_k_last) {
    torch::Tensor h = x + attn->forward(attn_norm->forward(x), cos, sin, blocked, prev_real, cache_k, cache_v, cache_k_last);
    return h + mlp->forward(mlp_norm->forward(h));
  }
  LoraLinearImpl* projection(const std::string& name) {
    if (name == "q") return attn->q.get();
    if (name == "k") return attn->k.get();
    if (name == "v") return attn->v.get();
    if (name == "o") return attn->o.get();
    if (name == "gate") return mlp->gate.get();
    if (name == "up") return mlp->up.get();
    if (name == "down") return mlp->down.get();
    return nullptr;
  }
  std::shared_ptr<RMSNormImpl> attn_norm, mlp_norm;
  Attention attn{nullptr};
  Mlp mlp{nullptr};
};

}  // namespace detail

namespace {

// The declared rules of ModelConfig (model.h), for models built without a config file.
void check_config(const ModelConfig& c) { config_check(c, "the model config"); }

std::string device_key(const torch::Device& d) { return d.str(); }

}  // namespace

void ModelConfig::validate(const ConfigCheck& c) const {
  if (head_dim == 0 && d_model % n_heads != 0)
    c.fail("d_model", std::to_string(d_model) + " must be divisible by " + c.key("n_heads") + " (" + std::to_string(n_heads) +
                          ") unless " + c.key("head_dim") + " is set");
  if (resolved_head_dim() % 2 != 0)
    c.fail(head_dim > 0 ? "head_dim" : "d_model", "gives head dim " + std::to_string(resolved_head_dim()) +
                                                      " (head_dim, or d_model / n_heads), which must be even for rotary embeddings");
  if (n_kv_heads > n_heads || n_heads % n_kv_heads != 0)
    c.fail("n_kv_heads", std::to_string(n_kv_heads) + " must divide " + c.key("n_heads") + " (" + std::to_string(n_heads) + ")");
  if (rope_scaling == "llama3" && !(rope_high_freq_factor > rope_low_freq_factor))
    c.fail("rope_high_freq_factor", "must be larger than " + c.key("rope_low_freq_factor") + " for llama3 rope scaling");
}

DecoderModelImpl::DecoderModelImpl(const ModelConfig& cfg, const LoraConfig& lora, uint64_t init_seed)
    : cfg_(cfg), lora_(lora) {
  check_config(cfg_);
  // Plain holder modules (torch::nn::Embedding/Linear would draw their own init from the global RNG).
  auto embed = std::make_shared<torch::nn::Module>("Embedding");
  embed_weight_ = embed->register_parameter(
      "weight", detail::seeded_normal({cfg_.vocab_size, cfg_.d_model}, cfg_.init_std, init_seed, "embed.weight"));
  register_module("embed", embed);
  blocks_list_ = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < cfg_.n_layers; ++i) {
    auto block = std::make_shared<detail::DecoderBlockImpl>(cfg_, init_seed, "blocks." + std::to_string(i) + ".");
    blocks_list_->push_back(block);
    blocks_.push_back(block);
  }
  final_norm_ = register_module("norm", std::make_shared<detail::RMSNormImpl>(cfg_.d_model, cfg_.norm_eps));
  if (!cfg_.tie_embeddings) {
    auto head = std::make_shared<torch::nn::Module>("Head");
    head_weight_ = head->register_parameter(
        "weight", detail::seeded_normal({cfg_.vocab_size, cfg_.d_model}, cfg_.init_std, init_seed, "head.weight"));
    register_module("head", head);
  }
  if (lora_.rank > 0) add_adapters(lora_, init_seed);
}

void DecoderModelImpl::add_adapters(const LoraConfig& lora, uint64_t init_seed) {
  if (lora.rank <= 0) throw std::invalid_argument("lora.rank must be > 0 to add adapters (got " + std::to_string(lora.rank) + ")");
  config_check(lora, "the LoRA config", nullptr, "lora.");
  for (const auto& t : lora.targets)
    if (!blocks_[0]->projection(t))
      throw std::invalid_argument("lora.targets: unknown projection '" + t + "' (use q, k, v, o, gate, up, down)");
  if (!lora.train_base)
    for (auto& p : parameters()) p.set_requires_grad(false);
  for (size_t i = 0; i < blocks_.size(); ++i)
    for (const auto& t : lora.targets) {
      std::string name = "blocks." + std::to_string(i) + "." + (t == "gate" || t == "up" || t == "down" ? "mlp." : "attn.") + t;
      blocks_[i]->projection(t)->add_adapter(lora.rank, lora.alpha, lora.dropout, init_seed, name);
    }
  lora_ = lora;
}

std::pair<torch::Tensor, torch::Tensor> DecoderModelImpl::rope_tables(int64_t n, const torch::Device& device) {
  auto& entry = rope_cache_[device_key(device)];
  if (!entry.first.defined() || entry.first.size(0) < n) {
    const int64_t len = std::max<int64_t>(n, std::min<int64_t>(cfg_.max_seq_len, 4096));
    const int64_t half = cfg_.resolved_head_dim() / 2;
    // inv_freq_i = theta^(-i/half), computed in double for tables that do not drift with length.
    torch::Tensor inv = torch::pow(cfg_.rope_theta, -torch::arange(half, torch::kFloat64) / static_cast<double>(half));
    if (cfg_.rope_scaling == "linear") {
      inv = inv / cfg_.rope_factor;
    } else if (cfg_.rope_scaling == "llama3") {
      // Long wavelengths are stretched by the factor, short ones kept, those between interpolated
      // by where original_max_pos / wavelength falls between the low and high frequency factors.
      constexpr double kTwoPi = 6.283185307179586;
      const double orig = cfg_.rope_original_max_pos, lo = cfg_.rope_low_freq_factor, hi = cfg_.rope_high_freq_factor;
      torch::Tensor wavelen = kTwoPi / inv;
      torch::Tensor smooth = (orig / wavelen - lo) / (hi - lo);
      torch::Tensor mid = (1 - smooth) * inv / cfg_.rope_factor + smooth * inv;
      torch::Tensor scaled = torch::where(wavelen > orig / lo, inv / cfg_.rope_factor, inv);
      inv = torch::where((wavelen <= orig / lo) & (wavelen >= orig / hi), mid, scaled);
    }
    torch::Tensor ang = torch::outer(torch::arange(len, torch::kFloat64), inv);
    entry.first = torch::cos(ang).to(torch::kFloat32).to(device);
    entry.second = torch::sin(ang).to(torch::kFloat32).to(device);
  }
  return {entry.first.narrow(0, 0, n), entry.second.narrow(0, 0, n)};
}

torch::Tensor DecoderModelImpl::causal_blocked(int64_t T, const torch::Device& device, bool window) {
  auto& m = causal_cache_[device_key(device) + (window ? "/window" : "")];
  if (!m.defined() || m.size(0) < T) {  // sized to the longest sequence seen, not to max_seq_len
    m = torch::ones({T, T}, torch::kBool).triu(1);
    if (window) m = m | torch::ones({T, T}, torch::kBool).tril(-cfg_.sliding_window);
    m = m.to(device);
  }
  return m.narrow(0, 0, T).narrow(1, 0, T);
}

torch::Tensor DecoderModelImpl::run_blocks(const torch::Tensor& tokens, const torch::Tensor& cos, const torch::Tensor& sin,
                                           const torch::Tensor& blocked, const torch::Tensor& blocked_window,
                                           const torch::Tensor& prev_real, KVCache* cache) {
  if (tokens.dim() != 2) throw std::invalid_argument("model: tokens must be [batch, time]");
  torch::Tensor h = torch::embedding(embed_weight_, tokens);
  if (cache && cache->k.empty()) {
    cache->k.resize(blocks_.size());
    cache->v.resize(blocks_.size());
    cache->k_last.resize(blocks_.size());
  }
  for (size_t i = 0; i < blocks_.size(); ++i)
    h = blocks_[i]->forward(h, cos, sin,
                            blocked_window.defined() && static_cast<int>(i) >= cfg_.sliding_window_from_layer
                                ? blocked_window
                                : blocked,
                            prev_real, cache ? &cache->k[i] : nullptr,
                            cache ? &cache->v[i] : nullptr, cache ? &cache->k_last[i] : nullptr);
  return final_norm_->forward(h);
}

torch::Tensor DecoderModelImpl::project_to_vocab(const torch::Tensor& hidden) {
  const torch::Tensor& w = cfg_.tie_embeddings ? embed_weight_ : head_weight_;
  return torch::matmul(hidden, w.t());
}

torch::Tensor DecoderModelImpl::hidden_states(const torch::Tensor& tokens) {
  const int64_t T = tokens.size(1);
  if (T > cfg_.max_seq_len)
    throw std::invalid_argument("model: sequence of " + std::to_string(T) + " tokens exceeds max_seq_len " +
                                std::to_string(cfg_.max_seq_len) + "; truncate it first");
  auto [cos, sin] = rope_tables(T, tokens.device());
  torch::Tensor prev_real;
  if (cfg_.smeared_keys) {  // right padding: every token but the first follows a real one
    prev_real = torch::ones({1, 1, T, 1}, torch::TensorOptions().device(tokens.device()));
    prev_real.narrow(2, 0, 1).zero_();
  }
  torch::Tensor windowed;
  if (cfg_.sliding_window > 0) windowed = causal_blocked(T, tokens.device(), /*window=*/true);
  return run_blocks(tokens, cos, sin, causal_blocked(T, tokens.device()), windowed, prev_real, nullptr);
}

torch::Tensor DecoderModelImpl::forward(const torch::Tensor& tokens) { return project_to_vocab(hidden_states(tokens)); }

torch::Tensor DecoderModelImpl::forward_cached(const torch::Tensor& tokens, KVCache& cache, const torch::Tensor& key_mask,
                                               const torch::Tensor& positions) {
  const int64_t B = tokens.size(0), t = tokens.size(1);
  const int64_t past = cache.length();
  const int64_t T = past + t;
  if (key_mask.dim() != 2 || key_mask.size(0) != B || key_mask.size(1) != T)
    throw std::invalid_argument("forward_cached: key_mask must be [batch, past + new] = [" + std::to_string(B) + ", " +
                                std::to_string(T) + "]");
  if (positions.dim() != 2 || positions.size(0) != B || positions.size(1) != t)
    throw std::invalid_argument("forward_cached: positions must be [batch, new tokens]");
  const auto device = tokens.device();
  const int64_t max_pos = t > 0 ? positions.max().item<int64_t>() : 0;
  auto [cos_all, sin_all] = rope_tables(max_pos + 1, device);
  torch::Tensor pos = positions.to(device, torch::kLong);
  torch::Tensor cos = cos_all.index_select(0, pos.reshape({-1})).view({B, 1, t, -1});
  torch::Tensor sin = sin_all.index_select(0, pos.reshape({-1})).view({B, 1, t, -1});
  // Query i (absolute slot past + i) sees real keys at slots <= past + i, and always itself, so a
  // padding query has one finite score and nothing turns NaN.
  torch::Tensor slots = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(device));
  torch::Tensor qslots = slots.narrow(0, past, t).unsqueeze(1);  // [t, 1]
  torch::Tensor allowed = (slots.unsqueeze(0) <= qslots).unsqueeze(0) & key_mask.to(device, torch::kBool).unsqueeze(1);
  allowed = allowed | (slots.unsqueeze(0) == qslots).unsqueeze(0);
  torch::Tensor blocked = allowed.logical_not().unsqueeze(1);  // [B, 1, t, T]
  torch::Tensor blocked_window;  // slots and positions differ by the row's padding, so q - k is the same in both
  if (cfg_.sliding_window > 0)
    blocked_window = blocked | (qslots - slots.unsqueeze(0) >= cfg_.sliding_window).unsqueeze(0).unsqueeze(0);
  torch::Tensor prev_real;
  if (cfg_.smeared_keys) {  // the slot before slot s is real when key_mask says so (none before slot 0)
    torch::Tensor shifted = torch::cat({torch::zeros({B, 1}, key_mask.options().dtype(torch::kBool)),
                                        key_mask.to(torch::kBool)}, 1).to(device);
    prev_real = shifted.narrow(1, past, t).to(torch::kFloat32).view({B, 1, t, 1});
  }
  return project_to_vocab(run_blocks(tokens, cos, sin, blocked, blocked_window, prev_real, &cache));
}

std::vector<torch::Tensor> DecoderModelImpl::trainable_parameters() {
  std::vector<torch::Tensor> out;
  for (auto& p : parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> DecoderModelImpl::last_block_trainable_parameters() {
  std::vector<torch::Tensor> out;
  for (auto& p : blocks_.back()->parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

int64_t DecoderModelImpl::parameter_count(bool trainable_only) {
  int64_t n = 0;
  for (auto& p : parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

DecoderModel clone_model(DecoderModel& model) {
  // Rebuild the same structure (adapters included), then copy every tensor and flag by name.
  DecoderModel copy(model->config(), model->lora_config(), /*init_seed=*/0);
  auto src = model->named_parameters(/*recurse=*/true);
  auto dst = copy->named_parameters(/*recurse=*/true);
  if (src.size() != dst.size()) throw std::logic_error("clone_model: parameter sets differ");
  torch::Device device = src.size() ? src.begin()->value().device() : torch::Device(torch::kCPU);
  copy->to(device);
  dst = copy->named_parameters(true);
  {
    torch::NoGradGuard ng;
    for (auto& item : src) {
      torch::Tensor* d = dst.find(item.key());
      if (!d) throw std::logic_error("clone_model: missing parameter " + item.key());
      if (d->sizes() != item.value().sizes()) throw std::logic_error("clone_model: shape differs for " + item.key());
      if (d->scalar_type() != item.value().scalar_type()) d->set_data(d->to(item.value().scalar_type()));
      d->copy_(item.value());
    }
  }
  for (auto& item : src) dst.find(item.key())->set_requires_grad(item.value().requires_grad());
  copy->train(model->is_training());
  return copy;
}

}  // namespace lb
