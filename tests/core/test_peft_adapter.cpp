// PEFT LoRA adapters against PEFT itself: the committed adapters of tests/core/golden/peft (made by
// tests/fixtures/make_peft_fixtures.py with peft, on the tiny checkpoints of tests/core/golden/hf)
// import with PEFT's logits within 1e-4; leadbench's export is the file PEFT was shown to load with
// the same logits; export -> import round-trips exactly; the merged export loads with
// load_hf_checkpoint and gives the adapter's logits; bad folders are errors naming file and field
// or tensor, and leave the model untouched.
//
// The hidden case "[peft_fixture]" writes leadbench_export for the fixture script
// (LEADBENCH_PEFT_FIXTURE_OUT=folder build/tests/test_core "[peft_fixture]").
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/peft_adapter.h"
#include "core/safetensors.h"
#include "core/seeds.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace lb;

namespace {

const fs::path kHf = fs::path(LEADBENCH_SOURCE_DIR) / "tests" / "core" / "golden" / "hf";
const fs::path kPeft = fs::path(LEADBENCH_SOURCE_DIR) / "tests" / "core" / "golden" / "peft";

struct PeftCase {
  const char* name;
  const char* base;
  int r;
  double alpha;
  std::vector<std::string> targets;
};
const PeftCase kCases[] = {
    {"llama_all", "llama_tied_llama3", 4, 8, {"q", "k", "v", "o", "gate", "up", "down"}},
    {"qwen2_attn", "qwen2_bias_window", 2, 5, {"q", "k", "v", "o"}},
    {"mistral_regex", "mistral_window", 3, 6, {"q", "v", "down"}},
};

// A scratch folder per test case, removed at the end.
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name) {
    dir = fs::temp_directory_path() / ("lb_peft_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() { fs::remove_all(dir); }
  fs::path operator/(const std::string& s) const { return dir / s; }
};

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

float max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<float>();
}

torch::Tensor logits_of(DecoderModel& m, const torch::Tensor& tokens) {
  torch::NoGradGuard ng;
  m->eval();
  return m->forward(tokens.to(torch::kLong));
}

// The model leadbench_export was made from: llama_untied_sharded with adapters on q, v, o, up and
// down (r 4, alpha 16, dropout 0.1), A from leadbench's seeded init, B drawn from a seeded
// splitmix64 stream (uniform in [-0.1, 0.1)), so that the same adapter comes out on every host.
DecoderModel leadbench_adapter_model() {
  DecoderModel m = load_hf_checkpoint((kHf / "llama_untied_sharded").string()).model;
  LoraConfig lora;
  lora.rank = 4;
  lora.alpha = 16;
  lora.dropout = 0.1;
  lora.targets = {"q", "v", "o", "up", "down"};
  m->add_adapters(lora, /*init_seed=*/7);
  torch::NoGradGuard ng;
  for (auto& p : m->named_parameters(true)) {
    const std::string& n = p.key();
    if (n.size() < 7 || n.compare(n.size() - 7, 7, ".lora_b") != 0) continue;
    Rng rng = Rng::derive(20261203, n);
    torch::Tensor b = torch::empty(p.value().sizes(), torch::kFloat32);
    float* d = b.data_ptr<float>();
    for (int64_t i = 0; i < b.numel(); ++i) d[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * 0.1);
    p.value().copy_(b);
  }
  m->eval();
  return m;
}

nlohmann::json edit_json(const fs::path& p, const std::function<void(nlohmann::json&)>& fn) {
  nlohmann::json j = read_json_file(p.string());
  fn(j);
  write_json_atomic(p.string(), j);
  return j;
}

// A scratch copy of llama_all to break, and its base model.
struct BrokenCopy {
  Scratch s{"broken"};
  fs::path adapter = s / "adapter";
  BrokenCopy() { fs::copy(kPeft / "llama_all", adapter); }
  fs::path config() const { return adapter / "adapter_config.json"; }
  fs::path weights() const { return adapter / "adapter_model.safetensors"; }
  void edit_weights(const std::function<void(safetensors::TensorFile&)>& fn) const {
    safetensors::TensorFile f = safetensors::load_file(weights().string());
    fn(f);
    safetensors::save_file(weights().string(), f);
  }
};

