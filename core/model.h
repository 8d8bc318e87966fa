// Decoder-only, Llama-style language model: token embedding, RMSNorm, rotary position embedding,
// multi-head attention with optional grouped KV heads, SwiGLU MLP, tied or untied output head,
// and optional LoRA adapters on the attention and MLP projections.
#pragma once

#include "core/config.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lb {

namespace detail {
struct DecoderBlockImpl;  // one transformer block (model.cpp)
struct RMSNormImpl;       // root-mean-square norm with a learned scale (model.cpp)
}  // namespace detail

struct ModelConfig {
  int vocab_size = 263;      // byte tokenizer: 256 bytes + 7 special tokens
  int d_model = 192;         // width; the reference CPU config (~1.85 M parameters)
  int n_layers = 4;          // depth
  int n_heads = 6;           // attention heads (head dim 32)
  int n_kv_heads = 6;        // < n_heads: grouped-query attention
  int d_ff = 512;            // SwiGLU hidden width (about 8/3 d_model)
  int max_seq_len = 128;     // longest sequence trained or scored; longer samples are truncated
  bool tie_embeddings = true;  // share the output head with the token embedding (small models)
  double rope_theta = 10000.0;  // rotary base
  double norm_eps = 1e-5;       // RMSNorm epsilon
  double init_std = 0.02;       // normal init of weights (output projections scaled by 1/sqrt(2 n_layers))
  bool smeared_keys = false;    // each key a learnt per-head mix of its own and the previous position's
  // Architecture details of pretrained checkpoints (core/hf_checkpoint.h). Each default is the
  // plain leadbench block, and config hashes leave a field out while it holds its default.
  int head_dim = 0;             // per-head width; 0 = d_model / n_heads
  bool qkv_bias = false;        // biases on the q, k and v projections (Qwen2; Llama attention_bias)
  bool o_bias = false;          // bias on the output projection (Llama attention_bias)
  bool qk_norm = false;         // per-head RMSNorm of queries and keys before rotation (Qwen3)
  int sliding_window = 0;       // > 0: a query at position q sees keys k with q - k < sliding_window
  int sliding_window_from_layer = 0;  // the window applies to blocks with index >= this
  std::string rope_scaling = "none";  // none, linear or llama3 (rotary frequencies of long-context models)
  double rope_factor = 1.0;           // linear and llama3: the context extension factor
  double rope_low_freq_factor = 1.0;  // llama3: wavelengths above original/low_freq_factor are divided by factor
  double rope_high_freq_factor = 4.0;  // llama3: wavelengths below original/high_freq_factor are kept
  int rope_original_max_pos = 8192;    // llama3: the pretraining context length

  int64_t resolved_head_dim() const { return head_dim > 0 ? head_dim : (n_heads > 0 ? d_model / n_heads : 0); }

