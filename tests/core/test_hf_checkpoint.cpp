// Hugging Face checkpoints: the committed tiny checkpoints of tests/core/golden/hf (made by
// tests/fixtures/make_hf_checkpoints.py with transformers) load with logits within 1e-4 of
// transformers' float32 ones and the same greedy tokens; config.json fields map onto ModelConfig;
// broken folders (missing shard, bad index, truncated file, wrong shape, missing or extra tensor,
// unsupported architecture or value) are errors naming the file and the tensor or field.
#include "core/generate.h"
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/safetensors.h"
#include "experiments/base_model.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace lb;

namespace {

const fs::path kGolden = fs::path(LEADBENCH_SOURCE_DIR) / "tests" / "core" / "golden" / "hf";
const char* kCases[] = {"llama_tied_llama3", "llama_untied_sharded", "mistral_window", "qwen2_bias_window",
                        "qwen3_qknorm"};

std::vector<int32_t> ids_of(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kLong).contiguous();
  return std::vector<int32_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// A scratch copy of one fixture folder, removed at the end.
struct ScratchCopy {
  fs::path dir;
  explicit ScratchCopy(const std::string& name) {
    dir = fs::temp_directory_path() / ("lb_hf_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::copy(kGolden / name, dir, fs::copy_options::recursive);
  }
  ~ScratchCopy() { fs::remove_all(dir); }
  std::string str() const { return dir.string(); }
};

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& fn) {
  nlohmann::json j = read_json_file((dir / "config.json").string());
  fn(j);
  write_text(dir / "config.json", j.dump(2));
}

int64_t resident_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

}  // namespace

TEST_CASE("Hugging Face checkpoints match transformers' float32 logits and greedy tokens", "[hf_checkpoint]") {
  for (const char* name : kCases) {
    INFO(name);
    const std::string folder = (kGolden / name).string();
    auto loaded = load_hf_checkpoint(folder);
    auto ref = safetensors::load_file((kGolden / name / "reference.safetensors").string());
    const torch::Tensor tokens = *ref.find("tokens");
    const torch::Tensor expected = *ref.find("logits");
    for (const auto& p : loaded.model->parameters()) REQUIRE(p.scalar_type() == torch::kFloat32);  // CPU compute dtype
    torch::Tensor logits;
    {
      torch::NoGradGuard ng;
      logits = loaded.model->forward(tokens);
    }
    REQUIRE(logits.sizes() == expected.sizes());
    const double diff = (logits - expected).abs().max().item<double>();
    INFO("max |logit difference| " << diff << " (logits span " << expected.abs().max().item<double>() << ")");
    CHECK(diff <= 1e-4);
    // Greedy continuations of two prompts of different lengths in one left-padded batch.
    const std::vector<std::vector<int32_t>> prompts = {ids_of(*ref.find("prompt0")), ids_of(*ref.find("prompt1"))};
    auto got = greedy_token_ids(loaded.model, prompts, 5, {}, torch::kCPU);
    CHECK(got[0] == ids_of(*ref.find("greedy0")));
    CHECK(got[1] == ids_of(*ref.find("greedy1")));
    CHECK(ref.metadata.count("transformers"));
  }
}

TEST_CASE("config.json fields that change the math reach the model config", "[hf_checkpoint]") {
  HfCheckpointInfo info;
  ModelConfig c = read_hf_config((kGolden / "llama_tied_llama3").string(), &info);
  CHECK(info.architecture == "LlamaForCausalLM");
  CHECK(info.stored_dtype == torch::kBFloat16);
  CHECK(info.bos_token_ids == std::vector<int64_t>{1});
  CHECK(info.eos_token_ids == std::vector<int64_t>{2});
  CHECK(info.pad_token_id == -1);
  CHECK(c.vocab_size == 96);
  CHECK(c.d_model == 32);
  CHECK(c.d_ff == 48);
  CHECK(c.n_layers == 2);
  CHECK(c.n_heads == 4);
  CHECK(c.n_kv_heads == 2);
  CHECK(c.head_dim == 0);  // equals hidden/heads: the hash-neutral default
  CHECK(c.max_seq_len == 64);
  CHECK(c.norm_eps == Approx(1e-5));
  CHECK(c.tie_embeddings);
  CHECK(c.rope_scaling == "llama3");
  CHECK(c.rope_factor == 8.0);
  CHECK(c.rope_low_freq_factor == 1.0);
  CHECK(c.rope_high_freq_factor == 4.0);
  CHECK(c.rope_original_max_pos == 16);
  CHECK_FALSE(c.qkv_bias);
  CHECK(c.sliding_window == 0);

  c = read_hf_config((kGolden / "llama_untied_sharded").string(), &info);
  CHECK(c.head_dim == 16);
  CHECK(c.qkv_bias);
  CHECK(c.o_bias);
  CHECK_FALSE(c.tie_embeddings);
  CHECK(c.rope_scaling == "linear");
  CHECK(c.rope_factor == 2.0);
  CHECK(c.rope_theta == 500000.0);
  CHECK(info.pad_token_id == 0);

  c = read_hf_config((kGolden / "mistral_window").string());
  CHECK(c.sliding_window == 5);
  CHECK(c.sliding_window_from_layer == 0);
  c = read_hf_config((kGolden / "qwen2_bias_window").string());
  CHECK(c.qkv_bias);
  CHECK_FALSE(c.o_bias);
  CHECK(c.sliding_window == 4);
  CHECK(c.sliding_window_from_layer == 1);
  c = read_hf_config((kGolden / "qwen3_qknorm").string());
  CHECK(c.qk_norm);
  CHECK(c.head_dim == 16);
}