DecoderModel llama_base() { return load_hf_checkpoint((kHf / "llama_tied_llama3").string()).model; }

}  // namespace

TEST_CASE("peft adapter: adapters made by PEFT import with PEFT's logits", "[peft]") {
  for (const auto& c : kCases) {
    INFO(c.name);
    const auto ref = safetensors::load_file((kPeft / c.name / "reference.safetensors").string());
    const torch::Tensor tokens = *ref.find("tokens");
    DecoderModel m = load_hf_checkpoint((kHf / c.base).string()).model;
    const torch::Tensor base = logits_of(m, tokens);
    CHECK(max_diff(base, *ref.find("base_logits")) <= 1e-4);
    const PeftLoadResult r = load_peft_adapter(m, (kPeft / c.name).string());
    CHECK(r.config.lora.rank == c.r);
    CHECK(r.config.lora.alpha == c.alpha);
    CHECK(r.config.lora.targets == c.targets);
    CHECK(r.tensors == static_cast<int64_t>(2 * c.targets.size() * m->config().n_layers));
    CHECK(m->lora_config().rank == c.r);
    const torch::Tensor got = logits_of(m, tokens);
    const float d = max_diff(got, *ref.find("logits"));
    std::printf("peft %s: max |leadbench - PEFT logit| %.2e (the adapter moves logits by up to %.2f)\n", c.name, d,
                max_diff(*ref.find("logits"), *ref.find("base_logits")));
    CHECK(d <= 1e-4);
    CHECK(max_diff(got, base) > 0.05);  // the adapter matters: a test that cannot fail would pass without it
  }
}

TEST_CASE("peft adapter: leadbench's export is what PEFT loaded, with the same logits", "[peft]") {
  const fs::path golden = kPeft / "leadbench_export";
  DecoderModel m = leadbench_adapter_model();
  Scratch s("export");
  const fs::path out = s / "adapter";
  save_peft_adapter(m, out.string(), {"llama_untied_sharded"});

  // The export today equals the committed files PEFT loaded (tensors and config).
  const auto now = safetensors::load_file((out / "adapter_model.safetensors").string());
  const auto then = safetensors::load_file((golden / "adapter_model.safetensors").string());
  REQUIRE(now.tensors.size() == then.tensors.size());
  REQUIRE(now.tensors.size() == 2 * 5 * 2);
  for (const auto& [name, t] : then.tensors) {
    INFO(name);
    const torch::Tensor* n = now.find(name);
    REQUIRE(n);
    CHECK(n->scalar_type() == torch::kFloat32);
    CHECK(n->sizes() == t.sizes());
    CHECK(max_diff(*n, t) <= 1e-7);
  }
  CHECK(now.metadata.at("format") == "pt");
  CHECK(read_json_file((out / "adapter_config.json").string()) ==
        read_json_file((golden / "adapter_config.json").string()));
  const nlohmann::json cfg = read_json_file((out / "adapter_config.json").string());
  CHECK(cfg["peft_type"] == "LORA");
  CHECK(cfg["task_type"] == "CAUSAL_LM");
  CHECK(cfg["r"] == 4);
  CHECK(cfg["lora_alpha"] == 16);
  CHECK(cfg["lora_dropout"] == 0.1);
  CHECK(cfg["target_modules"] == nlohmann::json({"down_proj", "o_proj", "q_proj", "up_proj", "v_proj"}));

  // PEFT's logits with that file (PeftModel.from_pretrained, recorded by the fixture script).
  const auto ref = safetensors::load_file((golden / "reference.safetensors").string());
  const torch::Tensor tokens = *ref.find("tokens");
  const float d = max_diff(logits_of(m, tokens), *ref.find("logits"));
  std::printf("peft leadbench_export: max |leadbench - PEFT logit| %.2e\n", d);
  CHECK(d <= 1e-4);
  CHECK(max_diff(*ref.find("logits"), *ref.find("base_logits")) > 0.05);
  // And leadbench reads the committed file back onto a fresh base with the same logits.
  DecoderModel fresh = load_hf_checkpoint((kHf / "llama_untied_sharded").string()).model;
  load_peft_adapter(fresh, golden.string());
  CHECK(max_diff(logits_of(fresh, tokens), *ref.find("logits")) <= 1e-4);
}

