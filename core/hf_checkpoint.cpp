// Hugging Face model folders into DecoderModel: config.json to ModelConfig, the checkpoint's
// tensor names to the model's, the safetensors index and shards, and a one-copy memory-mapped load.
#include "core/hf_checkpoint.h"

#include "core/json_io.h"
#include "core/safetensors.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace lb {

namespace {

namespace fs = std::filesystem;

struct Arch {
  const char* name;
  const char* model_type;
};
const Arch kArchs[] = {{"LlamaForCausalLM", "llama"},
                       {"MistralForCausalLM", "mistral"},
                       {"Qwen2ForCausalLM", "qwen2"},
                       {"Qwen3ForCausalLM", "qwen3"}};

std::string supported_archs() {
  std::string s;
  for (const auto& a : kArchs) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

// Typed reads of config.json with errors naming the file and the field.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(path_ + ": field '" + field + "' " + what);
  }
  bool has(const char* f) const { return j_.contains(f) && !j_.at(f).is_null(); }
  const nlohmann::json& at(const char* f) const { return j_.at(f); }

  int64_t integer(const char* f, c10::optional<int64_t> def, int64_t min_value = 1) const {
    if (!has(f)) {
      if (!def) fail(f, "is missing; a Hugging Face config.json of this architecture always has it");
      return *def;
    }
    const auto& v = j_.at(f);
    if (!v.is_number_integer() && !v.is_number_unsigned()) fail(f, "must be an integer, got " + v.dump());
    const int64_t x = v.get<int64_t>();
    if (x < min_value) fail(f, "must be >= " + std::to_string(min_value) + ", got " + v.dump());
    if (x > std::numeric_limits<int>::max()) fail(f, "is too large: " + v.dump());
    return x;
  }
  double number(const char* f, double def) const {
    if (!has(f)) return def;
    const auto& v = j_.at(f);
    if (!v.is_number()) fail(f, "must be a number, got " + v.dump());
    const double x = v.get<double>();
    if (!(x > 0) || !std::isfinite(x)) fail(f, "must be a positive number, got " + v.dump());
    return x;
  }
  bool boolean(const char* f, bool def) const {
    if (!has(f)) return def;
    const auto& v = j_.at(f);
    if (!v.is_boolean()) fail(f, "must be true or false, got " + v.dump());
    return v.get<bool>();
  }
  std::string string(const char* f, const std::string& def) const {
    if (!has(f)) return def;
    const auto& v = j_.at(f);
    if (!v.is_string()) fail(f, "must be a string, got " + v.dump());
    return v.get<std::string>();
  }
  std::vector<int64_t> ids(const char* f) const {
    std::vector<int64_t> out;
    if (!has(f)) return out;
    const auto& v = j_.at(f);
    auto one = [&](const nlohmann::json& x) {
      if (!x.is_number_integer() && !x.is_number_unsigned()) fail(f, "must be a token id or a list of them, got " + v.dump());
      out.push_back(x.get<int64_t>());
    };
    if (v.is_array()) {
      for (const auto& x : v) one(x);
    } else {
      one(v);
    }
    return out;
  }
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json& j_;
  std::string path_;
};

torch::ScalarType dtype_from_name(const ConfigReader& r, const char* field, const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16") return torch::kFloat16;
  r.fail(field, "is '" + name + "'; supported: float32, bfloat16, float16");
}

