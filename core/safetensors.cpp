// safetensors reader and writer; see safetensors.h. The reader trusts nothing in the file: the
// header length, every offset, shape and dtype are checked before a byte of tensor data is read.
#include "core/safetensors.h"

#include "core/json_io.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lb::safetensors {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the format's own limit (100 MB)

struct DtypeInfo {
  const char* code;
  torch::ScalarType type;
};
const DtypeInfo kDtypes[] = {
    {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
    {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
    {"U8", torch::kUInt8},    {"BOOL", torch::kBool},
};

InputError bad(const std::string& source, const std::string& what) {
  return InputError(source + ": not a valid safetensors file: " + what +
                    "; the file is truncated or corrupt, re-create it (or restore it from a copy)");
}

uint64_t read_u64_le(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void append_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool host_is_little_endian() {
  const uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// CRC-32 (zlib's) of a file's contents: each tensor's name, dtype code, shape and bytes, in data
// order, then every metadata entry but the checksum's own, in key order. Independent of the JSON
// layout of the header, so any conforming rewrite of the header keeps it.
class ContentCrc {
 public:
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const Bytef*>(p);
    while (n > 0) {  // crc32 takes a uInt length
      const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      crc_ = crc32(crc_, b, chunk);
      b += chunk;
      n -= chunk;
    }
  }
  void text(const std::string& s) { bytes(s.data(), s.size() + 1); }  // with its terminating NUL
  void tensor(const std::string& name, const torch::Tensor& t) {  // t: CPU, contiguous
    text(name);
    text(dtype_code(t.scalar_type()));
    std::string shape;
    for (int64_t d : t.sizes()) shape += std::to_string(d) + ",";
    text(shape);
    bytes(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
  }
  void metadata(const std::map<std::string, std::string>& meta) {
    for (const auto& [k, v] : meta) {
      if (k == kChecksumKey) continue;
      text(k);
      text(v);
    }
  }
  std::string hex() const {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08lx", static_cast<unsigned long>(crc_));
    return buf;
  }

 private:
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

// A NaN or infinity in a floating-point tensor is an error naming the tensor.
void check_finite(const std::string& source, const std::string& name, const torch::Tensor& t) {
  if (!t.is_floating_point() || t.numel() == 0) return;
  const torch::Tensor finite = torch::isfinite(t);
  if (finite.all().item<bool>()) return;
  const int64_t bad_values = t.numel() - finite.sum().item<int64_t>();
  throw InputError(source + ": tensor '" + name + "' holds " + std::to_string(bad_values) + " NaN or infinite value" +
                   (bad_values == 1 ? "" : "s") + " of " + std::to_string(t.numel()) +
                   "; the file is corrupt or was saved from a diverged model: re-create it (or restore it from a copy)");
}

}  // namespace

const torch::Tensor* TensorFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

const char* dtype_code(torch::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d.code;
  throw std::invalid_argument(std::string("safetensors: unsupported tensor dtype ") + c10::toString(t));
}

bool dtype_from_code(const std::string& code, torch::ScalarType* out) {
  for (const auto& d : kDtypes)
    if (code == d.code) {
      *out = d.type;
      return true;
    }
  return false;
}

std::string serialize(const TensorFile& file) {
  if (!host_is_little_endian()) throw std::runtime_error("safetensors: big-endian hosts are not supported");
  nlohmann::json header = nlohmann::json::object();
  std::vector<torch::Tensor> data;
  data.reserve(file.tensors.size());
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t0] : file.tensors) {
    if (name == "__metadata__" || name.empty())
      throw std::invalid_argument("safetensors: invalid tensor name '" + name + "'");
    if (!seen.insert(name).second) throw std::invalid_argument("safetensors: duplicate tensor name '" + name + "'");
    if (!t0.defined()) throw std::invalid_argument("safetensors: tensor '" + name + "' is undefined");
    torch::Tensor t = t0.detach().to(torch::kCPU).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_code(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    data.push_back(t);
  }
  ContentCrc crc;
  for (size_t i = 0; i < data.size(); ++i) crc.tensor(file.tensors[i].first, data[i]);
  crc.metadata(file.metadata);
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : file.metadata) meta[k] = v;
  meta[kChecksumKey] = crc.hex();
  header["__metadata__"] = meta;
  std::string head = header.dump();
  while ((8 + head.size()) % 8 != 0) head.push_back(' ');
  std::string out;
  out.reserve(8 + head.size() + offset);
  append_u64_le(out, head.size());
  out += head;
  for (const auto& t : data) {
    const size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (nbytes) out.append(static_cast<const char*>(t.data_ptr()), nbytes);
  }
  return out;
}

Header parse_header(const char* bytes, uint64_t size, const std::string& source) {
  if (!host_is_little_endian()) throw std::runtime_error("safetensors: big-endian hosts are not supported");
  if (size < 8) throw bad(source, "the file has " + std::to_string(size) + " bytes, fewer than the 8-byte header length");
  const uint64_t header_len = read_u64_le(bytes);
  if (header_len > kMaxHeaderBytes)
    throw bad(source, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  if (header_len > size - 8)
    throw bad(source, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                          std::to_string(size) + " bytes)");
  const std::string head(bytes + 8, header_len);
  nlohmann::json header;
  // A name given twice would silently keep one of the tensors (the JSON parser keeps the last):
  // reject it, at the top level (tensor names) and inside __metadata__.
  std::string duplicate;
  std::vector<std::set<std::string>> keys;
  auto unique_keys = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) keys.emplace_back();
    else if (event == Event::object_end && !keys.empty()) keys.pop_back();
    else if (event == Event::key && depth <= 2 && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
             duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  try {
    header = nlohmann::json::parse(head, unique_keys);
  } catch (const nlohmann::json::exception& e) {
    throw bad(source, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!duplicate.empty())
    throw bad(source, "the header names '" + duplicate + "' twice; each tensor and metadata key must appear once");
  if (!header.is_object()) throw bad(source, "header is not a JSON object");

  const uint64_t data_len = size - 8 - header_len;
  Header out;
  out.data_offset = 8 + header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) throw bad(source, "__metadata__ is not an object of strings");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (!m.value().is_string()) throw bad(source, "__metadata__ value of '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (name.empty()) throw bad(source, "a tensor with an empty name; every tensor needs a name");
    const std::string where = "tensor '" + name + "'";
    if (!e.is_object()) throw bad(source, where + " has no {dtype, shape, data_offsets} entry");
    auto dt = e.find("dtype");
    auto sh = e.find("shape");
    auto off = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string()) throw bad(source, where + " has no string 'dtype'");
    torch::ScalarType type;
    if (!dtype_from_code(dt->get<std::string>(), &type))
      throw bad(source, where + " has unsupported dtype '" + dt->get<std::string>() + "'");
    if (sh == e.end() || !sh->is_array()) throw bad(source, where + " has no 'shape' list");
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
        throw bad(source, where + " has a shape entry that is not a non-negative integer: " + d.dump());
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim)
        throw bad(source, where + " has an absurd shape " + sh->dump());
      numel *= dim;
      shape.push_back(static_cast<int64_t>(dim));
    }
    if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      throw bad(source, where + " has no 'data_offsets' pair of non-negative integers");
    const uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
    const uint64_t elem = c10::elementSize(type);
    if (begin > end || end > data_len)
      throw bad(source, where + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                            "] outside the " + std::to_string(data_len) + " data bytes");
    if (end - begin != numel * elem)
      throw bad(source, where + " has data_offsets covering " + std::to_string(end - begin) + " bytes, but shape " +
                            sh->dump() + " of " + dt->get<std::string>() + " needs " + std::to_string(numel * elem));
    out.entries.push_back(TensorEntry{name, type, std::move(shape), begin, end});
  }
  // The data must be covered exactly once, without holes or overlaps.
  // The JSON object does not keep its key order: entries are listed in the order of their data.
  std::stable_sort(out.entries.begin(), out.entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  for (const auto& s : out.entries) {
    if (s.begin < pos) throw bad(source, "tensor '" + s.name + "' overlaps the data of another tensor");
    if (s.begin > pos) throw bad(source, "a hole of unused bytes before tensor '" + s.name + "'");
    pos = s.end;
  }
  if (pos != data_len)
    throw bad(source, std::to_string(data_len - pos) + " bytes of data after the last tensor (a header that lies)");
  return out;
}

const TensorEntry* Header::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

TensorFile parse(const std::string& bytes, const std::string& source) {
  const Header header = parse_header(bytes.data(), bytes.size(), source);
  const char* data = bytes.data() + header.data_offset;
  TensorFile out;
  out.metadata = header.metadata;
  for (const auto& e : header.entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), data + e.begin, e.end - e.begin);
    out.tensors.emplace_back(e.name, t);
  }
  auto stored = out.metadata.find(kChecksumKey);
  if (stored != out.metadata.end()) {
    ContentCrc crc;
    for (const auto& [name, t] : out.tensors) crc.tensor(name, t);
    crc.metadata(out.metadata);
    if (crc.hex() != stored->second)
      throw bad(source, std::string("checksum mismatch (") + kChecksumKey + " is '" + stored->second +
                            "', the contents give '" + crc.hex() + "': flipped bits or a partial overwrite)");
    out.metadata.erase(stored);
    out.checksum_verified = true;
  }
  for (const auto& [name, t] : out.tensors) check_finite(source, name, t);
  return out;
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot open (" + std::strerror(errno) + "); check the path");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw InputError(path + ": cannot stat (" + std::strerror(err) + ")");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw InputError(path + ": cannot memory-map (" + std::strerror(err) + ")");
    }
    base_ = static_cast<const char*>(p);
  }
  ::close(fd);  // the mapping keeps the file open
  try {
    header_ = parse_header(base_ ? base_ : "", size_, path);
  } catch (...) {
    if (base_) ::munmap(const_cast<char*>(base_), size_);
    throw;
  }
}