TEST_CASE("peft adapter: export then import gives the same adapter and logits", "[peft]") {
  DecoderModel m = leadbench_adapter_model();
  Scratch s("roundtrip");
  save_peft_adapter(m, (s / "a").string());
  DecoderModel back = load_hf_checkpoint((kHf / "llama_untied_sharded").string()).model;
  const PeftLoadResult r = load_peft_adapter(back, (s / "a").string());
  CHECK(r.config.lora.rank == 4);
  CHECK(r.config.lora.alpha == 16);
  CHECK(r.config.lora.dropout == 0.1);
  CHECK(r.config.lora.targets == std::vector<std::string>{"q", "v", "o", "up", "down"});
  CHECK(r.config.base_model_name_or_path.empty());
  auto want = m->named_parameters(true);
  auto got = back->named_parameters(true);
  REQUIRE(want.size() == got.size());
  int64_t lora_tensors = 0;
  for (const auto& p : want) {
    INFO(p.key());
    const torch::Tensor* g = got.find(p.key());
    REQUIRE(g);
    CHECK(torch::equal(*g, p.value()));  // the same float32 values copied through the file
    CHECK(g->requires_grad() == p.value().requires_grad());  // adapters trainable, base frozen
    lora_tensors += p.key().find(".lora_") != std::string::npos;
  }
  CHECK(lora_tensors == 20);
  CHECK(r.parameters == back->parameter_count(true));
  const torch::Tensor tokens = torch::randint(3, 96, {2, 10}, torch::kLong);
  CHECK(max_diff(logits_of(back, tokens), logits_of(m, tokens)) <= 1e-6);
  // The folder holds the two files and nothing else; no temporary sibling is left behind.
  std::vector<std::string> files, siblings;
  for (const auto& e : fs::directory_iterator(s / "a")) files.push_back(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(s.dir)) siblings.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"adapter_config.json", "adapter_model.safetensors"});
  CHECK(siblings == std::vector<std::string>{"a"});

  // Loading onto a model that already carries the same adapters replaces their values.
  DecoderModel again = leadbench_adapter_model();
  torch::NoGradGuard ng;
  for (auto& p : again->named_parameters(true))
    if (p.key().find(".lora_b") != std::string::npos) p.value().zero_();
  load_peft_adapter(again, (s / "a").string());
  CHECK(max_diff(logits_of(again, tokens), logits_of(m, tokens)) <= 1e-6);
}