  template <class V> void visit(V& v) {
    v.field("vocab_size", vocab_size, "256 bytes + special tokens of the byte tokenizer", Positive{});
    v.field("d_model", d_model, "model width; 192 keeps the demo trainable on 2 CPU cores", Positive{});
    v.field("n_layers", n_layers, "number of transformer blocks", Positive{});
    v.field("n_heads", n_heads, "attention heads; d_model must be divisible by it", Positive{});
    v.field("n_kv_heads", n_kv_heads, "key/value heads; fewer than n_heads gives grouped-query attention", Positive{});
    v.field("d_ff", d_ff, "SwiGLU hidden width, about 8/3 of d_model as in Llama", Positive{});
    v.field("max_seq_len", max_seq_len, "longest sequence in tokens; longer samples are truncated", Positive{});
    v.field("tie_embeddings", tie_embeddings, "share input and output embeddings, as small models do");
    v.field("rope_theta", rope_theta, "rotary embedding base, Llama's default", Positive{});
    v.field("norm_eps", norm_eps, "RMSNorm epsilon", Positive{});
    v.field("init_std", init_std, "std of the normal weight init, GPT-2/Llama convention", AtLeast{0});
    v.field("head_dim", head_dim, "per-head width of queries, keys and values; 0 = d_model / n_heads", AtLeast{0});
    v.field("qkv_bias", qkv_bias, "learnt biases on the q, k, v projections (Qwen2 checkpoints)");
    v.field("o_bias", o_bias, "learnt bias on the attention output projection (Llama attention_bias)");
    v.field("qk_norm", qk_norm, "per-head RMSNorm of queries and keys before the rotation (Qwen3 checkpoints)");
    v.field("sliding_window", sliding_window, "0 = full causal attention; > 0: a query sees the last sliding_window positions, itself included (Mistral, Qwen2)", AtLeast{0});
    v.field("sliding_window_from_layer", sliding_window_from_layer, "the sliding window applies to blocks from this index on (Qwen2 max_window_layers)", AtLeast{0});
    v.field("rope_scaling", rope_scaling, "rotary frequency scaling of long-context checkpoints: none, linear or llama3", OneOf{"none", "linear", "llama3"});
    v.field("rope_factor", rope_factor, "linear and llama3 rope scaling: context extension factor", Positive{});
    v.field("rope_low_freq_factor", rope_low_freq_factor, "llama3 rope scaling: low_freq_factor", Positive{});
    v.field("rope_high_freq_factor", rope_high_freq_factor, "llama3 rope scaling: high_freq_factor", Positive{});
    v.field("rope_original_max_pos", rope_original_max_pos, "llama3 rope scaling: original_max_position_embeddings", Positive{});
    v.field("smeared_keys", smeared_keys, "smeared keys (Olsson et al. 2022): key_t = s*k_t + (1-s)*k_(t-1) with a learnt s per key head, a previous-token bias that lets one layer match on the token before; off = the plain Llama block");
  }
  // Cross-field rules: heads divide d_model into an even head dim, KV heads divide the heads.
  void validate(const ConfigCheck& c) const;
};

struct LoraConfig {
  int rank = 0;               // 0: no adapters, train all weights
  double alpha = 16.0;        // scale alpha/rank, as in the LEAD authors' runs (alpha 16)
  double dropout = 0.0;       // dropout on the adapter input
  bool train_base = false;    // with adapters: also train the base weights (false = base frozen)
  std::vector<std::string> targets = {"q", "k", "v", "o", "gate", "up", "down"};  // adapted projections

  template <class V> void visit(V& v) {
    v.field("rank", rank, "LoRA rank; 0 trains all weights (the CPU default, the model is small)", AtLeast{0});
    v.field("alpha", alpha, "LoRA scale numerator (scale = alpha / rank); authors use 16");
    v.field("dropout", dropout, "dropout on the adapter input; authors use 0.1", Range{0, 1, "[)"});
    v.field("train_base", train_base, "with adapters, also train the base weights");
    v.field("targets", targets, "projections that get adapters: q, k, v, o, gate, up, down", OneOf{"q", "k", "v", "o", "gate", "up", "down"});
  }
};

// Keys and values of past positions, per layer, for incremental decoding.
struct KVCache {
  std::vector<torch::Tensor> k;  // per layer: [B, n_kv_heads, T_past, head_dim]
  std::vector<torch::Tensor> v;
  std::vector<torch::Tensor> k_last;  // smeared keys: per layer the last slot's unsmeared key [B, n_kv_heads, 1, head_dim]
  int64_t length() const { return k.empty() || !k[0].defined() ? 0 : k[0].size(2); }
};

class DecoderModelImpl : public torch::nn::Module {
 public:
  DecoderModelImpl(const ModelConfig& cfg, const LoraConfig& lora, uint64_t init_seed);