MappedFile::~MappedFile() {
  if (base_) ::munmap(const_cast<char*>(base_), size_);
}

torch::Tensor MappedFile::view(const TensorEntry& e) const {
  void* p = const_cast<char*>(base_ + header_.data_offset + e.begin);
  if (e.end == e.begin) return torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
  return torch::from_blob(p, e.shape, torch::TensorOptions().dtype(e.dtype));
}

void MappedFile::release(const TensorEntry& e) const {
  if (!base_ || e.end == e.begin) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t first = header_.data_offset + e.begin, last = header_.data_offset + e.end;
  const uint64_t from = (first + page - 1) / page * page, to = last / page * page;  // whole pages inside
  if (to > from) ::madvise(const_cast<char*>(base_) + from, to - from, MADV_DONTNEED);
}

void save_file(const std::string& path, const TensorFile& file) { write_file_atomic(path, serialize(file)); }

TensorFile load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (" + std::strerror(errno) + "); check the path");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw InputError(path + ": read error; check the disk and the file");
  return parse(buf.str(), path);
}

void save_module(const std::string& path, const torch::nn::Module& module,
                 const std::map<std::string, std::string>& metadata) {
  TensorFile f;
  f.metadata = metadata;
  for (const auto& p : module.named_parameters(true)) f.add(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) f.add(b.key(), b.value());
  save_file(path, f);
}