// rope_scaling (or, in newer files, rope_parameters): rope type and its parameters into `c`.
void read_rope(const ConfigReader& r, const nlohmann::json& root, ModelConfig& c) {
  c.rope_theta = r.number("rope_theta", 10000.0);
  const char* field = root.contains("rope_scaling") && !root["rope_scaling"].is_null() ? "rope_scaling" : "rope_parameters";
  if (!r.has(field)) return;
  const auto& s = root.at(field);
  if (!s.is_object()) r.fail(field, "must be an object or null, got " + s.dump());
  ConfigReader sr(s, r.path() + ": " + field);
  if (std::string(field) == "rope_parameters") c.rope_theta = sr.number("rope_theta", c.rope_theta);
  std::string type = sr.string("rope_type", sr.string("type", "default"));
  if (type == "default") return;
  if (type == "linear") {
    c.rope_scaling = "linear";
    if (!sr.has("factor")) sr.fail("factor", "is missing (linear rope scaling needs it)");
    c.rope_factor = sr.number("factor", 1.0);
  } else if (type == "llama3") {
    c.rope_scaling = "llama3";
    for (const char* f : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
      if (!sr.has(f)) sr.fail(f, "is missing (llama3 rope scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings)");
    c.rope_factor = sr.number("factor", 1.0);
    c.rope_low_freq_factor = sr.number("low_freq_factor", 1.0);
    c.rope_high_freq_factor = sr.number("high_freq_factor", 4.0);
    c.rope_original_max_pos = static_cast<int>(sr.integer("original_max_position_embeddings", c10::nullopt));
    if (!(c.rope_high_freq_factor > c.rope_low_freq_factor))
      sr.fail("high_freq_factor", "must be larger than low_freq_factor");
  } else {
    sr.fail("rope_type", "is '" + type + "'; supported: default (or rope_scaling null), linear, llama3");
  }
  if (s.contains("attention_factor") && !s["attention_factor"].is_null() && s["attention_factor"] != 1.0)
    sr.fail("attention_factor", "is " + s["attention_factor"].dump() + "; only 1 (none) is supported");
}

}  // namespace

ModelConfig read_hf_config(const std::string& folder, HfCheckpointInfo* info_out) {
  const std::string path = (fs::path(folder) / "config.json").string();
  if (!fs::exists(path))
    throw InputError(path + ": not found; a Hugging Face model folder holds config.json beside its safetensors files");
  const nlohmann::json root = read_json_file(path);
  HfCheckpointInfo info;
  ModelConfig c = hf_config_from_json(root, path, &info);
  info.folder = folder;
  if (info_out) *info_out = info;
  return c;
}

