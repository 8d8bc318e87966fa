// GGUF `llama` checkpoints into DecoderModel: llama.* metadata to config.json fields, GGUF tensor
// names to the model's, dequantisation and the undoing of llama.cpp's q/k row permutation.
#include "core/gguf_checkpoint.h"

#include "core/json_io.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <set>

namespace lb {

namespace {

[[noreturn]] void fail_key(const gguf::File& f, const std::string& key, const std::string& what) {
  throw InputError(f.path() + ": metadata key '" + key + "' " + what);
}

// rope_freqs.weight: llama.cpp's converter stores Llama 3.x's llama3 rope scaling as one factor per
// rotary frequency instead of its parameters. Accepts the tensor when it equals the factors of
// transformers' llama3 formula for Llama 3.1's or 3.2's parameters (factor 8 or 32, low 1, high 4,
// original 8192) and sets them; anything else is an InputError (the parameters cannot be read back exactly).
void read_rope_freqs(const gguf::File& f, const gguf::TensorInfo& t, int64_t head_dim, double theta,
                     nlohmann::json& cfg) {
  const int64_t half = head_dim / 2;
  if (t.numel() != half || !gguf::ggml_type_supported(t.type))
    throw InputError(f.path() + ": tensor 'rope_freqs.weight' has " + std::to_string(t.numel()) + " " +
                     gguf::ggml_type_name(static_cast<uint32_t>(t.type)) + " values; expected " + std::to_string(half) +
                     " rope frequency factors (F32)");
  const torch::Tensor got = gguf_dequantize(f, t).reshape({half}).to(torch::kDouble);
  const double low = 1.0, high = 4.0, original = 8192.0;
  const double low_wavelen = original / low, high_wavelen = original / high;
  double factor = 0;
  for (double candidate : {8.0, 32.0}) {  // Llama 3.1 and Llama 3.2
    double worst = 0;
    for (int64_t i = 0; i < half; ++i) {
      const double freq = 1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
      const double wavelen = 2 * M_PI / freq;
      double scale = 1.0;  // the divisor of the frequency
      if (wavelen > low_wavelen) {
        scale = candidate;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (original / wavelen - low) / (high - low);
        scale = 1.0 / ((1 - smooth) / candidate + smooth);
      }
      worst = std::max(worst, std::abs(got[i].item<double>() - scale) / scale);
    }
    if (worst <= 1e-4) factor = candidate;
  }
  if (factor == 0)
    throw InputError(f.path() + ": tensor 'rope_freqs.weight' (llama3 rope scaling stored as frequency factors) does "
                     "not match the llama3 parameters of Llama 3.1 or 3.2 (factor 8 or 32, low_freq_factor 1, "
                     "high_freq_factor 4, original_max_position_embeddings 8192), the only ones leadbench can "
                     "recognise; load the Hugging Face folder of this model instead");
  cfg["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", factor},
                         {"low_freq_factor", low},
                         {"high_freq_factor", high},
                         {"original_max_position_embeddings", static_cast<int64_t>(original)}};
}

}  // namespace

torch::Tensor gguf_dequantize(const gguf::File& f, const gguf::TensorInfo& t) {
  auto out = torch::empty(t.shape(), torch::TensorOptions().dtype(torch::kFloat32));
  float* dst = out.data_ptr<float>();
  const int64_t blocks = t.numel() / gguf::kQuantBlock;
  if (t.numel() % gguf::kQuantBlock != 0 || blocks < 64) {
    f.dequantize_into(t, 0, t.numel(), dst);
  } else {  // whole blocks of 32 (every supported type splits there)
    f.dequantize_into(t, 0, 0, dst);  // the type check, before any thread starts
    at::parallel_for(0, blocks, 1024, [&](int64_t b, int64_t e) {
      f.dequantize_into(t, b * gguf::kQuantBlock, e * gguf::kQuantBlock, dst + b * gguf::kQuantBlock);
    });
  }
  return out;
}