TEST_CASE("peft adapter: merged export loads with load_hf_checkpoint and gives the adapter's logits", "[peft]") {
  Scratch s("merged");
  for (const char* name : {"llama_all", "qwen2_attn"}) {
    INFO(name);
    const PeftCase& c = std::string(name) == "llama_all" ? kCases[0] : kCases[1];
    const auto ref = safetensors::load_file((kPeft / name / "reference.safetensors").string());
    const torch::Tensor tokens = *ref.find("tokens");
    DecoderModel m = load_hf_checkpoint((kHf / c.base).string()).model;
    load_peft_adapter(m, (kPeft / name).string());
    const torch::Tensor adapted = logits_of(m, tokens);

    MergedExportOptions f32;
    f32.dtype = torch::kFloat32;
    const fs::path one = s / (std::string(name) + "_f32");
    save_merged_hf_checkpoint(m, (kHf / c.base).string(), one.string(), f32);
    CHECK(fs::exists(one / "model.safetensors"));
    CHECK(!fs::exists(one / "model.safetensors.index.json"));
    CHECK(read_json_file((one / "config.json").string())["dtype"] == "float32");
    LoadedHfModel merged = load_hf_checkpoint(one.string());  // no adapters: the deltas are in the weights
    CHECK(merged.model->lora_config().rank == 0);
    CHECK(merged.info.stored_dtype == torch::kFloat32);
    const torch::Tensor got = logits_of(merged.model, tokens);
    std::printf("peft %s merged: max |merged - adapter logit| %.2e, vs PEFT %.2e\n", name, max_diff(got, adapted),
                max_diff(got, *ref.find("logits")));
    CHECK(max_diff(got, adapted) <= 1e-4);
    CHECK(max_diff(got, *ref.find("logits")) <= 1e-4);

    // Sharded: tiny shards give an index that the loader follows to the same weights.
    MergedExportOptions sharded = f32;
    sharded.max_shard_bytes = 16 * 1024;
    const fs::path many = s / (std::string(name) + "_shards");
    save_merged_hf_checkpoint(m, (kHf / c.base).string(), many.string(), sharded);
    REQUIRE(fs::exists(many / "model.safetensors.index.json"));
    const nlohmann::json index = read_json_file((many / "model.safetensors.index.json").string());
    std::set<std::string> shard_files;
    for (const auto& [k, v] : index["weight_map"].items()) shard_files.insert(v.get<std::string>());
    CHECK(shard_files.size() > 1);
    CHECK(index["weight_map"].contains("model.layers.0.self_attn.q_proj.weight"));
    CHECK(!index["weight_map"].contains("lm_head.weight"));  // both bases have tied heads
    DecoderModel from_shards = load_hf_checkpoint(many.string()).model;
    CHECK(max_diff(logits_of(from_shards, tokens), got) <= 1e-6);

    // Default dtype: the checkpoint's own (bfloat16), config.json copied byte for byte; each merged
    // weight is the float32 merge rounded once.
    const fs::path bf = s / (std::string(name) + "_bf16");
    save_merged_hf_checkpoint(m, (kHf / c.base).string(), bf.string());
    std::ifstream a((kHf / c.base / "config.json").string()), b((bf / "config.json").string());
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    CHECK(sa.str() == sb.str());
    const auto bf_file = safetensors::load_file((bf / "model.safetensors").string());
    const auto f32_file = safetensors::load_file((one / "model.safetensors").string());
    const torch::Tensor* q_bf = bf_file.find("model.layers.1.self_attn.q_proj.weight");
    REQUIRE(q_bf);
    CHECK(q_bf->scalar_type() == torch::kBFloat16);
    CHECK(torch::equal(*q_bf, f32_file.find("model.layers.1.self_attn.q_proj.weight")->to(torch::kBFloat16)));
    if (std::string(name) == "qwen2_attn") {  // biases pass through unchanged
      const torch::Tensor* bias = f32_file.find("model.layers.0.self_attn.q_proj.bias");
      REQUIRE(bias);
      CHECK(torch::equal(*bias, m->named_parameters(true)["blocks.0.attn.q.bias"]));
    }
  }
  // An existing folder is never overwritten; a base that is not the model's is refused.
  DecoderModel m = llama_base();
  CHECK_THAT(error_of([&] { save_merged_hf_checkpoint(m, (kHf / "llama_tied_llama3").string(), (s / "llama_all_f32").string()); }),
             Catch::Contains("already exists"));
  CHECK_THAT(error_of([&] { save_merged_hf_checkpoint(m, (kHf / "qwen3_qknorm").string(), (s / "other").string()); }),
             Catch::Contains("config.json") && Catch::Contains("pass the checkpoint folder the model was loaded from"));
  CHECK(!fs::exists(s / "other"));
}

