// PEFT LoRA adapters: adapter_config.json checks, target_modules matching (PEFT's rules), tensor
// names and shapes, the adapter import and export, and the merged Hugging Face export.
#include "core/peft_adapter.h"

#include "core/config.h"
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/safetensors.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace lb {

namespace {

namespace fs = std::filesystem;

const char* const kConfigFile = "adapter_config.json";
const char* const kWeightsFile = "adapter_model.safetensors";

// The projections leadbench can adapt, in LoraConfig's order, with their PEFT module names.
struct Target {
  const char* lb;      // LoraConfig target
  const char* peft;    // PEFT / Hugging Face module name
  const char* parent;  // HF parent module: self_attn or mlp
};
const Target kTargets[] = {{"q", "q_proj", "self_attn"}, {"k", "k_proj", "self_attn"}, {"v", "v_proj", "self_attn"},
                           {"o", "o_proj", "self_attn"}, {"gate", "gate_proj", "mlp"}, {"up", "up_proj", "mlp"},
                           {"down", "down_proj", "mlp"}};

const Target* find_target(const std::string& lb_name) {
  for (const auto& t : kTargets)
    if (lb_name == t.lb) return &t;
  return nullptr;
}

std::string supported_modules() {
  std::string s;
  for (const auto& t : kTargets) s += (s.empty() ? "" : ", ") + std::string(t.peft);
  return s;
}

// leadbench's module name of a projection: "blocks.3.attn.q".
std::string lb_module(int layer, const Target& t) {
  return "blocks." + std::to_string(layer) + "." + (std::string(t.parent) == "mlp" ? "mlp." : "attn.") + t.lb;
}

// The Hugging Face module name: "model.layers.3.self_attn.q_proj".
std::string hf_module(int layer, const Target& t) {
  return "model.layers." + std::to_string(layer) + "." + t.parent + "." + t.peft;
}

std::string shape_str(c10::IntArrayRef s) { return c10::str(s); }

bool is_neutral(const nlohmann::json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>()) || (v.is_object() && v.empty()) ||
         (v.is_array() && v.empty()) || (v.is_string() && v.get<std::string>().empty());
}

// The modules of a Hugging Face causal LM that target_modules can name, besides the projections:
// PEFT cannot adapt these with plain LoRA on linear layers (or leadbench does not), so a match is an error.
std::vector<std::string> other_module_names(int n_layers) {
  std::vector<std::string> out = {"model", "model.embed_tokens", "model.norm", "model.layers", "lm_head",
                                  "model.rotary_emb"};
  for (int i = 0; i < n_layers; ++i) {
    const std::string pre = "model.layers." + std::to_string(i);
    for (const char* s : {"", ".self_attn", ".mlp", ".input_layernorm", ".post_attention_layernorm",
                          ".self_attn.q_norm", ".self_attn.k_norm", ".mlp.act_fn"})
      out.push_back(pre + s);
  }
  return out;
}

// Which projections target_modules selects, by PEFT's rules: a string is a regular expression that
// must match the whole module name (or "all-linear": every projection, not the output head); a list
// entry matches a module named exactly so or ending in "." + entry. Every selected projection must
// be selected in every layer (leadbench adapts whole layer stacks).
std::vector<std::string> match_targets(const nlohmann::json& tm, int n_layers, const std::string& path) {
  auto fail = [&](const std::string& what) -> void {
    throw InputError(path + ": field 'target_modules' " + what);
  };
  std::set<std::pair<int, std::string>> hit;  // (layer, leadbench target)
  auto check_others = [&](const std::function<bool(const std::string&)>& matches, const std::string& what) {
    for (const auto& name : other_module_names(n_layers))
      if (matches(name))
        fail(what + " selects module '" + name + "', which leadbench cannot adapt; supported: " + supported_modules() +
             " (LoRA on the attention and MLP projections)");
  };
  if (tm.is_string()) {
    const std::string pattern = tm.get<std::string>();
    if (pattern == "all-linear") {
      for (int i = 0; i < n_layers; ++i)
        for (const auto& t : kTargets) hit.insert({i, t.lb});
    } else {
      std::regex re;
      try {
        re = std::regex(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        fail("is the regular expression \"" + pattern + "\", which leadbench cannot read (" + e.what() +
             "); list the module names instead, e.g. [\"q_proj\", \"v_proj\"]");
      }
      auto matches = [&](const std::string& name) { return std::regex_match(name, re); };
      check_others(matches, "(the regular expression \"" + pattern + "\")");
      for (int i = 0; i < n_layers; ++i)
        for (const auto& t : kTargets)
          if (matches(hf_module(i, t))) hit.insert({i, t.lb});
      if (hit.empty()) fail("(the regular expression \"" + pattern + "\") matches no projection; supported: " + supported_modules());
    }
  } else if (tm.is_array() && !tm.empty()) {
    for (const auto& e : tm) {
      if (!e.is_string() || e.get<std::string>().empty())
        fail("must list module names (strings), got " + e.dump());
      const std::string entry = e.get<std::string>();
      auto matches = [&](const std::string& name) {
        return name == entry ||
               (name.size() > entry.size() && name.compare(name.size() - entry.size(), entry.size(), entry) == 0 &&
                name[name.size() - entry.size() - 1] == '.');
      };
      check_others(matches, "entry \"" + entry + "\"");
      bool any = false;
      for (int i = 0; i < n_layers; ++i)
        for (const auto& t : kTargets)
          if (matches(hf_module(i, t))) {
            hit.insert({i, t.lb});
            any = true;
          }
      if (!any) fail("entry \"" + entry + "\" matches no module of the model; supported: " + supported_modules());
    }
  } else {
    fail(tm.is_null() ? std::string("is missing; it names the adapted projections, e.g. [\"q_proj\", \"v_proj\"]")
                      : "must be a list of module names or a regular expression, got " + tm.dump());
  }
  std::vector<std::string> targets;
  for (const auto& t : kTargets) {
    int layers = 0;
    for (int i = 0; i < n_layers; ++i) layers += hit.count({i, t.lb}) ? 1 : 0;
    if (layers == 0) continue;
    if (layers != n_layers)
      fail("selects " + std::string(t.peft) + " in " + std::to_string(layers) + " of the " + std::to_string(n_layers) +
           " layers; leadbench adapts a projection in every layer or in none");
    targets.push_back(t.lb);
  }
  return targets;
}

// A folder written into a temporary sibling and renamed into place by commit(); removed when
// destroyed uncommitted (an error midway leaves nothing behind).
class StagedFolder {
 public:
  explicit StagedFolder(const std::string& out) {
    final_ = fs::path(out);
    if (final_.filename().empty()) final_ = final_.parent_path();
    if (final_.empty()) throw InputError("output folder: empty path");
    if (fs::exists(final_))
      throw InputError(final_.string() + ": already exists; choose a new output folder or remove this one "
                       "(an adapter or checkpoint folder is never overwritten)");
    const fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw InputError(parent.string() + ": cannot create the folder (" + ec.message() + ")");
    static std::atomic<int> counter{0};
    tmp_ = parent / ("." + final_.filename().string() + ".partial-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter++));
    fs::remove_all(tmp_, ec);
    fs::create_directory(tmp_, ec);
    if (ec) throw InputError(tmp_.string() + ": cannot create the folder (" + ec.message() + ")");
  }
  ~StagedFolder() {
    if (!committed_) {
      std::error_code ec;
      fs::remove_all(tmp_, ec);
    }
  }
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  std::string file(const std::string& name) const { return (tmp_ / name).string(); }
  void commit() {
    std::error_code ec;
    fs::rename(tmp_, final_, ec);  // fails when the target appeared meanwhile (a non-empty folder)
    if (ec) throw InputError(final_.string() + ": cannot move the finished folder into place (" + ec.message() + ")");
    committed_ = true;
  }

 private:
  fs::path final_, tmp_;
  bool committed_ = false;
};

torch::Tensor param(DecoderModel& model, const std::string& name) {
  auto params = model->named_parameters(/*recurse=*/true);
  const torch::Tensor* p = params.find(name);
  if (!p) throw std::logic_error("peft_adapter: the model has no parameter " + name);
  return *p;
}

std::string dtype_name(torch::ScalarType t) {
  if (t == torch::kFloat32) return "float32";
  if (t == torch::kBFloat16) return "bfloat16";
  if (t == torch::kFloat16) return "float16";
  throw std::invalid_argument(std::string("merged export: dtype ") + c10::toString(t) +
                              " is not one of float32, bfloat16, float16");
}

}  // namespace

std::string peft_module_name(const std::string& target) {
  const Target* t = find_target(target);
  return t ? t->peft : "";
}

std::pair<std::string, std::string> peft_tensor_names(int layer, const std::string& target) {
  const Target* t = find_target(target);
  if (!t) throw std::invalid_argument("peft_tensor_names: unknown target '" + target + "'");
  const std::string pre = "base_model.model." + hf_module(layer, *t);
  return {pre + ".lora_A.weight", pre + ".lora_B.weight"};
}

PeftAdapterConfig read_peft_config(const std::string& folder, int n_layers) {
  const std::string path = (fs::path(folder) / kConfigFile).string();
  if (!fs::exists(path))
    throw InputError(path + ": not found; a PEFT adapter folder holds " + kConfigFile + " beside " + kWeightsFile);
  const nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw InputError(path + ": not a JSON object");
  auto fail = [&](const std::string& field, const std::string& what) -> void {
    throw InputError(path + ": field '" + field + "' " + what);
  };
  auto has = [&](const char* f) { return j.contains(f) && !j.at(f).is_null(); };

  const std::string peft_type = has("peft_type") && j["peft_type"].is_string() ? j["peft_type"].get<std::string>() : "";
  if (peft_type != "LORA")
    fail("peft_type", (has("peft_type") ? "is " + j["peft_type"].dump() : std::string("is missing")) +
                          "; only LORA adapters are supported");
  if (has("task_type")) {
    if (!j["task_type"].is_string() || j["task_type"] != "CAUSAL_LM")
      fail("task_type", "is " + j["task_type"].dump() + "; only CAUSAL_LM adapters (on a ...ForCausalLM model) are supported");
  }

  PeftAdapterConfig out;
  LoraConfig& lora = out.lora;
  // Absent fields take PEFT's defaults (LoraConfig: r 8, lora_alpha 8, lora_dropout 0).
  lora.rank = 8;
  if (has("r")) {
    const auto& v = j["r"];
    if (!v.is_number_integer() && !v.is_number_unsigned()) fail("r", "must be an integer, got " + v.dump());
    const int64_t r = v.get<int64_t>();
    if (r < 1 || r > 1 << 20) fail("r", "must be a positive rank, got " + v.dump());
    lora.rank = static_cast<int>(r);
  }
  lora.alpha = 8.0;
  if (has("lora_alpha")) {
    const auto& v = j["lora_alpha"];
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail("lora_alpha", "must be a finite number, got " + v.dump());
    lora.alpha = v.get<double>();
  }
  lora.dropout = 0.0;
  if (has("lora_dropout")) {
    const auto& v = j["lora_dropout"];
    if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() < 1.0))
      fail("lora_dropout", "must be a number in [0, 1), got " + v.dump());
    lora.dropout = v.get<double>();
  }
  if (has("bias") && j["bias"] != "none")
    fail("bias", "is " + j["bias"].dump() + "; only \"none\" is supported (the adapter would carry trained biases)");
  if (has("use_rslora") && j["use_rslora"] != false)
    fail("use_rslora", "is " + j["use_rslora"].dump() + " (scale lora_alpha / sqrt(r)); leadbench's adapters scale by "
                       "lora_alpha / r: not supported");
  if (has("init_lora_weights")) {
    const auto& v = j["init_lora_weights"];
    const bool ok = v.is_boolean() || (v.is_string() && (v == "gaussian" || v == "eva" || v == "orthogonal"));
    if (!ok)
      fail("init_lora_weights", "is " + v.dump() + ": this initialisation rewrites the base weights, so the adapter "
                                "belongs to a modified base; convert it to a plain LoRA with PEFT "
                                "(save_pretrained(..., path_initial_model_for_weight_conversion=...))");
  }
  lora.targets = match_targets(j.contains("target_modules") ? j["target_modules"] : nlohmann::json(), n_layers, path);
  if (has("base_model_name_or_path") && j["base_model_name_or_path"].is_string())
    out.base_model_name_or_path = j["base_model_name_or_path"].get<std::string>();
  if (has("peft_version") && j["peft_version"].is_string()) out.peft_version = j["peft_version"].get<std::string>();

  // Every other field must hold its neutral value (null, false, empty): each one PEFT adds changes
  // the adapter's math or layout when set (use_dora, fan_in_fan_out, rank_pattern, alpha_pattern,
  // layers_to_transform, modules_to_save, exclude_modules, layer_replication, lora_bias,
  // trainable_token_indices, target_parameters, ...). These are informational or inert without them.
  static const std::set<std::string> kHandled = {
      "peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "bias", "use_rslora", "init_lora_weights",
      "target_modules", "base_model_name_or_path", "peft_version", "revision", "inference_mode", "auto_mapping",
      "layers_pattern",      // only read with layers_to_transform
      "megatron_core",       // only read with megatron_config
      "qalora_group_size",   // only read with use_qalora
      "loftq_config",        // only read with init_lora_weights "loftq"
      "eva_config", "corda_config", "lora_ga_config",  // only read at initialisation
      "ensure_weight_tying"  // only read with modules_to_save / trainable tokens
  };
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kHandled.count(it.key()) && !is_neutral(it.value()))
      fail(it.key(), "is " + it.value().dump() + "; leadbench supports plain LoRA only (this option changes the "
                     "adapter's computation or the modules it covers)");
  try {
    config_check(lora, path, nullptr, "lora.");
  } catch (const ConfigError& e) {
    throw InputError(e.what());
  }
  return out;
}

