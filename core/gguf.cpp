// GGUF reader: a bounds-checked cursor over the mapped header, metadata and tensor infos, and the
// dequantisation of the supported tensor types.
#include "core/gguf.h"

#include "core/json_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lb::gguf {

namespace {

constexpr uint64_t kMaxDims = 4;       // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 4;      // nested arrays deeper than this are not a real file

struct TypeTraits {
  uint32_t id;
  const char* name;
  int64_t block;   // weights per block
  int64_t bytes;   // bytes per block
};
// ggml's type table (gguf-py's GGML_QUANT_SIZES): sizes of every type, so that tensors of types
// that cannot be dequantised still have their data ranges checked.
const TypeTraits kTypes[] = {
    {0, "F32", 1, 4},          {1, "F16", 1, 2},         {2, "Q4_0", 32, 18},       {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},       {7, "Q5_1", 32, 24},      {8, "Q8_0", 32, 34},       {9, "Q8_1", 32, 40},
    {10, "Q2_K", 256, 84},     {11, "Q3_K", 256, 110},   {12, "Q4_K", 256, 144},    {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},    {15, "Q8_K", 256, 292},   {16, "IQ2_XXS", 256, 66},  {17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98},  {19, "IQ1_S", 256, 50},   {20, "IQ4_NL", 32, 18},    {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},    {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},          {25, "I16", 1, 2},
    {26, "I32", 1, 4},         {27, "I64", 1, 8},        {28, "F64", 1, 8},         {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},        {34, "TQ1_0", 256, 54},   {35, "TQ2_0", 256, 66},    {39, "MXFP4", 32, 17},
};

const TypeTraits* traits(uint32_t id) {
  for (const auto& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

std::string known_type_names() {
  std::string s;
  for (const auto& t : kTypes) s += (s.empty() ? "" : ", ") + std::string(t.name);
  return s;
}

// Reads little-endian values from [pos, end) of the mapping; running past the end is an InputError
// saying what was being read.
class Cursor {
 public:
  Cursor(const uint8_t* base, uint64_t size, const std::string& path) : base_(base), size_(size), path_(path) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  [[noreturn]] void truncated(const std::string& what) const {
    throw InputError(path_ + ": truncated GGUF file: " + what + " at byte " + std::to_string(pos_) +
                     " runs past the end of the file (" + std::to_string(size_) +
                     " bytes); the file is incomplete, download or copy it again");
  }
  void need(uint64_t n, const std::string& what) const {
    if (n > left()) truncated(what);
  }
  template <class T> T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string string(const std::string& what) {
    const uint64_t n = read<uint64_t>(what + " (its length)");
    need(n, what + " (" + std::to_string(n) + " bytes)");
    std::string s(reinterpret_cast<const char*>(base_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* base_;
  uint64_t size_;
  const std::string& path_;
  uint64_t pos_ = 0;
};

// Bytes one element of a scalar type takes (0 for STRING / ARRAY, whose sizes vary).
uint64_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    default: return 0;
  }
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

Value read_value(Cursor& c, ValueType type, const std::string& what, const std::string& path, int depth) {
  Value v;
  v.type = type;
  switch (type) {
    case ValueType::UINT8: v.u = c.read<uint8_t>(what); break;
    case ValueType::INT8: v.i = c.read<int8_t>(what); break;
    case ValueType::UINT16: v.u = c.read<uint16_t>(what); break;
    case ValueType::INT16: v.i = c.read<int16_t>(what); break;
    case ValueType::UINT32: v.u = c.read<uint32_t>(what); break;
    case ValueType::INT32: v.i = c.read<int32_t>(what); break;
    case ValueType::UINT64: v.u = c.read<uint64_t>(what); break;
    case ValueType::INT64: v.i = c.read<int64_t>(what); break;
    case ValueType::FLOAT32: v.f = c.read<float>(what); break;
    case ValueType::FLOAT64: v.f = c.read<double>(what); break;
    case ValueType::BOOL: {
      const uint8_t b = c.read<uint8_t>(what);
      if (b > 1) throw InputError(path + ": " + what + " is a bool stored as " + std::to_string(b) + "; must be 0 or 1");
      v.b = b == 1;
      break;
    }
    case ValueType::STRING: v.s = c.string(what); break;
    case ValueType::ARRAY: {
      if (depth >= kMaxArrayDepth)
        throw InputError(path + ": " + what + " nests arrays deeper than " + std::to_string(kMaxArrayDepth) + " levels");
      const uint32_t et = c.read<uint32_t>(what + " (array element type)");
      if (!valid_value_type(et))
        throw InputError(path + ": " + what + " is an array of unknown value type " + std::to_string(et) +
                         "; GGUF value types are 0-12");
      v.array_type = static_cast<ValueType>(et);
      const uint64_t n = c.read<uint64_t>(what + " (array length)");
      // Every element takes at least one byte (a string at least eight): a count larger than what
      // is left is a truncated or corrupt file, caught before anything is allocated.
      const uint64_t min_size = v.array_type == ValueType::STRING ? 8 : v.array_type == ValueType::ARRAY ? 12
                                                                                                         : scalar_size(v.array_type);
      if (n > c.left() / min_size) c.truncated(what + " (an array of " + std::to_string(n) + " elements)");
      v.items.reserve(n);
      for (uint64_t k = 0; k < n; ++k)
        v.items.push_back(read_value(c, v.array_type, what + "[" + std::to_string(k) + "]", path, depth + 1));
      break;
    }
  }
  if (type == ValueType::UINT8 || type == ValueType::UINT16 || type == ValueType::UINT32 || type == ValueType::UINT64) {
    if (v.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) v.i = static_cast<int64_t>(v.u);
  } else if (v.is_integer()) {
    v.u = static_cast<uint64_t>(v.i);
  }
  return v;
}

}  // namespace

const char* value_type_name(ValueType t) {
  static const char* names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                "bool",  "string", "array", "uint64", "int64", "float64"};
  const auto i = static_cast<uint32_t>(t);
  return i < 13 ? names[i] : "unknown";
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64: return true;
    default: return false;
  }
}

const char* ggml_type_name(uint32_t type) {
  const TypeTraits* t = traits(type);
  return t ? t->name : nullptr;
}

bool ggml_type_supported(GgmlType t) {
  switch (t) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16:
    case GgmlType::Q8_0: case GgmlType::Q4_0: case GgmlType::Q4_1: return true;
    default: return false;
  }
}

const char* supported_types() { return "F32, F16, BF16, Q8_0, Q4_0, Q4_1"; }

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;  // inf / nan
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void dequantize_blocks(GgmlType type, const uint8_t* src, int64_t n_blocks, float* dst) {
  auto half_at = [](const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return half_to_float(h);
  };
  switch (type) {
    case GgmlType::Q8_0:
      for (int64_t b = 0; b < n_blocks; ++b, src += 34, dst += 32) {
        const float d = half_at(src);
        const auto* q = reinterpret_cast<const int8_t*>(src + 2);
        for (int j = 0; j < 32; ++j) dst[j] = d * static_cast<float>(q[j]);
      }
      return;
    case GgmlType::Q4_0:
      for (int64_t b = 0; b < n_blocks; ++b, src += 18, dst += 32) {
        const float d = half_at(src);
        const uint8_t* qs = src + 2;
        for (int j = 0; j < 16; ++j) {
          dst[j] = d * static_cast<float>((qs[j] & 0x0f) - 8);
          dst[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
        }
      }
      return;
    case GgmlType::Q4_1:
      for (int64_t b = 0; b < n_blocks; ++b, src += 20, dst += 32) {
        const float d = half_at(src), m = half_at(src + 2);
        const uint8_t* qs = src + 4;
        for (int j = 0; j < 16; ++j) {
          dst[j] = d * static_cast<float>(qs[j] & 0x0f) + m;
          dst[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
        }
      }
      return;
    default:
      throw std::invalid_argument(std::string("dequantize_blocks: not a supported quantised type: ") +
                                  ggml_type_name(static_cast<uint32_t>(type)));
  }
}

File::File(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot open (" + std::strerror(errno) + "); check the path");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    throw InputError(path + ": not a readable regular file (" + std::strerror(err) + "); give the .gguf file itself");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw InputError(path + ": cannot memory-map (" + std::strerror(err) + ")");
    }
    base_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps the file open
  try {
    parse();
  } catch (...) {
    if (base_) ::munmap(const_cast<uint8_t*>(base_), size_);
    base_ = nullptr;
    throw;
  }
}

File::~File() {
  if (base_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

void File::parse() {
  static const uint8_t empty = 0;
  Cursor c(base_ ? base_ : &empty, size_, path_);
  if (size_ < 4 || std::memcmp(base_, "GGUF", 4) != 0) {
    std::string got;
    for (uint64_t k = 0; k < std::min<uint64_t>(size_, 4); ++k) {
      const char ch = static_cast<char>(base_[k]);
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(base_[k]));
      got += (ch >= 32 && ch < 127) ? std::string(1, ch) : std::string(hex);
    }
    throw InputError(path_ + ": not a GGUF file (the first bytes are '" + got +
                     "', a GGUF file starts with 'GGUF'); give a llama.cpp .gguf checkpoint");
  }
  c.read<uint32_t>("magic");
  version_ = c.read<uint32_t>("the version");
  if (version_ != 2 && version_ != 3) {
    const bool big_endian = version_ == 0x02000000u || version_ == 0x03000000u;
    throw InputError(path_ + ": GGUF version " + std::to_string(version_) +
                     (big_endian ? " (a big-endian file)" : "") +
                     " is not supported; supported: 2 and 3, little-endian (what llama.cpp's converters write)");
  }
  const uint64_t n_tensors = c.read<uint64_t>("the tensor count");
  const uint64_t n_kv = c.read<uint64_t>("the metadata count");
  // Each metadata entry takes at least 12 bytes, each tensor info at least 24: larger counts
  // cannot fit in the file.
  if (n_kv > c.left() / 12) c.truncated("the metadata (" + std::to_string(n_kv) + " entries)");
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string what = "metadata entry " + std::to_string(k);
    std::string key = c.string(what + " (its key)");
    const uint32_t type = c.read<uint32_t>("the type of metadata key '" + key + "'");
    if (!valid_value_type(type))
      throw InputError(path_ + ": metadata key '" + key + "' has unknown value type " + std::to_string(type) +
                       "; GGUF value types are 0-12 (uint8 ... float64)");
    Value v = read_value(c, static_cast<ValueType>(type), "metadata key '" + key + "'", path_, 0);
    if (kv_.count(key)) throw InputError(path_ + ": metadata key '" + key + "' appears twice; the file is corrupt");
    key_order_.push_back(key);
    kv_.emplace(std::move(key), std::move(v));
  }
  if (const Value* a = find("general.alignment")) {
    if (!a->is_integer() || a->u == 0 || a->u > (1u << 30) || (a->u & (a->u - 1)) != 0)
      throw InputError(path_ + ": metadata key 'general.alignment' is " +
                       (a->is_integer() ? std::to_string(a->u) : std::string("a ") + value_type_name(a->type)) +
                       "; it must be a power of two (llama.cpp's default: 32)");
    alignment_ = a->u;
  }
  if (n_tensors > c.left() / 24) c.truncated("the tensor infos (" + std::to_string(n_tensors) + " tensors)");
  tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.name = c.string("tensor info " + std::to_string(k) + " (its name)");
    const std::string what = "tensor '" + t.name + "'";
    const uint32_t nd = c.read<uint32_t>(what + " (its dimension count)");
    if (nd == 0 || nd > kMaxDims)
      throw InputError(path_ + ": " + what + " has " + std::to_string(nd) + " dimensions; GGUF tensors have 1 to 4");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      const uint64_t n = c.read<uint64_t>(what + " (dimension " + std::to_string(d) + ")");
      if (n == 0 || n > (uint64_t{1} << 40) || numel > (uint64_t{1} << 50) / n)
        throw InputError(path_ + ": " + what + " has dimension " + std::to_string(d) + " = " + std::to_string(n) +
                         "; the file is corrupt");
      numel *= n;
      t.dims.push_back(static_cast<int64_t>(n));
    }
    const uint32_t type = c.read<uint32_t>(what + " (its type)");
    const TypeTraits* tr = traits(type);
    if (!tr)
      throw InputError(path_ + ": " + what + " has unknown ggml type " + std::to_string(type) + "; known types: " +
                       known_type_names() + " (dequantised: " + supported_types() + ")");
    t.type = static_cast<GgmlType>(type);
    if (t.dims[0] % tr->block != 0)
      throw InputError(path_ + ": " + what + " of type " + tr->name + " has rows of " + std::to_string(t.dims[0]) +
                       " weights, not a multiple of its block size " + std::to_string(tr->block));
    t.bytes = numel / static_cast<uint64_t>(tr->block) * static_cast<uint64_t>(tr->bytes);
    t.offset = c.read<uint64_t>(what + " (its data offset)");
    if (t.offset % alignment_ != 0)
      throw InputError(path_ + ": " + what + " starts at data offset " + std::to_string(t.offset) +
                       ", not a multiple of the alignment " + std::to_string(alignment_) + "; the file is corrupt");
    if (tensor_index_.count(t.name)) throw InputError(path_ + ": " + what + " appears twice; the file is corrupt");
    tensor_index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }
  data_offset_ = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  const uint64_t data_size = size_ >= data_offset_ ? size_ - data_offset_ : 0;
  for (const auto& t : tensors_) {
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      throw InputError(path_ + ": tensor '" + t.name + "' (" + ggml_type_name(static_cast<uint32_t>(t.type)) + ", " +
                       std::to_string(t.bytes) + " bytes at data offset " + std::to_string(t.offset) +
                       ") lies outside the file, whose data section holds " + std::to_string(data_size) +
                       " bytes; the file is truncated or corrupt, download or copy it again");
  }
}

