// Tests of the safetensors reader/writer: round trips of every dtype, a hand-built file from the
// format description, and rejection (never a crash) of every kind of malformed file.
#include "core/json_io.h"
#include "core/safetensors.h"
#include "tiny_world.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace lb;
using namespace lb::testing;

namespace {

std::string u64le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

std::string file_of(const std::string& header, const std::string& data) { return u64le(header.size()) + header + data; }

std::string floats(std::vector<float> v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

void expect_bad(const std::string& bytes, const std::string& fragment) {
  try {
    safetensors::parse(bytes, "test.safetensors");
    FAIL("accepted a bad file; expected: " << fragment);
  } catch (const InputError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("test.safetensors") != std::string::npos);
    CHECK(msg.find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype with metadata", "[safetensors]") {
  safetensors::TensorFile f;
  f.add("f32", torch::randn({3, 4}));
  f.add("f64", torch::randn({2}, torch::kFloat64));
  f.add("bf16", torch::randn({5}).to(torch::kBFloat16));
  f.add("f16", torch::randn({2, 2}).to(torch::kFloat16));
  f.add("i64", torch::tensor(std::vector<int64_t>{-1, 2, int64_t(1) << 40}, torch::kInt64));
  f.add("i32", torch::tensor({7, -8}, torch::kInt32));
  f.add("u8", torch::tensor({0, 255, 3}, torch::kUInt8));
  f.add("bool", torch::tensor({true, false}));
  f.add("scalar", torch::tensor(3.5f));
  f.add("empty", torch::zeros({0, 3}));
  f.add("strided", torch::arange(12, torch::kFloat32).view({3, 4}).t());  // non-contiguous input
  f.metadata["config"] = R"({"a": 1})";
  f.metadata["note"] = "ünïcode";
  const std::string bytes = safetensors::serialize(f);
  // Layout: 8-byte little-endian header length, header padded so the data starts 8-aligned.
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  CHECK((8 + n) % 8 == 0);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  CHECK(header["f32"]["dtype"] == "F32");
  CHECK(header["bf16"]["dtype"] == "BF16");
  CHECK(header["f32"]["shape"] == nlohmann::json({3, 4}));
  CHECK(header["__metadata__"]["note"] == "ünïcode");

  auto g = safetensors::parse(bytes, "mem");
  REQUIRE(g.tensors.size() == f.tensors.size());
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    INFO(f.tensors[i].first);
    CHECK(g.tensors[i].first == f.tensors[i].first);
    CHECK(g.tensors[i].second.scalar_type() == f.tensors[i].second.scalar_type());
    CHECK(torch::equal(g.tensors[i].second, f.tensors[i].second));
  }
  CHECK(g.metadata == f.metadata);
  CHECK(g.find("scalar")->dim() == 0);
  CHECK(g.find("nope") == nullptr);

  TempDir dir("st");
  safetensors::save_file(dir.file("a/b.safetensors"), f);
  auto h = safetensors::load_file(dir.file("a/b.safetensors"));
  CHECK(torch::equal(h.find("i64")->clone(), f.find("i64")->clone()));

  safetensors::TensorFile dup;
  dup.add("x", torch::ones({1}));
  dup.add("x", torch::ones({1}));
  CHECK_THROWS_AS(safetensors::serialize(dup), std::invalid_argument);
}

TEST_CASE("safetensors reads a file built by hand from the format description", "[safetensors]") {
  // Two tensors, written in reverse data order, header without padding, metadata present.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},)"
      R"("a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}})";
  std::string data = floats({1.5f, -2.0f});
  int32_t ints[2] = {42, -7};
  data.append(reinterpret_cast<const char*>(ints), 8);
  auto f = safetensors::parse(file_of(header, data), "hand");
  REQUIRE(f.find("a"));
  CHECK(f.find("a")->sizes() == torch::IntArrayRef({1, 2}));
  CHECK(f.find("a")->view({-1})[1].item<float>() == -2.0f);
  CHECK(f.find("b")->scalar_type() == torch::kInt32);
  CHECK(f.find("b")->view({-1})[0].item<int32_t>() == 42);
  CHECK(f.metadata.at("format") == "pt");
}

