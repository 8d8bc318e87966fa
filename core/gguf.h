// GGUF (llama.cpp's single-file checkpoint format, versions 2 and 3, little-endian): a memory-mapped
// reader of the header, every metadata value type (arrays included), the tensor infos and the
// aligned data section; dequantisation of F32, F16, BF16, Q8_0, Q4_0 and Q4_1 tensors to float32.
// It needs no LibTorch (the tokenizer path and the fuzz targets use it); torch tensors of a file's
// weights come from gguf_dequantize in core/gguf_checkpoint.h.
//
// Layout (ggml's docs/gguf.md): "GGUF", uint32 version, uint64 tensor count, uint64 metadata count,
// the metadata (string key, uint32 type, value), the tensor infos (string name, uint32 n_dims,
// uint64 dims[n_dims] fastest first, uint32 ggml type, uint64 offset into the data section), padding
// to general.alignment (default 32), then the data. Strings are uint64 length + UTF-8 bytes.
//
// Every malformed file (bad magic or version, truncated header, a length or count past the end of
// the file, a tensor whose data lies outside the file or is misaligned, an unknown ggml type, a
// duplicate key or tensor name) is an InputError naming the file, the key or tensor, and what is
// supported, raised when the file is opened, before any tensor is read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lb::gguf {

// Metadata value types (the numbering of the format).
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12
};
const char* value_type_name(ValueType t);

// One metadata value. Integers of every width land in `i` (signed types, and unsigned ones up to
// INT64_MAX) or `u` (unsigned); floats in `f`; bools in `b`; strings in `s`; arrays in `items`, each
// item a Value of type `array_type`.
struct Value {
  ValueType type = ValueType::UINT8;
  ValueType array_type = ValueType::UINT8;  // ARRAY only
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<Value> items;
  bool is_integer() const;  // any of the eight integer types
};

// ggml tensor types known to the format (ggml.h's enum ggml_type); dequantize() supports F32, F16,
// BF16, Q8_0, Q4_0 and Q4_1.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9, Q2_K = 10, Q3_K = 11,
  Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19,
  IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28,
  IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39
};
// Name ("Q4_1"), or nullptr for a number the format does not define.
const char* ggml_type_name(uint32_t type);
bool ggml_type_supported(GgmlType t);  // dequantize() reads it
const char* supported_types();         // "F32, F16, BF16, Q8_0, Q4_0, Q4_1"

// Block layouts of the supported quantised types (ggml-common.h), 32 weights a block:
//   Q8_0: fp16 scale d, int8 q[32]                  x = d * q
//   Q4_0: fp16 d, uint8 qs[16]                      x[j] = d * ((qs[j] & 15) - 8), x[j+16] = d * ((qs[j] >> 4) - 8)
//   Q4_1: fp16 d, fp16 min m, uint8 qs[16]          x[j] = d * (qs[j] & 15) + m,   x[j+16] = d * (qs[j] >> 4) + m
inline constexpr int kQuantBlock = 32;

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // as stored: dims[0] is the contiguous (fastest) one
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;        // from the start of the data section
  uint64_t bytes = 0;         // size of its data
  // The PyTorch shape: dims reversed ([rows, columns] for a matrix).
  std::vector<int64_t> shape() const { return std::vector<int64_t>(dims.rbegin(), dims.rend()); }
  int64_t numel() const;
};

// A GGUF file, memory-mapped read-only; tensors are decoded from the mapping on request.
class File {
 public:
  explicit File(const std::string& path);  // InputError: missing, unreadable or malformed file
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // from the file start, a multiple of alignment()
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::vector<std::string>& keys() const { return key_order_; }  // metadata keys in file order

  const Value* find(const std::string& key) const;         // nullptr when absent
  const TensorInfo* find_tensor(const std::string& name) const;

  // Typed metadata with InputErrors naming the file and the key (wrong type, negative, absent
  // without a default).
  int64_t get_int(const std::string& key, std::optional<int64_t> def = std::nullopt) const;
  double get_float(const std::string& key, std::optional<double> def = std::nullopt) const;
  std::string get_string(const std::string& key, std::optional<std::string> def = std::nullopt) const;
  bool get_bool(const std::string& key, std::optional<bool> def = std::nullopt) const;
  std::vector<std::string> get_string_array(const std::string& key) const;  // absent: InputError
  std::vector<int64_t> get_int_array(const std::string& key) const;        // absent: InputError

  // Elements [begin, end) of the tensor (in storage order; for quantised types multiples of 32)
  // decoded to float32 into dst[0, end - begin). An unsupported type is an InputError naming the
  // file, the tensor, its type and the supported ones.
  void dequantize_into(const TensorInfo& t, int64_t begin, int64_t end, float* dst) const;
  // The whole tensor, numel() floats in storage order.
  std::vector<float> dequantize(const TensorInfo& t) const;
  // The raw bytes of a tensor's data (valid while this object lives).
  const uint8_t* data(const TensorInfo& t) const;
  // Drops a tensor's pages from the resident set once it has been converted.
  void release(const TensorInfo& t) const;

 private:
  void parse();
  std::string path_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string, Value> kv_;
  std::vector<std::string> key_order_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Dequantises `n_blocks` blocks of a quantised type (Q8_0, Q4_0, Q4_1) from `src` into `dst`
// (32 floats a block). Exposed for tests of the block layouts.
void dequantize_blocks(GgmlType type, const uint8_t* src, int64_t n_blocks, float* dst);
// IEEE half and bfloat16 bit patterns to float.
float half_to_float(uint16_t h);
float bf16_to_float(uint16_t h);

// True when `path` names a regular file that starts with the GGUF magic.
bool looks_like_gguf(const std::string& path);

}  // namespace lb::gguf