TEST_CASE("Qwen2's sliding window applies only with use_sliding_window, from max_window_layers on", "[hf_checkpoint]") {
  ScratchCopy dir("qwen2_bias_window");
  edit_config(dir.dir, [](nlohmann::json& j) {
    j.erase("layer_types");
    j["use_sliding_window"] = false;
  });
  CHECK(read_hf_config(dir.str()).sliding_window == 0);
  edit_config(dir.dir, [](nlohmann::json& j) {
    j["use_sliding_window"] = true;
    j["max_window_layers"] = 0;
  });
  auto c = read_hf_config(dir.str());
  CHECK(c.sliding_window == 4);
  CHECK(c.sliding_window_from_layer == 0);
}

TEST_CASE("unsupported architectures and values are errors naming config.json and the field", "[hf_checkpoint]") {
  ScratchCopy dir("llama_tied_llama3");
  const std::string cfg = (dir.dir / "config.json").string();
  const std::string original = read_text(dir.dir / "config.json");
  auto expect = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& field, const std::string& also) {
    write_text(dir.dir / "config.json", original);
    edit_config(dir.dir, edit);
    const std::string e = error_of([&] { read_hf_config(dir.str()); });
    INFO(e);
    CHECK(e.find(cfg) != std::string::npos);
    CHECK(e.find("'" + field + "'") != std::string::npos);
    CHECK(e.find(also) != std::string::npos);
  };
  expect([](nlohmann::json& j) { j["architectures"] = {"GPT2LMHeadModel"}; }, "architectures", "Qwen2ForCausalLM");
  expect([](nlohmann::json& j) { j["hidden_act"] = "gelu"; }, "hidden_act", "silu");
  expect([](nlohmann::json& j) { j["rope_parameters"]["rope_type"] = "yarn"; }, "rope_type", "llama3");
  expect([](nlohmann::json& j) { j["rope_parameters"].erase("low_freq_factor"); }, "low_freq_factor", "llama3");
  expect([](nlohmann::json& j) { j["dtype"] = "float8_e4m3fn"; }, "dtype", "bfloat16");
  expect([](nlohmann::json& j) { j.erase("hidden_size"); }, "hidden_size", "missing");
  expect([](nlohmann::json& j) { j["num_key_value_heads"] = 3; }, "num_key_value_heads", "divide");
  expect([](nlohmann::json& j) { j["mlp_bias"] = true; }, "mlp_bias", "without biases");
  expect([](nlohmann::json& j) { j["sliding_window"] = 4; }, "sliding_window", "no sliding-window");
  // Older files: rope_scaling beside a top-level rope_theta, and torch_dtype.
  write_text(dir.dir / "config.json", original);
  edit_config(dir.dir, [](nlohmann::json& j) {
    j["rope_scaling"] = {{"type", "linear"}, {"factor", 3.0}};
    j["rope_theta"] = 1234.0;
    j.erase("rope_parameters");
    j.erase("dtype");
    j["torch_dtype"] = "float16";
  });
  HfCheckpointInfo info;
  auto c = read_hf_config(dir.str(), &info);
  CHECK(c.rope_scaling == "linear");
  CHECK(c.rope_factor == 3.0);
  CHECK(c.rope_theta == 1234.0);
  CHECK(info.stored_dtype == torch::kHalf);
}