PeftLoadResult load_peft_adapter(DecoderModel& model, const std::string& folder) {
  const ModelConfig& mc = model->config();
  PeftLoadResult result;
  result.config = read_peft_config(folder, mc.n_layers);
  const LoraConfig& lora = result.config.lora;

  const fs::path dir(folder);
  const std::string wpath = (dir / kWeightsFile).string();
  if (!fs::exists(wpath)) {
    if (fs::exists(dir / "adapter_model.bin"))
      throw InputError(wpath + ": not found, only adapter_model.bin (a pickle, which leadbench does not read); "
                       "re-save the adapter with PEFT's save_pretrained(..., safe_serialization=True)");
    throw InputError(wpath + ": not found; a PEFT adapter folder holds it beside " + kConfigFile);
  }
  safetensors::MappedFile file(wpath);

  const LoraConfig have = model->lora_config();
  if (have.rank > 0) {
    const std::set<std::string> a(have.targets.begin(), have.targets.end()), b(lora.targets.begin(), lora.targets.end());
    if (have.rank != lora.rank || have.alpha != lora.alpha || have.dropout != lora.dropout || a != b)
      throw InputError((dir / kConfigFile).string() + ": r " + std::to_string(lora.rank) + ", lora_alpha " +
                       c10::str(lora.alpha) + ", lora_dropout " + c10::str(lora.dropout) +
                       " or target_modules differ from the adapters the model already carries (r " +
                       std::to_string(have.rank) + ", alpha " + c10::str(have.alpha) +
                       "); load the adapter onto a model without adapters");
  }

  // Every tensor checked before the model changes.
  struct Copy {
    std::string dst;  // leadbench parameter name
    const safetensors::TensorEntry* entry;
  };
  std::vector<Copy> copies;
  std::set<std::string> expected;
  for (int i = 0; i < mc.n_layers; ++i)
    for (const auto& tname : lora.targets) {
      const Target& t = *find_target(tname);
      const std::string mod = lb_module(i, t);
      const torch::Tensor w = param(model, mod + ".weight");  // [out, in]
      const auto names = peft_tensor_names(i, t.lb);
      const std::vector<int64_t> want_a = {lora.rank, w.size(1)}, want_b = {w.size(0), lora.rank};
      for (int k = 0; k < 2; ++k) {
        const std::string& name = k == 0 ? names.first : names.second;
        const std::vector<int64_t>& want = k == 0 ? want_a : want_b;
        expected.insert(name);
        const auto* e = file.header().find(name);
        if (!e)
          throw InputError(wpath + ": tensor '" + name + "' is missing; " + kConfigFile + " targets " + t.peft +
                           " in every layer, so the file is incomplete or belongs to another model");
        if (e->shape != want)
          throw InputError(wpath + ": tensor '" + name + "' has shape " + shape_str(e->shape) + ", the model with r = " +
                           std::to_string(lora.rank) + " (" + kConfigFile + ") needs " + shape_str(want) +
                           "; the adapter belongs to another base model or another rank");
        if (!c10::isFloatingType(e->dtype))
          throw InputError(wpath + ": tensor '" + name + "' has dtype " + c10::toString(e->dtype) +
                           "; adapter weights must be F32, F16 or BF16");
        if (!torch::isfinite(file.view(*e)).all().item<bool>())
          throw InputError(wpath + ": tensor '" + name + "' holds NaN or infinite values; the adapter is corrupt "
                           "(or its training diverged)");
        copies.push_back({mod + (k == 0 ? ".lora_a" : ".lora_b"), e});
      }
    }
  for (const auto& e : file.header().entries) {
    if (expected.count(e.name)) continue;
    std::string hint = "it is not part of a LoRA adapter on " + std::string(kConfigFile) + "'s target_modules";
    if (e.name.find(".default.") != std::string::npos)
      hint = "its name carries the adapter name 'default', which PEFT leaves out of saved files";
    else if (e.name.rfind("base_model.model.", 0) != 0)
      hint = "PEFT names adapter tensors base_model.model.<module>.lora_A.weight";
    throw InputError(wpath + ": tensor '" + e.name + "' is not expected (" + hint + "); the adapter belongs to "
                     "another model or carries options leadbench does not support");
  }

  if (have.rank == 0) {
    LoraConfig add = lora;
    add.train_base = false;
    model->add_adapters(add, /*init_seed=*/0);
  }
  auto params = model->named_parameters(/*recurse=*/true);
  torch::NoGradGuard no_grad;
  for (const auto& c : copies) {
    torch::Tensor* dst = params.find(c.dst);
    if (!dst) throw std::logic_error("load_peft_adapter: no parameter " + c.dst);
    dst->copy_(file.view(*c.entry));
    file.release(*c.entry);
    result.parameters += dst->numel();
    ++result.tensors;
  }
  return result;
}