TEST_CASE("malformed safetensors files are rejected with the problem named", "[safetensors]") {
  const std::string ok_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string ok_data = floats({1, 2});
  REQUIRE_NOTHROW(safetensors::parse(file_of(ok_header, ok_data), "test.safetensors"));

  expect_bad("", "fewer than the 8-byte");
  expect_bad("abc", "fewer than the 8-byte");
  expect_bad(u64le(1000) + "{}", "runs past the end");
  expect_bad(u64le(1ull << 62) + "{}", "exceeds");
  expect_bad(file_of("{not json", ""), "not valid JSON");
  expect_bad(file_of("[1,2]", ""), "not a JSON object");
  expect_bad(file_of(ok_header, ok_data.substr(0, 4)), "outside");  // truncated data
  expect_bad(file_of(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", ok_data), "unsupported dtype");
  expect_bad(file_of(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", ok_data), "dtype");
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", ok_data), "shape");
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", ok_data), "needs 12");
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", ok_data), "outside");
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", ok_data), "data_offsets");
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[4000000000,4000000000,4000000000],"data_offsets":[0,8]}})", ok_data),
             "absurd shape");
  expect_bad(file_of(ok_header, ok_data + "xx"), "after the last tensor");
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     ok_data),
             "overlaps");
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", ok_data), "hole");
  expect_bad(file_of(R"({"__metadata__":{"x":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", ok_data),
             "__metadata__");
  expect_bad(file_of(R"({"a":5})", ok_data), "a");
  // A tensor without a name matches no parameter, and the writer refuses it (found by fuzz_safetensors).
  expect_bad(file_of(R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", ok_data), "empty name");
  // A name given twice: the JSON parser would keep one tensor and drop the other silently.
  expect_bad(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     ok_data),
             "names 'a' twice");
  expect_bad(file_of(R"({"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", ok_data),
             "names 'k' twice");

  TempDir dir("st_bad");
  CHECK_THROWS_AS(safetensors::load_file(dir.file("missing.safetensors")), InputError);
}

TEST_CASE("module weights save and load by name; mismatches are errors", "[safetensors]") {
  TempDir dir("st_mod");
  torch::nn::Linear a(4, 3), b(4, 3), wide(5, 3);
  safetensors::save_module(dir.file("lin.safetensors"), *a, {{"what", "linear"}});
  auto meta = safetensors::load_module(dir.file("lin.safetensors"), *b);
  CHECK(meta.at("what") == "linear");
  CHECK(torch::equal(a->weight, b->weight));
  CHECK(torch::equal(a->bias, b->bias));
  try {
    safetensors::load_module(dir.file("lin.safetensors"), *wide);
    FAIL("loaded a wrongly-shaped module");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("shape") != std::string::npos);
  }
  torch::nn::Linear no_bias(torch::nn::LinearOptions(4, 3).bias(false));
  CHECK_THROWS_AS(safetensors::load_module(dir.file("lin.safetensors"), *no_bias), InputError);  // extra "bias"
}

TEST_CASE("files this writer makes carry a checksum that the reader verifies", "[safetensors]") {
  safetensors::TensorFile f;
  f.add("w", torch::randn({64, 8}));
  f.add("b", torch::randn({8}).to(torch::kBFloat16));
  f.add("n", torch::tensor(std::vector<int64_t>{3, 4}, torch::kInt64));
  f.metadata["config"] = R"({"lr": 0.001})";
  const std::string bytes = safetensors::serialize(f);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  REQUIRE(header["__metadata__"].contains(safetensors::kChecksumKey));
  CHECK(header["__metadata__"][safetensors::kChecksumKey].get<std::string>().size() == 8);
  auto g = safetensors::parse(bytes, "test.safetensors");
  CHECK(g.checksum_verified);
  CHECK(g.metadata == f.metadata);  // the checksum entry is the reader's, not the caller's
  // The same contents give the same file.
  CHECK(safetensors::serialize(g) == bytes);

  // One flipped bit anywhere in the tensor data, in the first and the last byte included.
  const size_t data_begin = 8 + n;
  for (size_t pos : {data_begin, data_begin + 1000, data_begin + 2049, bytes.size() - 1}) {
    for (int bit : {0, 7}) {
      INFO("byte " << pos << " bit " << bit);
      std::string flipped = bytes;
      flipped[pos] = static_cast<char>(flipped[pos] ^ (1 << bit));
      expect_bad(flipped, "checksum mismatch");
    }
  }
  // A flipped bit in a metadata value (the header still parses).
  std::string meta_flip = bytes;
  const size_t at = meta_flip.find("0.001");
  REQUIRE(at != std::string::npos);
  meta_flip[at + 4] = '3';
  expect_bad(meta_flip, "checksum mismatch");
}

TEST_CASE("NaN or infinite floats are rejected, with or without a checksum", "[safetensors]") {
  for (float bad_value : {std::nanf(""), INFINITY, -INFINITY}) {
    INFO(bad_value);
    safetensors::TensorFile f;
    torch::Tensor w = torch::randn({4, 4});
    w[1][2] = bad_value;
    f.add("ok", torch::ones({3}));
    f.add("w", w);
    expect_bad(safetensors::serialize(f), "tensor 'w' holds 1 NaN or infinite value of 16");
    expect_bad(safetensors::serialize(f), "re-create it");
  }
  // Every float dtype is checked.
  for (auto type : {torch::kFloat64, torch::kFloat16, torch::kBFloat16}) {
    safetensors::TensorFile f;
    f.add("h", torch::full({5}, std::nan(""), torch::TensorOptions().dtype(type)));
    expect_bad(safetensors::serialize(f), "tensor 'h' holds 5 NaN or infinite values");
  }
  // A file from another writer (no checksum) still loads when its floats are finite, and is
  // rejected when they are not.
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  auto g = safetensors::parse(file_of(header, floats({1.0f, 2.0f})), "test.safetensors");
  CHECK_FALSE(g.checksum_verified);
  CHECK(g.find("a")->sum().item<float>() == 3.0f);
  expect_bad(file_of(header, floats({1.0f, std::nanf("")})), "tensor 'a' holds 1 NaN");
}
