// Golden test: the C++ decoder's logits against an independent float64 PyTorch (Python) implementation
// of the same architecture (tests/core/golden/make_golden.py), compared per tensor with stated tolerances.
#include "core/model.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

using namespace lb;

namespace {

// Reads the golden file (safetensors layout: u64 little-endian header length, JSON header, raw
// little-endian data; dtypes F32 and I64). Any inconsistency fails the test with a message.
struct GoldenFile {
  std::map<std::string, torch::Tensor> tensors;
  nlohmann::json metadata;
};

GoldenFile read_golden(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (regenerate with tests/core/golden/make_golden.py)");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) throw std::runtime_error(path + ": shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  if (8 + n > bytes.size()) throw std::runtime_error(path + ": header length exceeds the file");
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  const size_t base = 8 + n;
  GoldenFile g;
  for (auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      g.metadata = info;
      continue;
    }
    std::vector<int64_t> shape = info.at("shape").get<std::vector<int64_t>>();
    auto off = info.at("data_offsets").get<std::vector<size_t>>();
    const std::string dtype = info.at("dtype");
    auto st = dtype == "F32" ? torch::kFloat32 : dtype == "I64" ? torch::kLong : throw std::runtime_error(name + ": dtype " + dtype);
    torch::Tensor t = torch::empty(shape, st);
    if (off.size() != 2 || base + off[1] > bytes.size() || off[1] - off[0] != static_cast<size_t>(t.nbytes()))
      throw std::runtime_error(path + ": tensor " + name + " has bad data_offsets");
    std::memcpy(t.data_ptr(), bytes.data() + base + off[0], t.nbytes());  // little-endian host assumed (x86, arm64)
    g.tensors[name] = t;
  }
  return g;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST_CASE("model golden: logits match an independent PyTorch implementation", "[model][golden]") {
  const std::string path = std::string(LEADBENCH_SOURCE_DIR) + "/tests/core/golden/model_golden.safetensors";
  GoldenFile g = read_golden(path);
  auto mj = nlohmann::json::parse(g.metadata.at("model").get<std::string>());
  auto lj = nlohmann::json::parse(g.metadata.at("lora").get<std::string>());
  ModelConfig c;
  c.vocab_size = mj.at("vocab_size");
  c.d_model = mj.at("d_model");
  c.n_layers = mj.at("n_layers");
  c.n_heads = mj.at("n_heads");
  c.n_kv_heads = mj.at("n_kv_heads");
  c.d_ff = mj.at("d_ff");
  c.max_seq_len = mj.at("max_seq_len");
  c.rope_theta = mj.at("rope_theta");
  c.norm_eps = mj.at("norm_eps");
  LoraConfig l;
  l.rank = lj.at("rank");
  l.alpha = lj.at("alpha");
  l.targets = lj.at("targets").get<std::vector<std::string>>();
  REQUIRE(c.n_kv_heads < c.n_heads);  // the file exercises grouped-query attention

  // Tolerances: the reference is float64, the C++ model float32; logits are O(5) in magnitude.
  const double kLogitTol = 1e-4, kHiddenTol = 5e-5;
  const torch::Tensor tokens = g.tensors.at("tokens");
  for (bool tie : {false, true}) {
    c.tie_embeddings = tie;
    DecoderModel m(c, l, 1);
    m->eval();
    int loaded = 0;
    {
      torch::NoGradGuard ng;
      for (auto& item : m->named_parameters()) {
        INFO("parameter " << item.key());
        REQUIRE(g.tensors.count(item.key()));
        REQUIRE(g.tensors.at(item.key()).sizes() == item.value().sizes());
        item.value().copy_(g.tensors.at(item.key()));
        ++loaded;
      }
    }
    CHECK(loaded == (tie ? 2 : 3) + c.n_layers * (2 + 7 * 3));  // embed, norm, [head], per block: 2 norms, 7 x (W, A, B)
    torch::NoGradGuard ng;
    const torch::Tensor logits = m->forward(tokens);
    const torch::Tensor& expected = g.tensors.at(tie ? "expected.logits_tied" : "expected.logits_untied");
    const double diff = max_abs_diff(logits, expected);
    std::cout << "golden " << (tie ? "tied  " : "untied") << " logits: max |C++ - PyTorch| = " << diff
              << " (tolerance " << kLogitTol << ", max |logit| " << expected.abs().max().item<double>() << ")\n";
    CHECK(diff < kLogitTol);
    if (!tie) {
      const double hdiff = max_abs_diff(m->hidden_states(tokens), g.tensors.at("expected.hidden"));
      std::cout << "golden hidden states: max |C++ - PyTorch| = " << hdiff << " (tolerance " << kHiddenTol << ")\n";
      CHECK(hdiff < kHiddenTol);
    }
  }
}