ModelConfig read_gguf_config(const gguf::File& f, HfCheckpointInfo* info_out) {
  const std::string arch = f.get_string("general.architecture");
  if (arch != "llama")
    fail_key(f, "general.architecture", "is '" + arch + "'; supported: llama (Llama 2/3.x, SmolLM2, Mistral "
                                        "converted by llama.cpp)");
  const std::string p = "llama.";
  nlohmann::json cfg;
  cfg["architectures"] = {"LlamaForCausalLM"};
  cfg["model_type"] = "llama";
  cfg["hidden_size"] = f.get_int(p + "embedding_length");
  cfg["num_hidden_layers"] = f.get_int(p + "block_count");
  cfg["intermediate_size"] = f.get_int(p + "feed_forward_length");
  const int64_t heads = f.get_int(p + "attention.head_count");
  cfg["num_attention_heads"] = heads;
  cfg["num_key_value_heads"] = f.get_int(p + "attention.head_count_kv", heads);
  cfg["max_position_embeddings"] = f.get_int(p + "context_length");
  cfg["rms_norm_eps"] = f.get_float(p + "attention.layer_norm_rms_epsilon");
  const double theta = f.get_float(p + "rope.freq_base", 10000.0);
  cfg["rope_theta"] = theta;
  const int64_t d = cfg["hidden_size"].get<int64_t>();
  int64_t head_dim = heads > 0 ? d / heads : 0;
  if (f.find(p + "attention.key_length")) {
    head_dim = f.get_int(p + "attention.key_length");
    const int64_t v = f.get_int(p + "attention.value_length", head_dim);
    if (v != head_dim)
      fail_key(f, p + "attention.value_length", "is " + std::to_string(v) + " but attention.key_length is " +
                                                    std::to_string(head_dim) + "; only equal key and value widths are supported");
    cfg["head_dim"] = head_dim;
  }
  if (f.find(p + "rope.dimension_count")) {
    const int64_t rd = f.get_int(p + "rope.dimension_count");
    if (rd != head_dim)
      fail_key(f, p + "rope.dimension_count", "is " + std::to_string(rd) + " but the head width is " +
                                                 std::to_string(head_dim) + "; only full rotary embeddings are supported");
  }
  // Vocabulary: llama.vocab_size, else the tokenizer's token list, else the embedding's rows.
  const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
  int64_t vocab = 0;
  if (f.find(p + "vocab_size")) {
    vocab = f.get_int(p + "vocab_size");
  } else if (const gguf::Value* toks = f.find("tokenizer.ggml.tokens"); toks && toks->type == gguf::ValueType::ARRAY) {
    vocab = static_cast<int64_t>(toks->items.size());
  } else if (embd && embd->dims.size() == 2) {
    vocab = embd->dims[1];
  } else {
    fail_key(f, p + "vocab_size", "is missing, and neither tokenizer.ggml.tokens nor token_embd.weight gives the vocabulary size");
  }
  cfg["vocab_size"] = vocab;
  // Rope scaling: llama.rope.scaling.type (none, linear) or the older llama.rope.scale_linear.
  const std::string scaling = f.get_string(p + "rope.scaling.type", std::string("none"));
  if (scaling == "linear") {
    cfg["rope_scaling"] = {{"rope_type", "linear"}, {"factor", f.get_float(p + "rope.scaling.factor")}};
  } else if (scaling != "none") {
    fail_key(f, p + "rope.scaling.type", "is '" + scaling + "'; supported: none, linear (and Llama 3.1's llama3 "
                                         "scaling stored as rope_freqs.weight)");
  } else if (f.find(p + "rope.scale_linear")) {
    const double s = f.get_float(p + "rope.scale_linear");
    if (s != 1.0) cfg["rope_scaling"] = {{"rope_type", "linear"}, {"factor", s}};
  }
  if (const gguf::TensorInfo* rf = f.find_tensor("rope_freqs.weight")) {
    if (cfg.contains("rope_scaling"))
      fail_key(f, p + "rope.scaling.type", "is set together with a rope_freqs.weight tensor; the file is inconsistent");
    read_rope_freqs(f, *rf, head_dim, theta, cfg);
  }
  cfg["tie_word_embeddings"] = f.find_tensor("output.weight") == nullptr;  // llama.cpp omits a tied head
  cfg["attention_bias"] = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  cfg["hidden_act"] = "silu";
  cfg["torch_dtype"] = "float32";  // dequantised weights are float32
  for (const char* key : {"bos_token_id", "eos_token_id", "padding_token_id"}) {
    const std::string k = std::string("tokenizer.ggml.") + key;
    if (!f.find(k)) continue;
    const int64_t id = f.get_int(k);
    const std::string field = std::string(key) == "padding_token_id" ? "pad_token_id" : key;
    if (id >= vocab) fail_key(f, k, "is " + std::to_string(id) + ", outside the vocabulary of " + std::to_string(vocab));
    cfg[field] = id;
  }
  HfCheckpointInfo info;
  ModelConfig c = hf_config_from_json(cfg, f.path() + " (llama.* metadata read as config.json)", &info);
  info.folder = f.path();
  info.weight_files = {f.path()};
  info.format = "gguf";
  if (info_out) *info_out = info;
  return c;
}