std::map<std::string, std::string> load_module(const std::string& path, torch::nn::Module& module) {
  TensorFile f = load_file(path);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (destination, source)
  std::set<std::string> wanted;
  auto check = [&](const std::string& name, const torch::Tensor& dst) {
    wanted.insert(name);
    const torch::Tensor* src = f.find(name);
    if (!src) throw InputError(path + ": tensor '" + name + "' of the model is missing; the file holds another model");
    if (src->sizes() != dst.sizes())
      throw InputError(path + ": tensor '" + name + "' has shape " + c10::str(src->sizes()) + ", the model expects " +
                       c10::str(dst.sizes()) + "; the file holds a model of another size");
    if (src->scalar_type() != dst.scalar_type() &&
        !(src->is_floating_point() && dst.is_floating_point()))
      throw InputError(path + ": tensor '" + name + "' has dtype " + c10::toString(src->scalar_type()) +
                       ", the model expects " + c10::toString(dst.scalar_type()));
    copies.emplace_back(dst, *src);
  };
  for (const auto& p : module.named_parameters(true)) check(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) check(b.key(), b.value());
  for (const auto& [name, t] : f.tensors)
    if (!wanted.count(name))
      throw InputError(path + ": tensor '" + name + "' is not part of the model; the file holds another model");
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src);
  return f.metadata;
}

}  // namespace lb::safetensors