ModelConfig hf_config_from_json(const nlohmann::json& root, const std::string& path, HfCheckpointInfo* info_out) {
  if (!root.is_object()) throw InputError(path + ": not a JSON object");
  ConfigReader r(root, path);
  HfCheckpointInfo info;

  if (!r.has("architectures") || !root["architectures"].is_array() || root["architectures"].size() != 1 ||
      !root["architectures"][0].is_string())
    r.fail("architectures", "must be a list of one architecture name; supported: " + supported_archs());
  info.architecture = root["architectures"][0].get<std::string>();
  const Arch* arch = nullptr;
  for (const auto& a : kArchs)
    if (info.architecture == a.name) arch = &a;
  if (!arch) r.fail("architectures", "is '" + info.architecture + "'; supported: " + supported_archs());
  info.model_type = r.string("model_type", arch->model_type);
  if (info.model_type != arch->model_type)
    r.fail("model_type", "is '" + info.model_type + "' but architectures says " + info.architecture + " (model_type '" +
                             arch->model_type + "')");
  const std::string type = arch->model_type;

  const std::string act = r.string("hidden_act", "silu");
  if (act != "silu") r.fail("hidden_act", "is '" + act + "'; only silu (SwiGLU) is supported");
  if (r.boolean("mlp_bias", false)) r.fail("mlp_bias", "is true; only MLPs without biases are supported");
  if (r.has("partial_rotary_factor") && root["partial_rotary_factor"] != 1.0)
    r.fail("partial_rotary_factor", "is " + root["partial_rotary_factor"].dump() + "; only 1 (full rotary) is supported");

  ModelConfig c;
  c.vocab_size = static_cast<int>(r.integer("vocab_size", c10::nullopt));
  c.d_model = static_cast<int>(r.integer("hidden_size", c10::nullopt));
  c.d_ff = static_cast<int>(r.integer("intermediate_size", c10::nullopt));
  c.n_layers = static_cast<int>(r.integer("num_hidden_layers", c10::nullopt));
  c.n_heads = static_cast<int>(r.integer("num_attention_heads", c10::nullopt));
  c.n_kv_heads = static_cast<int>(r.integer("num_key_value_heads", c.n_heads));
  if (c.n_heads % c.n_kv_heads != 0)
    r.fail("num_key_value_heads", "(" + std::to_string(c.n_kv_heads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.n_heads) + ")");
  const int64_t derived_hd = c.d_model / c.n_heads;
  c.head_dim = static_cast<int>(r.integer("head_dim", derived_hd, 1));
  c.max_seq_len = static_cast<int>(r.integer("max_position_embeddings", c10::nullopt));
  c.norm_eps = r.number("rms_norm_eps", 1e-6);
  c.tie_embeddings = r.boolean("tie_word_embeddings", false);
  c.init_std = r.number("initializer_range", 0.02);
  if (c.head_dim == derived_hd && c.d_model % c.n_heads == 0) c.head_dim = 0;  // the default: hash-neutral
  if (c.resolved_head_dim() % 2 != 0) r.fail("head_dim", "must be even for rotary embeddings");
  read_rope(r, root, c);

  if (type == "qwen2") {
    c.qkv_bias = true;  // Qwen2 always has q/k/v biases and none on o
  } else if (type == "llama" || type == "qwen3") {
    c.qkv_bias = c.o_bias = r.boolean("attention_bias", false);
  }
  c.qk_norm = type == "qwen3";

  // Sliding window: Mistral on every layer when set; Qwen2/3 only with use_sliding_window, from
  // max_window_layers on. An explicit layer_types list overrides both.
  int64_t window = 0, from_layer = 0;
  if (type == "mistral" || type == "qwen2" || type == "qwen3") {
    const bool use = type == "mistral" ? true : r.boolean("use_sliding_window", false);
    if (use && r.has("sliding_window")) {
      window = r.integer("sliding_window", c10::nullopt);
      if (type != "mistral") from_layer = r.integer("max_window_layers", int64_t{0}, 0);
    }
  } else if (r.has("sliding_window")) {
    r.fail("sliding_window", "is set, but " + info.architecture + " has no sliding-window attention");
  }
  if (r.has("layer_types")) {
    const auto& lt = root["layer_types"];
    if (!lt.is_array() || static_cast<int>(lt.size()) != c.n_layers)
      r.fail("layer_types", "must list one entry per layer (" + std::to_string(c.n_layers) + ")");
    int64_t first = -1;
    for (size_t i = 0; i < lt.size(); ++i) {
      const std::string t = lt[i].is_string() ? lt[i].get<std::string>() : "";
      if (t == "sliding_attention") {
        if (first < 0) first = static_cast<int64_t>(i);
      } else if (t == "full_attention") {
        if (first >= 0) r.fail("layer_types", "has a full_attention layer after a sliding_attention one; only a sliding window on the last layers is supported");
      } else {
        r.fail("layer_types", "entry " + std::to_string(i) + " is " + lt[i].dump() + "; supported: full_attention, sliding_attention");
      }
    }
    if (first < 0) {
      window = 0;
    } else {
      if (!r.has("sliding_window")) r.fail("sliding_window", "is missing but layer_types has sliding_attention layers");
      window = r.integer("sliding_window", c10::nullopt);
      from_layer = first;
    }
  }
  if (window > 0 && from_layer < c.n_layers) {
    c.sliding_window = static_cast<int>(window);
    c.sliding_window_from_layer = static_cast<int>(from_layer);
  }

  info.bos_token_ids = r.ids("bos_token_id");
  info.eos_token_ids = r.ids("eos_token_id");
  auto pads = r.ids("pad_token_id");
  if (pads.size() > 1) r.fail("pad_token_id", "must be one token id");
  info.pad_token_id = pads.empty() ? -1 : pads[0];
  for (const auto* list : {&info.bos_token_ids, &info.eos_token_ids})
    for (int64_t id : *list)
      if (id < 0 || id >= c.vocab_size)
        r.fail(list == &info.bos_token_ids ? "bos_token_id" : "eos_token_id",
               "holds " + std::to_string(id) + ", outside the vocabulary of " + std::to_string(c.vocab_size));
  const char* dtype_field = r.has("dtype") ? "dtype" : "torch_dtype";
  info.stored_dtype = dtype_from_name(r, dtype_field, r.string(dtype_field, "float32"));
  if (info_out) *info_out = info;
  return c;
}