const Value* File::find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

int64_t File::get_int(const std::string& key, std::optional<int64_t> def) const {
  const Value* v = find(key);
  if (!v) {
    if (!def) throw InputError(path_ + ": metadata key '" + key + "' is missing; llama.cpp's converter writes it");
    return *def;
  }
  if (!v->is_integer())
    throw InputError(path_ + ": metadata key '" + key + "' is a " + value_type_name(v->type) + ", expected an integer");
  if (v->i < 0 || (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) &&
                   (v->type == ValueType::UINT64)))
    throw InputError(path_ + ": metadata key '" + key + "' is negative or too large (" +
                     (v->type == ValueType::UINT64 ? std::to_string(v->u) : std::to_string(v->i)) + ")");
  return v->i;
}

double File::get_float(const std::string& key, std::optional<double> def) const {
  const Value* v = find(key);
  if (!v) {
    if (!def) throw InputError(path_ + ": metadata key '" + key + "' is missing; llama.cpp's converter writes it");
    return *def;
  }
  if (v->type == ValueType::FLOAT32 || v->type == ValueType::FLOAT64) return v->f;
  if (v->is_integer()) return static_cast<double>(v->i);
  throw InputError(path_ + ": metadata key '" + key + "' is a " + value_type_name(v->type) + ", expected a number");
}