  // tokens: [B, T] int64, right-padded (causal attention never looks at later pads).
  // Returns logits [B, T, vocab].
  torch::Tensor forward(const torch::Tensor& tokens);
  // Final-norm hidden states [B, T, d_model] (for mean-pooled embeddings).
  torch::Tensor hidden_states(const torch::Tensor& tokens);
  // Incremental decoding with left padding: tokens [B, t] follow the cached positions;
  // key_mask [B, past + t] is true for real tokens; positions [B, t] are rotary positions.
  // Appends to `cache` and returns logits [B, t, vocab].
  torch::Tensor forward_cached(const torch::Tensor& tokens, KVCache& cache, const torch::Tensor& key_mask,
                               const torch::Tensor& positions);

  // Adds LoRA adapters (B initialised to zero, so the output is unchanged) and freezes the base
  // unless lora.train_base. Called by the constructor when lora.rank > 0.
  void add_adapters(const LoraConfig& lora, uint64_t init_seed);
  std::vector<torch::Tensor> trainable_parameters();
  // Trainable parameters of the last block: the default gradient sketch of LEAD's loss-change estimate.
  std::vector<torch::Tensor> last_block_trainable_parameters();
  int64_t parameter_count(bool trainable_only);

  const ModelConfig& config() const { return cfg_; }
  const LoraConfig& lora_config() const { return lora_; }

 private:
  // Final-norm hidden states [B, t, d_model] for tokens [B, t]. cos/sin broadcast to
  // [B, heads, t, head_dim/2]; `blocked` ([t, T] or [B, 1, t, T], true = may not attend) covers the
  // T = past + t keys; `cache` (optional) supplies past keys/values and receives the new ones.
  // `prev_real` ([1 or B, 1, t, 1], float) is 1 where the slot before a token holds a real token and 0
  // where it is padding or the start (smeared keys mix in nothing there).
  // `blocked_window` (same shape, defined only with a sliding window) replaces `blocked` in the
  // blocks the window applies to.
  torch::Tensor run_blocks(const torch::Tensor& tokens, const torch::Tensor& cos, const torch::Tensor& sin,
                           const torch::Tensor& blocked, const torch::Tensor& blocked_window,
                           const torch::Tensor& prev_real, KVCache* cache);
  torch::Tensor project_to_vocab(const torch::Tensor& hidden);
  // Rotary tables [n, head_dim/2] for positions 0..n-1 on `device` (cached, grown on demand).
  std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t n, const torch::Device& device);
  // Bool [T, T], true above the diagonal (future keys), cached per device; with `window`, also
  // true where query - key >= sliding_window.
  torch::Tensor causal_blocked(int64_t T, const torch::Device& device, bool window = false);

  ModelConfig cfg_;
  LoraConfig lora_;
  torch::Tensor embed_weight_;                                    // "embed.weight" [vocab, d_model]
  torch::nn::ModuleList blocks_list_{nullptr};                    // "blocks.<i>.*"
  std::vector<std::shared_ptr<detail::DecoderBlockImpl>> blocks_;  // the same blocks, typed
  std::shared_ptr<detail::RMSNormImpl> final_norm_;               // "norm.weight" [d_model]
  torch::Tensor head_weight_;                                     // "head.weight" [vocab, d_model] when untied
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> rope_cache_;  // device -> (cos, sin)
  std::map<std::string, torch::Tensor> causal_cache_;                        // device (+ "/window") -> blocked mask
};
TORCH_MODULE(DecoderModel);

namespace detail {
// While one lives, DecoderModel constructors on this thread allocate their weights uninitialised
// (torch::empty) with this dtype and device instead of drawing the seeded init: for loaders that
// overwrite every weight (a pretrained checkpoint), so that building the model costs no time and
// no second copy. Norm scales start at one either way.
class UninitialisedWeights {
 public:
  UninitialisedWeights(torch::ScalarType dtype, torch::Device device);
  ~UninitialisedWeights();
  UninitialisedWeights(const UninitialisedWeights&) = delete;
  UninitialisedWeights& operator=(const UninitialisedWeights&) = delete;
};
}  // namespace detail

// A deep copy (weights, adapters, trainability), on the same device.
DecoderModel clone_model(DecoderModel& model);

}  // namespace lb