TEST_CASE("peft adapter: unsupported options are errors naming adapter_config.json and the field", "[peft]") {
  struct Bad {
    const char* field;
    nlohmann::json value;
    const char* says;
  };
  const std::vector<Bad> bads = {
      {"peft_type", "PREFIX_TUNING", "only LORA"},
      {"task_type", "SEQ_CLS", "only CAUSAL_LM"},
      {"use_rslora", true, "sqrt(r)"},
      {"use_dora", true, "plain LoRA only"},
      {"rank_pattern", {{"q_proj", 8}}, "plain LoRA only"},
      {"alpha_pattern", {{"q_proj", 8}}, "plain LoRA only"},
      {"layers_to_transform", nlohmann::json::array({0}), "plain LoRA only"},
      {"modules_to_save", nlohmann::json::array({"lm_head"}), "plain LoRA only"},
      {"fan_in_fan_out", true, "plain LoRA only"},
      {"bias", "all", "only \"none\""},
      {"init_lora_weights", "pissa", "rewrites the base weights"},
      {"r", 0, "positive rank"},
      {"r", 2.5, "must be an integer"},
      {"lora_alpha", "8", "finite number"},
      {"lora_dropout", 1.0, "[0, 1)"},
      {"target_modules", nlohmann::json::array({"lm_head"}), "selects module 'lm_head'"},
      {"target_modules", nlohmann::json::array({"q_proj", "embed_tokens"}), "selects module 'model.embed_tokens'"},
      {"target_modules", nlohmann::json::array({"self_attn"}), "selects module 'model.layers.0.self_attn'"},
      {"target_modules", nlohmann::json::array({"c_attn"}), "matches no module"},
      {"target_modules", "model\\.layers\\.0\\..*_proj", "in 1 of the 2 layers"},
      {"target_modules", "(?P<x>q_proj)", "cannot read"},
      {"target_modules", nullptr, "is missing"},
      {"target_modules", 3, "must be a list"},
  };
  for (const auto& b : bads) {
    BrokenCopy c;
    edit_json(c.config(), [&](nlohmann::json& j) { j[b.field] = b.value; });
    DecoderModel m = llama_base();
    const std::string e = error_of([&] { load_peft_adapter(m, c.adapter.string()); });
    INFO(b.field << " = " << b.value.dump() << ": " << e);
    CHECK_THAT(e, Catch::Contains("adapter_config.json: field '" + std::string(b.field) + "'"));
    CHECK_THAT(e, Catch::Contains(b.says));
    CHECK(m->lora_config().rank == 0);  // the model is untouched
    CHECK(m->parameter_count(true) == m->parameter_count(false));
  }
  {  // A field PEFT may add in the future, set: refused; at its neutral value: accepted.
    BrokenCopy c;
    edit_json(c.config(), [](nlohmann::json& j) { j["some_new_option"] = nullptr; });
    DecoderModel m = llama_base();
    CHECK_NOTHROW(load_peft_adapter(m, c.adapter.string()));
    edit_json(c.config(), [](nlohmann::json& j) { j["some_new_option"] = {{"on", true}}; });
    DecoderModel m2 = llama_base();
    CHECK_THAT(error_of([&] { load_peft_adapter(m2, c.adapter.string()); }),
               Catch::Contains("field 'some_new_option'"));
  }
  {  // all-linear and a full-name regex select every projection, as PEFT does.
    BrokenCopy c;
    for (const nlohmann::json tm : {nlohmann::json("all-linear"), nlohmann::json(".*\\.(q|k|v|o|gate|up|down)_proj")}) {
      edit_json(c.config(), [&](nlohmann::json& j) { j["target_modules"] = tm; });
      CHECK(read_peft_config(c.adapter.string(), 2).lora.targets ==
            std::vector<std::string>{"q", "k", "v", "o", "gate", "up", "down"});
    }
  }
}