std::string File::get_string(const std::string& key, std::optional<std::string> def) const {
  const Value* v = find(key);
  if (!v) {
    if (!def) throw InputError(path_ + ": metadata key '" + key + "' is missing");
    return *def;
  }
  if (v->type != ValueType::STRING)
    throw InputError(path_ + ": metadata key '" + key + "' is a " + value_type_name(v->type) + ", expected a string");
  return v->s;
}

bool File::get_bool(const std::string& key, std::optional<bool> def) const {
  const Value* v = find(key);
  if (!v) {
    if (!def) throw InputError(path_ + ": metadata key '" + key + "' is missing");
    return *def;
  }
  if (v->type != ValueType::BOOL)
    throw InputError(path_ + ": metadata key '" + key + "' is a " + value_type_name(v->type) + ", expected a bool");
  return v->b;
}

std::vector<std::string> File::get_string_array(const std::string& key) const {
  const Value* v = find(key);
  if (!v) throw InputError(path_ + ": metadata key '" + key + "' is missing");
  if (v->type != ValueType::ARRAY || v->array_type != ValueType::STRING)
    throw InputError(path_ + ": metadata key '" + key + "' is a " + value_type_name(v->type) +
                     (v->type == ValueType::ARRAY ? std::string(" of ") + value_type_name(v->array_type) : "") +
                     ", expected an array of strings");
  std::vector<std::string> out;
  out.reserve(v->items.size());
  for (const auto& x : v->items) out.push_back(x.s);
  return out;
}

