// Checkpoint, tokenizer, fingerprints and memory estimate of runs on pretrained models; see real_run.h.
#include "experiments/real_run.h"

#include "core/checkpoint.h"
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/sha256.h"

#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace lb {

namespace {
bool is_gguf(const std::string& path) { return path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0; }
}  // namespace

RunCheckpoint load_run_checkpoint(const std::string& path, torch::Device device) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw InputError(path + ": checkpoint not found (model.checkpoint / --model): give a Hugging Face model folder "
                            "(config.json, model.safetensors or shards with model.safetensors.index.json, tokenizer.json)");
  if (!is_gguf(path) && (!fs::is_directory(path, ec) || !fs::exists(fs::path(path) / "config.json", ec)))
    throw InputError(path + ": not a Hugging Face model folder (no config.json) nor a .gguf file; give the folder "
                            "holding config.json, the safetensors weights and tokenizer.json, or a llama.cpp .gguf file");
  // The one dispatch point (core/checkpoint.h): a folder is read as Hugging Face safetensors, a .gguf
  // file by the GGUF reader (its tokenizer comes from the same file).
  LoadedHfModel hf = load_checkpoint(path, device);
  RunCheckpoint out;
  out.model = hf.model;
  out.model->eval();
  out.compute_dtype = hf_compute_dtype(hf.info.stored_dtype, device);
  out.info = checkpoint_fingerprint(path);
  out.info["format"] = is_gguf(path) ? "gguf" : "huggingface";
  out.info["architecture"] = hf.info.architecture;
  out.info["model_type"] = hf.info.model_type;
  out.info["stored_dtype"] = std::string(c10::toString(hf.info.stored_dtype));
  out.info["compute_dtype"] = std::string(c10::toString(out.compute_dtype));
  out.info["parameters"] = out.model->parameter_count(false);
  out.info["model"] = config_to_json(out.model->config());
  return out;
}

nlohmann::json checkpoint_fingerprint(const std::string& path) {
  nlohmann::json j = {{"path", path}};
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    j["sha256"] = sha256_file(path);
    return j;
  }
  const fs::path dir(path);
  j["config_sha256"] = sha256_file((dir / "config.json").string());
  // The first shard: model.safetensors, or the first by name of the shards the index lists.
  std::string first;
  size_t shards = 0;
  if (fs::exists(dir / "model.safetensors.index.json", ec)) {
    const nlohmann::json index = read_json_file((dir / "model.safetensors.index.json").string());
    std::set<std::string> names;
    if (index.is_object() && index.contains("weight_map") && index["weight_map"].is_object())
      for (const auto& v : index["weight_map"])
        if (v.is_string()) names.insert(v.get<std::string>());
    if (!names.empty()) first = *names.begin();
    shards = names.size();
  } else if (fs::exists(dir / "model.safetensors", ec)) {
    first = "model.safetensors";
    shards = 1;
  }
  if (!first.empty()) {
    j["first_shard"] = first;
    j["first_shard_sha256"] = sha256_file((dir / first).string());
    j["shards"] = shards;
  }
  return j;
}

HfChatTokenizer load_run_tokenizer(const std::string& checkpoint, const std::string& chat_template) {
  std::error_code ec;
  if (fs::is_directory(checkpoint, ec) && !fs::exists(fs::path(checkpoint) / "tokenizer.json", ec))
    throw InputError(checkpoint + ": the checkpoint has no tokenizer.json; a run and an evaluation encode text with the "
                                  "model's own tokenizer: copy the model's tokenizer.json and tokenizer_config.json "
                                  "into this folder");
  if (!fs::exists(checkpoint, ec))
    throw InputError(checkpoint + ": checkpoint not found (model.checkpoint / --model): give a Hugging Face model folder");
  return HfChatTokenizer::load(checkpoint, chat_template);
}

void check_tokenizer_fits(const HfChatTokenizer& tok, const ModelConfig& model, const std::string& checkpoint) {
  if (tok.vocab_size() > model.vocab_size)
    throw InputError(tok.file() + ": the tokenizer has " + std::to_string(tok.vocab_size()) + " ids but " + checkpoint +
                     "'s vocab_size (config.json) is " + std::to_string(model.vocab_size) +
                     "; the tokenizer is not this model's");
}

void check_proxy_tokenizer(const HfChatTokenizer& tok, const std::string& proxy_checkpoint, const ModelConfig& proxy) {
  std::error_code ec;
  const fs::path own = fs::path(proxy_checkpoint) / "tokenizer.json";
  if (fs::is_directory(proxy_checkpoint, ec) && fs::exists(own, ec) && sha256_file(own.string()) != sha256_file(tok.file()))
    throw InputError(own.string() + ": Superfiltering's proxy (baselines.proxy_checkpoint) has another tokenizer than the "
                                    "model (" + tok.file() + "); the pool is tokenised once, so the proxy must read the "
                                    "same ids: choose a smaller model of the same family");
  if (tok.vocab_size() > proxy.vocab_size)
    throw InputError(proxy_checkpoint + ": Superfiltering's proxy has vocab_size " + std::to_string(proxy.vocab_size) +
                     " (config.json), fewer than the " + std::to_string(tok.vocab_size()) + " ids of the model's tokenizer");
}

std::vector<Suite> load_run_suites(const std::vector<std::string>& names, const std::string& data, const EvalConfig& cfg,
                                   std::shared_ptr<Sandbox>* sandbox, bool unsafe_no_sandbox) {
  std::vector<Suite> out;
  for (const auto& name : names) {
    if (name == "humaneval" && !*sandbox) {
      *sandbox = std::make_shared<Sandbox>(cfg.sandbox, unsafe_no_sandbox);
      (*sandbox)->require_available();
    }
    out.push_back(load_real_suite(name, data, cfg, name == "humaneval" ? *sandbox : nullptr));
  }
  return out;
}

std::string memory_estimate_text(const ModelConfig& model, const LoraConfig& lora, int64_t batch, int64_t seq_len,
                                 torch::ScalarType compute_dtype, bool training, nlohmann::json* as_json) {
  const int bytes = static_cast<int>(c10::elementSize(compute_dtype));
  const MemoryEstimate m = estimate_memory(model, lora, batch, seq_len, bytes, training);
  if (as_json)
    *as_json = {{"weights", m.weights},     {"adapters", m.adapters},   {"gradients", m.gradients},
                {"optimizer", m.optimizer}, {"activations", m.activations}, {"total", m.total()},
                {"batch", batch},           {"seq_len", seq_len},       {"weight_bytes", bytes},
                {"training", training}};
  return format_memory_estimate(m);
}

}  // namespace lb