TEST_CASE("peft adapter: missing, extra and mis-shaped tensors are errors naming file and tensor", "[peft]") {
  const std::string q_a = "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight";
  const std::string v_b = "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight";
  auto load_error = [](const BrokenCopy& c) {
    DecoderModel m = llama_base();
    const std::string e = error_of([&] { load_peft_adapter(m, c.adapter.string()); });
    CHECK(m->lora_config().rank == 0);
    return e;
  };
  {  // wrong r: the config says 8, the tensors have rank 4
    BrokenCopy c;
    edit_json(c.config(), [](nlohmann::json& j) { j["r"] = 8; });
    const std::string e = load_error(c);
    CHECK_THAT(e, Catch::Contains("adapter_model.safetensors: tensor '") && Catch::Contains("has shape [4, ") &&
                      Catch::Contains("r = 8"));
  }
  {  // missing tensor
    BrokenCopy c;
    c.edit_weights([&](safetensors::TensorFile& f) {
      f.tensors.erase(std::remove_if(f.tensors.begin(), f.tensors.end(), [&](const auto& t) { return t.first == q_a; }),
                      f.tensors.end());
    });
    CHECK_THAT(load_error(c), Catch::Contains("adapter_model.safetensors: tensor '" + q_a + "' is missing"));
  }
  {  // wrong shape (another base: v_proj out 32 instead of 16)
    BrokenCopy c;
    c.edit_weights([&](safetensors::TensorFile& f) {
      for (auto& t : f.tensors)
        if (t.first == v_b) t.second = torch::zeros({32, 4});
    });
    CHECK_THAT(load_error(c), Catch::Contains("tensor '" + v_b + "' has shape [32, 4]") && Catch::Contains("needs [16, 4]"));
  }
  {  // extra tensors: an embedding adapter, a tensor saved with the adapter name
    for (const std::string extra : {"base_model.model.model.embed_tokens.lora_embedding_A",
                                    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight"}) {
      BrokenCopy c;
      c.edit_weights([&](safetensors::TensorFile& f) { f.add(extra, torch::zeros({4, 32})); });
      const std::string e = load_error(c);
      CHECK_THAT(e, Catch::Contains("tensor '" + extra + "' is not expected"));
      if (extra.find(".default.") != std::string::npos) CHECK_THAT(e, Catch::Contains("adapter name 'default'"));
    }
  }
  {  // integer dtype
    BrokenCopy c;
    c.edit_weights([&](safetensors::TensorFile& f) {
      for (auto& t : f.tensors)
        if (t.first == q_a) t.second = torch::zeros({4, 32}, torch::kInt32);
    });
    CHECK_THAT(load_error(c), Catch::Contains("tensor '" + q_a + "' has dtype Int"));
  }
  {  // a truncated file
    BrokenCopy c;
    const auto size = fs::file_size(c.weights());
    fs::resize_file(c.weights(), size - 100);
    CHECK_THAT(load_error(c), Catch::Contains("adapter_model.safetensors"));
  }
  {  // missing files
    BrokenCopy c;
    fs::remove(c.weights());
    CHECK_THAT(load_error(c), Catch::Contains("adapter_model.safetensors: not found"));
    std::ofstream(c.adapter / "adapter_model.bin") << "pickle";
    CHECK_THAT(load_error(c), Catch::Contains("only adapter_model.bin"));
    fs::remove(c.config());
    CHECK_THAT(load_error(c), Catch::Contains("adapter_config.json: not found"));
  }
  {  // an adapter of another base model (llama_all onto qwen3, whose q_proj is 64 wide)
    DecoderModel m = load_hf_checkpoint((kHf / "qwen3_qknorm").string()).model;
    CHECK_THAT(error_of([&] { load_peft_adapter(m, (kPeft / "llama_all").string()); }),
               Catch::Contains("has shape") && Catch::Contains("another base model"));
  }
  {  // a model that already carries other adapters
    DecoderModel m = leadbench_adapter_model();
    CHECK_THAT(error_of([&] { load_peft_adapter(m, (kPeft / "llama_all").string()); }),
               Catch::Contains("differ from the adapters the model already carries"));
  }
  {  // exports that cannot be made
    Scratch s("noexport");
    DecoderModel plain = llama_base();
    CHECK_THROWS_WITH(save_peft_adapter(plain, (s / "a").string()), Catch::Contains("no LoRA adapters"));
    DecoderModel m = leadbench_adapter_model();
    fs::create_directories(s / "exists");
    CHECK_THAT(error_of([&] { save_peft_adapter(m, (s / "exists").string()); }), Catch::Contains("already exists"));
    CHECK(fs::is_empty(s / "exists"));
  }
}

// Writes leadbench_export for tests/fixtures/make_peft_fixtures.py (hidden: not part of a test run).
TEST_CASE("peft fixture: write leadbench's exported adapter", "[.][peft_fixture]") {
  const char* out = std::getenv("LEADBENCH_PEFT_FIXTURE_OUT");
  REQUIRE(out);
  DecoderModel m = leadbench_adapter_model();
  save_peft_adapter(m, out, {"llama_untied_sharded"});
  std::printf("wrote %s\n", out);
}