void save_peft_adapter(DecoderModel& model, const std::string& folder, const PeftExportOptions& opt) {
  const LoraConfig& lora = model->lora_config();
  if (lora.rank <= 0)
    throw std::invalid_argument("save_peft_adapter: the model carries no LoRA adapters (lora.rank is 0); "
                                "export its weights as a checkpoint instead");
  if (lora.train_base)
    throw std::invalid_argument("save_peft_adapter: lora.train_base is true, so the base weights were trained too and "
                                "an adapter file cannot hold them; export merged weights (save_merged_hf_checkpoint)");
  safetensors::TensorFile tf;
  tf.metadata["format"] = "pt";  // what PEFT writes (transformers checks it on model files)
  std::vector<std::string> modules;
  for (const auto& tname : lora.targets) {
    const Target* t = find_target(tname);
    if (!t) throw std::invalid_argument("save_peft_adapter: unknown LoRA target '" + tname + "'");
    modules.push_back(t->peft);
  }
  for (int i = 0; i < model->config().n_layers; ++i)
    for (const auto& t : kTargets) {
      if (std::find(lora.targets.begin(), lora.targets.end(), std::string(t.lb)) == lora.targets.end()) continue;
      const std::string mod = lb_module(i, t);
      const auto names = peft_tensor_names(i, t.lb);
      tf.add(names.first, param(model, mod + ".lora_a").detach().to(torch::kCPU, torch::kFloat32).contiguous());
      tf.add(names.second, param(model, mod + ".lora_b").detach().to(torch::kCPU, torch::kFloat32).contiguous());
    }
  std::sort(modules.begin(), modules.end());
  nlohmann::json cfg = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"base_model_name_or_path", opt.base_model_name_or_path.empty() ? nlohmann::json(nullptr)
                                                                      : nlohmann::json(opt.base_model_name_or_path)},
      {"revision", nullptr},
      {"inference_mode", true},
      {"r", lora.rank},
      {"lora_dropout", lora.dropout},
      {"target_modules", modules},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"use_rslora", false},
      {"use_dora", false},
      {"lora_bias", false},
      {"init_lora_weights", true},
      {"modules_to_save", nullptr},
      {"layers_to_transform", nullptr},
      {"layers_pattern", nullptr},
      {"rank_pattern", nlohmann::json::object()},
      {"alpha_pattern", nlohmann::json::object()},
  };
  if (lora.alpha == std::floor(lora.alpha) && std::fabs(lora.alpha) < 1e15)
    cfg["lora_alpha"] = static_cast<int64_t>(lora.alpha);  // PEFT declares it an int
  else
    cfg["lora_alpha"] = lora.alpha;
  StagedFolder out(folder);
  safetensors::save_file(out.file(kWeightsFile), tf);
  write_json_atomic(out.file(kConfigFile), cfg);
  out.commit();
}