std::string hf_tensor_name(const std::string& n) {
  if (n == "embed.weight") return "model.embed_tokens.weight";
  if (n == "norm.weight") return "model.norm.weight";
  if (n == "head.weight") return "lm_head.weight";
  const std::string blocks = "blocks.";
  if (n.compare(0, blocks.size(), blocks) != 0) return "";
  const size_t dot = n.find('.', blocks.size());
  if (dot == std::string::npos) return "";
  const std::string layer = n.substr(blocks.size(), dot - blocks.size());
  const std::string rest = n.substr(dot + 1);
  const std::string pre = "model.layers." + layer + ".";
  if (rest == "attn_norm.weight") return pre + "input_layernorm.weight";
  if (rest == "mlp_norm.weight") return pre + "post_attention_layernorm.weight";
  if (rest == "attn.q_norm.weight") return pre + "self_attn.q_norm.weight";
  if (rest == "attn.k_norm.weight") return pre + "self_attn.k_norm.weight";
  for (const char* p : {"q", "k", "v", "o"})
    for (const char* kind : {"weight", "bias"})
      if (rest == std::string("attn.") + p + "." + kind) return pre + "self_attn." + p + "_proj." + kind;
  for (const char* p : {"gate", "up", "down"})
    if (rest == std::string("mlp.") + p + ".weight") return pre + "mlp." + p + "_proj.weight";
  return "";
}

torch::ScalarType hf_compute_dtype(torch::ScalarType stored, const torch::Device& device) {
  if (device.is_cuda() && (stored == torch::kBFloat16 || stored == torch::kFloat16)) return stored;
  return torch::kFloat32;
}

