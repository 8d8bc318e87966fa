// The base-model cache (experiments/base_model.h): a cached checkpoint with a flipped bit or full of
// NaN is pre-trained again, never evaluated; a cached file from before checksums still loads.
#include "core/json_io.h"
#include "core/safetensors.h"
#include "experiments/base_model.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

namespace {

lb::ModelConfig tiny_model() {
  lb::ModelConfig c;
  c.d_model = 16;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.d_ff = 32;
  c.max_seq_len = 32;
  return c;
}

lb::BaseCorpus tiny_corpus() {
  lb::BaseCorpus c;
  for (int i = 0; i < 24; ++i)
    c.documents.push_back("document " + std::to_string(i) + ": the cat sat on mat number " + std::to_string(i * 7));
  c.fingerprint = "test-corpus-1";
  return c;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

uint64_t header_length(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  return n;
}

bool all_finite(lb::DecoderModel& m) {
  for (const auto& p : m->parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

}  // namespace

TEST_CASE("base model cache: a corrupt or NaN checkpoint is pre-trained again, an old one without checksum loads") {
  const fs::path dir = lbtest::fresh_dir("base_cache");
  const std::string cache = (dir / "cache").string();
  lb::PretrainConfig pre;
  pre.epochs = 1;
  pre.train.batch_size = 8;
  const lb::ModelConfig mc = tiny_model();
  const lb::BaseCorpus corpus = tiny_corpus();
  auto ensure = [&] { return lb::ensure_pretrained("base model", mc, pre, corpus, cache, torch::kCPU); };

  lb::PretrainedModel first = ensure();
  REQUIRE_FALSE(first.from_cache);
  REQUIRE(lb::file_exists(first.path));
  CHECK(lb::safetensors::load_file(first.path).checksum_verified);
  CHECK(ensure().from_cache);
  const std::string good = read_bytes(first.path);

  SECTION("one flipped bit in the weights") {
    std::string flipped = good;
    const size_t data = 8 + header_length(good);
    flipped[data + (good.size() - data) / 3] ^= 0x01;
    write_bytes(first.path, flipped);
    lb::PretrainedModel again = ensure();
    CHECK_FALSE(again.from_cache);
    CHECK(all_finite(again.model));
    CHECK(lb::safetensors::load_file(first.path).checksum_verified);  // the cache holds a good file again
    CHECK(ensure().from_cache);
  }
  SECTION("weights full of NaN with a valid checksum") {
    auto file = lb::safetensors::load_file(first.path);
    for (auto& [name, t] : file.tensors)
      if (name.rfind("model/", 0) == 0) t.fill_(std::nan(""));
    lb::safetensors::save_file(first.path, file);
    lb::PretrainedModel again = ensure();
    CHECK_FALSE(again.from_cache);
    CHECK(all_finite(again.model));
    CHECK(ensure().from_cache);
  }
  SECTION("a file written before checksums (no content_crc32 entry) loads from the cache") {
    nlohmann::json header = nlohmann::json::parse(good.substr(8, header_length(good)));
    REQUIRE(header["__metadata__"].contains(lb::safetensors::kChecksumKey));
    header["__metadata__"].erase(lb::safetensors::kChecksumKey);
    std::string head = header.dump();
    while ((8 + head.size()) % 8 != 0) head.push_back(' ');
    std::string old;
    for (int i = 0; i < 8; ++i) old.push_back(static_cast<char>((head.size() >> (8 * i)) & 0xff));
    old += head + good.substr(8 + header_length(good));
    write_bytes(first.path, old);
    CHECK_FALSE(lb::safetensors::load_file(first.path).checksum_verified);
    lb::PretrainedModel again = ensure();
    CHECK(again.from_cache);
    CHECK(all_finite(again.model));
  }
  fs::remove_all(dir);
}