std::string gguf_tensor_name(const std::string& n) {
  if (n == "embed.weight") return "token_embd.weight";
  if (n == "norm.weight") return "output_norm.weight";
  if (n == "head.weight") return "output.weight";
  const std::string blocks = "blocks.";
  if (n.compare(0, blocks.size(), blocks) != 0) return "";
  const size_t dot = n.find('.', blocks.size());
  if (dot == std::string::npos) return "";
  const std::string pre = "blk." + n.substr(blocks.size(), dot - blocks.size()) + ".";
  const std::string rest = n.substr(dot + 1);
  if (rest == "attn_norm.weight") return pre + "attn_norm.weight";
  if (rest == "mlp_norm.weight") return pre + "ffn_norm.weight";
  const std::pair<const char*, const char*> attn[] = {{"q", "attn_q"}, {"k", "attn_k"}, {"v", "attn_v"}, {"o", "attn_output"}};
  for (const auto& [ours, theirs] : attn)
    for (const char* kind : {"weight", "bias"})
      if (rest == std::string("attn.") + ours + "." + kind) return pre + theirs + "." + kind;
  for (const char* m : {"gate", "up", "down"})
    if (rest == std::string("mlp.") + m + ".weight") return pre + "ffn_" + m + ".weight";
  return "";
}

torch::Tensor gguf_unpermute_rows(const torch::Tensor& w, int64_t n_head) {
  const int64_t rows = w.size(0);
  TORCH_CHECK(n_head > 0 && rows % (2 * n_head) == 0, "gguf_unpermute_rows: ", rows, " rows do not split into ", n_head,
              " heads of even width");
  std::vector<int64_t> shape = {n_head, rows / n_head / 2, 2};
  for (int64_t k = 1; k < w.dim(); ++k) shape.push_back(w.size(k));
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

LoadedHfModel load_gguf_checkpoint(const std::string& path, torch::Device device, c10::optional<torch::ScalarType> dtype) {
  gguf::File f(path);
  LoadedHfModel out;
  const ModelConfig cfg = read_gguf_config(f, &out.info);
  const torch::ScalarType compute = dtype ? *dtype : hf_compute_dtype(out.info.stored_dtype, device);
  {
    detail::UninitialisedWeights no_init(compute, device);
    out.model = DecoderModel(cfg, LoraConfig{}, /*init_seed=*/0);
  }
  struct Copy {
    torch::Tensor dst;
    const gguf::TensorInfo* src;
    int64_t unpermute_heads;  // 0: as stored
  };
  std::vector<Copy> copies;
  std::set<std::string> used;
  for (auto& p : out.model->named_parameters(/*recurse=*/true)) {
    const std::string name = gguf_tensor_name(p.key());
    if (name.empty()) throw std::logic_error("load_gguf_checkpoint: no GGUF name for parameter " + p.key());
    const gguf::TensorInfo* t = f.find_tensor(name);
    if (!t)
      throw InputError(path + ": tensor '" + name + "' is missing; the llama.* metadata (" +
                       std::to_string(cfg.n_layers) + " blocks) needs it, so the file is incomplete or inconsistent");
    if (!gguf::ggml_type_supported(t->type))
      throw InputError(path + ": tensor '" + name + "' has type " + gguf::ggml_type_name(static_cast<uint32_t>(t->type)) +
                       ", which leadbench cannot dequantise; supported: " + gguf::supported_types() +
                       " (re-quantise with llama.cpp's llama-quantize to one of them, e.g. Q8_0)");
    if (t->shape() != p.value().sizes().vec())
      throw InputError(path + ": tensor '" + name + "' has shape " + c10::str(c10::IntArrayRef(t->shape())) +
                       " (GGUF dims reversed), the llama.* metadata implies " + c10::str(p.value().sizes()) +
                       "; the metadata and the tensors do not belong together");
    int64_t heads = 0;
    const std::string& k = p.key();
    const auto ends_with = [&](const char* s) {
      const std::string e(s);
      return k.size() >= e.size() && k.compare(k.size() - e.size(), e.size(), e) == 0;
    };
    if (ends_with(".attn.q.weight") || ends_with(".attn.q.bias")) heads = cfg.n_heads;
    if (ends_with(".attn.k.weight") || ends_with(".attn.k.bias")) heads = cfg.n_kv_heads;
    used.insert(name);
    copies.push_back({p.value(), t, heads});
  }
  for (const auto& t : f.tensors()) {
    if (used.count(t.name) || t.name == "rope_freqs.weight") continue;  // rope_freqs: read into the config
    throw InputError(path + ": tensor '" + t.name + "' is not part of a llama model with this metadata (" +
                     std::to_string(cfg.n_layers) + " blocks); leadbench does not know what it is for");
  }
  {
    torch::NoGradGuard no_grad;
    for (auto& c : copies) {
      torch::Tensor w = gguf_dequantize(f, *c.src);
      if (c.unpermute_heads > 0) w = gguf_unpermute_rows(w, c.unpermute_heads);
      c.dst.copy_(w);  // the one conversion into the compute dtype on the device
      f.release(*c.src);
    }
  }
  out.model->eval();
  return out;
}

}  // namespace lb