namespace {

// The safetensors files of a folder and where each tensor name lives.
struct Weights {
  std::vector<std::unique_ptr<safetensors::MappedFile>> files;
  std::map<std::string, std::pair<size_t, const safetensors::TensorEntry*>> where;  // name -> (file, entry)
};

Weights open_weights(const std::string& folder, HfCheckpointInfo& info) {
  Weights w;
  const fs::path dir(folder);
  const std::string index_path = (dir / "model.safetensors.index.json").string();
  if (fs::exists(index_path)) {
    const nlohmann::json index = read_json_file(index_path);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      throw InputError(index_path + ": field 'weight_map' is missing or not an object of tensor name -> file; "
                       "re-create the index (it lists every tensor with the shard holding it)");
    std::map<std::string, std::string> map;  // tensor -> shard file name
    std::map<std::string, size_t> shard_index;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        throw InputError(index_path + ": weight_map entry of tensor '" + it.key() + "' is " + it.value().dump() +
                         ", not a file name");
      const std::string shard = it.value().get<std::string>();
      if (shard.empty() || fs::path(shard).is_absolute() || shard.find("..") != std::string::npos)
        throw InputError(index_path + ": weight_map entry of tensor '" + it.key() + "' names '" + shard +
                         "'; shards must be files inside the folder");
      map[it.key()] = shard;
      if (!shard_index.count(shard)) {
        const std::string shard_path = (dir / shard).string();
        if (!fs::exists(shard_path))
          throw InputError(shard_path + ": shard listed in " + index_path + " (for tensor '" + it.key() +
                           "') is missing; download or copy every shard of the checkpoint");
        shard_index[shard] = w.files.size();
        w.files.push_back(std::make_unique<safetensors::MappedFile>(shard_path));
        info.weight_files.push_back(shard_path);
      }
    }
    if (map.empty()) throw InputError(index_path + ": weight_map is empty");
    for (const auto& [name, shard] : map) {
      const size_t f = shard_index[shard];
      const auto* e = w.files[f]->header().find(name);
      if (!e)
        throw InputError(w.files[f]->path() + ": tensor '" + name + "' listed for this shard in " + index_path +
                         " is not in it; the index and the shards are from different checkpoints");
      w.where[name] = {f, e};
    }
    for (size_t f = 0; f < w.files.size(); ++f)
      for (const auto& e : w.files[f]->header().entries) {
        auto it = map.find(e.name);
        if (it == map.end() || shard_index[it->second] != f)
          throw InputError(w.files[f]->path() + ": tensor '" + e.name + "' is not listed for this shard in " + index_path +
                           "; the index and the shards are from different checkpoints");
      }
    return w;
  }
  const std::string single = (dir / "model.safetensors").string();
  if (!fs::exists(single))
    throw InputError(folder + ": holds neither model.safetensors nor model.safetensors.index.json; only safetensors "
                     "checkpoints are supported (convert pytorch_model.bin with transformers' save_pretrained)");
  w.files.push_back(std::make_unique<safetensors::MappedFile>(single));
  info.weight_files.push_back(single);
  for (const auto& e : w.files[0]->header().entries) w.where[e.name] = {0, &e};
  return w;
}

std::string shape_str(const std::vector<int64_t>& s) { return c10::str(c10::IntArrayRef(s)); }

}  // namespace

LoadedHfModel load_hf_checkpoint(const std::string& folder, torch::Device device, c10::optional<torch::ScalarType> dtype) {
  LoadedHfModel out;
  const ModelConfig cfg = read_hf_config(folder, &out.info);
  Weights w = open_weights(folder, out.info);
  const torch::ScalarType compute = dtype ? *dtype : hf_compute_dtype(out.info.stored_dtype, device);
  {
    detail::UninitialisedWeights no_init(compute, device);
    out.model = DecoderModel(cfg, LoraConfig{}, /*init_seed=*/0);
  }
  // Every check before any copy.
  struct Copy {
    torch::Tensor dst;
    size_t file;
    const safetensors::TensorEntry* entry;
  };
  std::vector<Copy> copies;
  std::set<std::string> used;
  for (auto& p : out.model->named_parameters(/*recurse=*/true)) {
    const std::string hf = hf_tensor_name(p.key());
    if (hf.empty()) throw std::logic_error("load_hf_checkpoint: no checkpoint name for parameter " + p.key());
    auto it = w.where.find(hf);
    if (it == w.where.end())
      throw InputError(folder + ": tensor '" + hf + "' is missing from " +
                       (w.files.size() == 1 ? w.files[0]->path() : "every shard") + "; config.json (" +
                       out.info.architecture + ") needs it, so the weights belong to another configuration");
    const auto& [f, e] = it->second;
    const std::string& file = w.files[f]->path();
    if (e->shape != p.value().sizes().vec())
      throw InputError(file + ": tensor '" + hf + "' has shape " + shape_str(e->shape) + ", config.json implies " +
                       c10::str(p.value().sizes()) + "; the weights and config.json are from different models");
    if (!c10::isFloatingType(e->dtype))
      throw InputError(file + ": tensor '" + hf + "' has dtype " + c10::toString(e->dtype) +
                       "; weights must be F32, F16 or BF16");
    used.insert(hf);
    copies.push_back({p.value(), f, e});
  }
  for (const auto& [name, loc] : w.where) {
    if (used.count(name)) continue;
    const std::string inv_freq = ".rotary_emb.inv_freq";  // a buffer older checkpoints stored
    const bool ignorable = (cfg.tie_embeddings && name == "lm_head.weight") ||  // tied: the embedding serves
                           (name.size() > inv_freq.size() &&
                            name.compare(name.size() - inv_freq.size(), inv_freq.size(), inv_freq) == 0);
    if (!ignorable)
      throw InputError(w.files[loc.first]->path() + ": tensor '" + name + "' is not part of a " + out.info.architecture +
                       " with this config.json; the weights belong to another architecture or configuration");
  }
  {
    torch::NoGradGuard no_grad;
    for (auto& c : copies) {
      const auto& file = *w.files[c.file];
      c.dst.copy_(file.view(*c.entry));  // the one conversion: mapped bytes -> compute dtype on the device
      file.release(*c.entry);
    }
  }
  out.model->eval();
  return out;
}