void save_merged_hf_checkpoint(DecoderModel& model, const std::string& base_folder, const std::string& out_folder,
                               const MergedExportOptions& opt) {
  HfCheckpointInfo info;
  const ModelConfig base_cfg = read_hf_config(base_folder, &info);
  const std::string config_path = (fs::path(base_folder) / "config.json").string();
  {
    nlohmann::json a = config_to_json(base_cfg), b = config_to_json(model->config());
    for (const char* ignored : {"init_std", "max_seq_len"}) {
      a.erase(ignored);
      b.erase(ignored);
    }
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key()) || b[it.key()] != it.value())
        throw InputError(config_path + ": describes a model with " + it.key() + " = " + it.value().dump() +
                         ", the model being exported has " + (b.contains(it.key()) ? b[it.key()].dump() : "none") +
                         "; pass the checkpoint folder the model was loaded from");
  }
  const torch::ScalarType dtype = opt.dtype ? *opt.dtype : info.stored_dtype;
  const std::string dtype_str = dtype_name(dtype);
  if (opt.max_shard_bytes <= 0) throw std::invalid_argument("merged export: max_shard_bytes must be > 0");
  const LoraConfig& lora = model->lora_config();
  const double scale = lora.rank > 0 ? lora.alpha / lora.rank : 0.0;

  // The tensors to write, in the model's order, grouped into shards by size.
  struct Item {
    std::string lb, hf;
    int64_t bytes;
  };
  std::vector<std::vector<Item>> shards(1);
  int64_t shard_bytes = 0, total_bytes = 0;
  auto params = model->named_parameters(/*recurse=*/true);
  for (const auto& p : params) {
    const std::string& n = p.key();
    if (n.size() > 7 && (n.compare(n.size() - 7, 7, ".lora_a") == 0 || n.compare(n.size() - 7, 7, ".lora_b") == 0))
      continue;
    const std::string hf = hf_tensor_name(n);
    if (hf.empty())
      throw std::invalid_argument("merged export: parameter " + n + " has no Hugging Face counterpart");
    const int64_t bytes = p.value().numel() * static_cast<int64_t>(c10::elementSize(dtype));
    if (!shards.back().empty() && shard_bytes + bytes > opt.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back({n, hf, bytes});
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  const size_t n_shards = shards.size();
  auto shard_name = [&](size_t k) {
    if (n_shards == 1) return std::string("model.safetensors");
    char buf[64];
    std::snprintf(buf, sizeof(buf), "model-%05zu-of-%05zu.safetensors", k + 1, n_shards);
    return std::string(buf);
  };

  StagedFolder out(out_folder);
  nlohmann::json weight_map = nlohmann::json::object();
  {
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < n_shards; ++k) {
      safetensors::TensorFile tf;
      tf.metadata["format"] = "pt";
      for (const auto& item : shards[k]) {
        torch::Tensor w = params[item.lb].detach();
        const std::string stem = item.lb.substr(0, item.lb.size() - std::string(".weight").size());
        const torch::Tensor* a = item.lb.size() > 7 && item.lb.compare(item.lb.size() - 7, 7, ".weight") == 0
                                     ? params.find(stem + ".lora_a")
                                     : nullptr;
        if (a) {
          const torch::Tensor& b = params[stem + ".lora_b"];
          w = w.to(torch::kFloat32) + torch::matmul(b.detach().to(torch::kFloat32), a->detach().to(torch::kFloat32)) * scale;
        }
        tf.add(item.hf, w.to(torch::kCPU, dtype).contiguous());
        weight_map[item.hf] = shard_name(k);
      }
      safetensors::save_file(out.file(shard_name(k)), tf);
    }
  }
  if (n_shards > 1)
    write_json_atomic(out.file("model.safetensors.index.json"),
                      {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}});
  // config.json as the checkpoint has it; only the dtype field changes when the weights' dtype does.
  if (dtype == info.stored_dtype) {
    fs::copy_file(config_path, out.file("config.json"));
  } else {
    nlohmann::json cfg = read_json_file(config_path);
    bool set = false;
    for (const char* f : {"dtype", "torch_dtype"})
      if (cfg.contains(f)) {
        cfg[f] = dtype_str;
        set = true;
      }
    if (!set) cfg["torch_dtype"] = dtype_str;
    write_json_atomic(out.file("config.json"), cfg);
  }
  for (const char* f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja",
                        "chat_template.json"}) {
    const fs::path src = fs::path(base_folder) / f;
    if (fs::exists(src)) fs::copy_file(src, out.file(f));
  }
  out.commit();
}

}  // namespace lb