TEST_CASE("broken checkpoint folders are errors naming the file and the tensor", "[hf_checkpoint]") {
  SECTION("a shard listed in the index is missing") {
    ScratchCopy dir("llama_untied_sharded");
    fs::remove(dir.dir / "model-00002-of-00002.safetensors");
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("model-00002-of-00002.safetensors") != std::string::npos);
    CHECK(e.find("missing") != std::string::npos);
  }
  SECTION("the index is not valid JSON") {
    ScratchCopy dir("llama_untied_sharded");
    write_text(dir.dir / "model.safetensors.index.json", "{\"weight_map\": {");
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("model.safetensors.index.json") != std::string::npos);
  }
  SECTION("the index has no weight_map") {
    ScratchCopy dir("llama_untied_sharded");
    write_text(dir.dir / "model.safetensors.index.json", "{\"metadata\": {}}");
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("weight_map") != std::string::npos);
  }
  SECTION("the index puts a tensor in the wrong shard") {
    ScratchCopy dir("llama_untied_sharded");
    nlohmann::json idx = read_json_file((dir.dir / "model.safetensors.index.json").string());
    std::string moved;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it)
      if (it.value() == "model-00001-of-00002.safetensors") {
        moved = it.key();
        it.value() = "model-00002-of-00002.safetensors";
        break;
      }
    write_text(dir.dir / "model.safetensors.index.json", idx.dump());
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("'" + moved + "'") != std::string::npos);
  }
  SECTION("a truncated safetensors file") {
    ScratchCopy dir("mistral_window");
    const std::string bytes = read_text(dir.dir / "model.safetensors");
    write_text(dir.dir / "model.safetensors", bytes.substr(0, bytes.size() - 100));
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find((dir.dir / "model.safetensors").string()) != std::string::npos);
    CHECK(e.find("tensor '") != std::string::npos);
  }
  SECTION("a garbage header") {
    ScratchCopy dir("mistral_window");
    write_text(dir.dir / "model.safetensors", std::string(8, '\xff') + "garbage");
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find((dir.dir / "model.safetensors").string()) != std::string::npos);
  }
  auto rewrite = [](const fs::path& file, const std::function<void(safetensors::TensorFile&)>& fn) {
    auto f = safetensors::load_file(file.string());
    fn(f);
    safetensors::save_file(file.string(), f);
  };
  SECTION("a tensor of the wrong shape") {
    ScratchCopy dir("qwen3_qknorm");
    rewrite(dir.dir / "model.safetensors", [](safetensors::TensorFile& f) {
      for (auto& [n, t] : f.tensors)
        if (n == "model.layers.1.self_attn.k_proj.weight") t = t.narrow(0, 0, t.size(0) - 1).contiguous();
    });
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("model.safetensors") != std::string::npos);
    CHECK(e.find("'model.layers.1.self_attn.k_proj.weight'") != std::string::npos);
    CHECK(e.find("shape") != std::string::npos);
  }
  SECTION("a missing tensor") {
    ScratchCopy dir("qwen3_qknorm");
    rewrite(dir.dir / "model.safetensors", [](safetensors::TensorFile& f) {
      std::vector<std::pair<std::string, torch::Tensor>> kept;
      for (auto& p : f.tensors)
        if (p.first != "model.layers.0.self_attn.q_norm.weight") kept.push_back(p);
      f.tensors = kept;
    });
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("'model.layers.0.self_attn.q_norm.weight'") != std::string::npos);
    CHECK(e.find("missing") != std::string::npos);
  }
  SECTION("an extra tensor") {
    ScratchCopy dir("mistral_window");
    rewrite(dir.dir / "model.safetensors",
            [](safetensors::TensorFile& f) { f.add("model.layers.0.self_attn.q_proj.bias", torch::zeros({32})); });
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("model.safetensors") != std::string::npos);
    CHECK(e.find("'model.layers.0.self_attn.q_proj.bias'") != std::string::npos);
  }
  SECTION("a tensor of integers") {
    ScratchCopy dir("mistral_window");
    rewrite(dir.dir / "model.safetensors", [](safetensors::TensorFile& f) {
      for (auto& [n, t] : f.tensors)
        if (n == "model.norm.weight") t = t.to(torch::kInt32);
    });
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("'model.norm.weight'") != std::string::npos);
  }
  SECTION("no weights at all") {
    ScratchCopy dir("mistral_window");
    fs::remove(dir.dir / "model.safetensors");
    const std::string e = error_of([&] { load_hf_checkpoint(dir.str()); });
    INFO(e);
    CHECK(e.find("model.safetensors") != std::string::npos);
  }
}