MemoryEstimate estimate_memory(const ModelConfig& c, const LoraConfig& lora, int64_t batch, int64_t seq_len,
                               int weight_bytes, bool training) {
  const int64_t d = c.d_model, hd = c.resolved_head_dim(), H = c.n_heads, KV = c.n_kv_heads, F = c.d_ff,
                V = c.vocab_size, L = c.n_layers;
  const int64_t attn = d * H * hd + 2 * d * KV * hd + H * hd * d + (c.qkv_bias ? (H + 2 * KV) * hd : 0) +
                       (c.o_bias ? d : 0) + (c.qk_norm ? 2 * hd : 0);
  const int64_t per_layer = attn + 3 * d * F + 2 * d;
  const int64_t params = L * per_layer + V * d * (c.tie_embeddings ? 1 : 2) + d;
  MemoryEstimate m;
  m.weights = params * weight_bytes;
  int64_t adapter_params = 0;
  if (lora.rank > 0) {
    std::map<std::string, std::pair<int64_t, int64_t>> io = {
        {"q", {d, H * hd}}, {"k", {d, KV * hd}}, {"v", {d, KV * hd}}, {"o", {H * hd, d}},
        {"gate", {d, F}},   {"up", {d, F}},      {"down", {F, d}}};
    for (const auto& t : lora.targets) {
      auto it = io.find(t);
      if (it != io.end()) adapter_params += L * lora.rank * (it->second.first + it->second.second);
    }
  }
  m.adapters = adapter_params * 4;
  const int64_t BT = batch * seq_len;
  if (training) {
    const int64_t trainable = lora.rank > 0 ? adapter_params + (lora.train_base ? params : 0) : params;
    m.gradients = trainable * 4;
    m.optimizer = 2 * trainable * 4;
    // Kept for backward, per layer: two norm inputs, q, k, v, attention output, gate, up and their
    // product, and the scores and probabilities of every head; then the logits and their softmax.
    const int64_t act_bytes = weight_bytes;
    const int64_t per_layer_act = BT * (4 * d + (H + 2 * KV) * hd + 3 * F) * act_bytes + 2 * batch * H * seq_len * seq_len * 4;
    m.activations = L * per_layer_act + 2 * BT * V * 4;
  } else {
    m.activations = BT * (4 * d + (H + 2 * KV) * hd + 3 * F) * weight_bytes + 2 * batch * H * seq_len * seq_len * 4 +
                    BT * V * 4;
  }
  return m;
}

std::string format_memory_estimate(const MemoryEstimate& m) {
  auto gib = [](int64_t b) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(2);
    s << static_cast<double>(b) / (1024.0 * 1024.0 * 1024.0) << " GiB";
    return s.str();
  };
  std::ostringstream s;
  s << "memory estimate: weights " << gib(m.weights) << ", LoRA adapters " << gib(m.adapters) << ", gradients "
    << gib(m.gradients) << ", AdamW state " << gib(m.optimizer) << ", activations " << gib(m.activations)
    << "; total " << gib(m.total());
  return s.str();
}

}  // namespace lb