std::vector<int64_t> File::get_int_array(const std::string& key) const {
  const Value* v = find(key);
  if (!v) throw InputError(path_ + ": metadata key '" + key + "' is missing");
  const bool ok = v->type == ValueType::ARRAY && (v->items.empty() || v->items[0].is_integer());
  if (!ok)
    throw InputError(path_ + ": metadata key '" + key + "' is a " + value_type_name(v->type) +
                     (v->type == ValueType::ARRAY ? std::string(" of ") + value_type_name(v->array_type) : "") +
                     ", expected an array of integers");
  std::vector<int64_t> out;
  out.reserve(v->items.size());
  for (const auto& x : v->items) out.push_back(x.i);
  return out;
}

const uint8_t* File::data(const TensorInfo& t) const { return base_ + data_offset_ + t.offset; }

void File::release(const TensorInfo& t) const {
  if (!base_ || t.bytes == 0) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t first = data_offset_ + t.offset, last = first + t.bytes;
  const uint64_t from = (first + page - 1) / page * page, to = last / page * page;  // whole pages inside
  if (to > from) ::madvise(const_cast<uint8_t*>(base_) + from, to - from, MADV_DONTNEED);
}

void File::dequantize_into(const TensorInfo& t, int64_t begin, int64_t end, float* dst) const {
  if (!ggml_type_supported(t.type))
    throw InputError(path_ + ": tensor '" + t.name + "' has type " + ggml_type_name(static_cast<uint32_t>(t.type)) +
                     ", which leadbench cannot dequantise; supported: " + supported_types() +
                     " (re-quantise the model with llama.cpp's llama-quantize to one of them, e.g. Q8_0)");
  const bool quantised = t.type == GgmlType::Q8_0 || t.type == GgmlType::Q4_0 || t.type == GgmlType::Q4_1;
  if (begin < 0 || end > t.numel() || begin > end || (quantised && (begin % kQuantBlock || end % kQuantBlock)))
    throw std::invalid_argument("gguf::File::dequantize_into: bad range [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") of tensor " + t.name);
  const uint8_t* src = data(t);
  switch (t.type) {
    case GgmlType::F32:
      std::memcpy(dst, src + 4 * begin, static_cast<size_t>(end - begin) * 4);
      break;
    case GgmlType::F16:
    case GgmlType::BF16:
      for (int64_t k = begin; k < end; ++k) {
        uint16_t h;
        std::memcpy(&h, src + 2 * k, 2);
        dst[k - begin] = t.type == GgmlType::F16 ? half_to_float(h) : bf16_to_float(h);
      }
      break;
    default: {
      const int64_t block_bytes = traits(static_cast<uint32_t>(t.type))->bytes;
      dequantize_blocks(t.type, src + begin / kQuantBlock * block_bytes, (end - begin) / kQuantBlock, dst);
    }
  }
}

std::vector<float> File::dequantize(const TensorInfo& t) const {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  dequantize_into(t, 0, t.numel(), out.data());
  return out;
}

bool looks_like_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace lb::gguf