TEST_CASE("a sliding window of one position makes each token's logits independent of the others", "[hf_checkpoint]") {
  ModelConfig c;
  c.vocab_size = 40;
  c.d_model = 16;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.d_ff = 24;
  c.n_layers = 2;
  c.max_seq_len = 16;
  c.init_std = 0.3;
  c.sliding_window = 1;
  DecoderModel m(c, LoraConfig{}, 7);
  m->eval();
  torch::NoGradGuard ng;
  torch::Tensor tokens = torch::tensor({{5, 9, 3, 3, 11, 7}}, torch::kLong);
  torch::Tensor all = m->forward(tokens);
  for (int64_t t = 0; t < tokens.size(1); ++t) {
    torch::Tensor alone = m->forward(tokens.narrow(1, t, 1));
    CHECK((all.select(1, t) - alone.select(1, 0)).abs().max().item<double>() < 1e-5);
  }
  // The window starts at sliding_window_from_layer: with the window from layer 2 (none) it is off.
  c.sliding_window_from_layer = 2;
  DecoderModel full(c, LoraConfig{}, 7);
  full->eval();
  CHECK((full->forward(tokens) - all).abs().max().item<double>() > 1e-3);
}

TEST_CASE("the causal mask is sized to the sequence, not to max_seq_len", "[hf_checkpoint]") {
  ModelConfig c;
  c.vocab_size = 40;
  c.d_model = 16;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.d_ff = 24;
  c.n_layers = 1;
  c.max_seq_len = 16384;  // a mask of max_seq_len^2 bools would be 256 MiB
  DecoderModel m(c, LoraConfig{}, 7);
  torch::NoGradGuard ng;
  const int64_t before = resident_bytes();
  m->forward(torch::ones({1, 8}, torch::kLong));
  const int64_t grown = resident_bytes() - before;
  INFO("resident memory grew by " << grown << " bytes");
  CHECK(grown < (64 << 20));
}

TEST_CASE("a memory-mapped safetensors file gives the same tensors as reading it", "[hf_checkpoint]") {
  const std::string path = (kGolden / "mistral_window" / "model.safetensors").string();
  auto read = safetensors::load_file(path);
  safetensors::MappedFile mapped(path);
  REQUIRE(mapped.header().entries.size() == read.tensors.size());
  for (const auto& e : mapped.header().entries) {
    const torch::Tensor* t = read.find(e.name);
    REQUIRE(t);
    CHECK(torch::equal(mapped.view(e), *t));
    mapped.release(e);
    CHECK(torch::equal(mapped.view(e), *t));  // released pages read back from the file
  }
  CHECK_THROWS_AS(safetensors::MappedFile((kGolden / "no_such.safetensors").string()), InputError);
}

TEST_CASE("the memory estimate counts the model's own parameters", "[hf_checkpoint]") {
  ModelConfig c = read_hf_config((kGolden / "qwen2_bias_window").string());
  LoraConfig lora;
  lora.rank = 4;
  DecoderModel m(c, lora, 1);
  const int64_t base = m->parameter_count(false) - m->parameter_count(true);
  const int64_t adapters = m->parameter_count(true);
  auto est = estimate_memory(c, lora, 2, 12, 2, /*training=*/true);
  CHECK(est.weights == 2 * base);
  CHECK(est.adapters == 4 * adapters);
  CHECK(est.optimizer == 8 * adapters);
  CHECK(est.gradients == 4 * adapters);
  CHECK(est.activations > 0);
  c = read_hf_config((kGolden / "llama_untied_sharded").string());
  DecoderModel full(c, LoraConfig{}, 1);
  auto e2 = estimate_memory(c, LoraConfig{}, 1, 8, 4, /*training=*/false);
  CHECK(e2.weights == 4 * full->parameter_count(false));
  CHECK(e2.optimizer == 0);
  CHECK(format_memory_estimate(est).find("AdamW state") != std::string::npos);
}

TEST_CASE("checkpoint architecture fields keep hashes unchanged at their defaults", "[hf_checkpoint]") {
  ModelConfig c;
  PretrainConfig p;
  const std::string base = pretrain_hash(c, p, "corpus");
  ModelConfig same = c;
  same.rope_factor = 3.0;  // no rope scaling: its factor cannot matter
  same.sliding_window_from_layer = 1;  // no window
  CHECK(pretrain_hash(same, p, "corpus") == base);
  for (int field = 0; field < 6; ++field) {
    ModelConfig other = c;
    if (field == 0) other.head_dim = 16;
    if (field == 1) other.qkv_bias = true;
    if (field == 2) other.o_bias = true;
    if (field == 3) other.qk_norm = true;
    if (field == 4) other.sliding_window = 8;
    if (field == 5) other.rope_scaling = "linear";
    CHECK(pretrain_hash(other, p, "corpus") != base);
  }
}
